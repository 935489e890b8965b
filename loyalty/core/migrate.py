"""Alembic, driven from code: `loyalty db upgrade` and the /readyz check."""

from __future__ import annotations

from functools import lru_cache

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from loyalty.config import PROJECT_ROOT

MIGRATIONS = PROJECT_ROOT / "migrations"


def alembic_config(url: str) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


@lru_cache(maxsize=1)
def head_revisions() -> frozenset[str]:
    return frozenset(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


def current_revisions(engine: Engine) -> frozenset[str]:
    """The revisions the database is at, read from Alembic's table directly: opening a migration context
    would log Alembic's plain-text "Context impl ..." lines on every /readyz probe."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return frozenset()
        return frozenset(connection.scalars(text("SELECT version_num FROM alembic_version")))


def is_current(engine: Engine) -> bool:
    return current_revisions(engine) == head_revisions()


@lru_cache(maxsize=1)
def _known_revisions() -> frozenset[str]:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return frozenset(revision.revision for revision in script.walk_revisions())


def schema_state(current: frozenset[str]) -> str:
    """`current`, `behind` (this code needs `loyalty db upgrade`), or `ahead`: a newer release migrated
    the database first, as a rolling upgrade does. Migrations only expand while old code still runs
    (DEPLOY.md), so this code keeps serving an `ahead` database."""
    if current == head_revisions():
        return "current"
    if current and not current & _known_revisions():
        return "ahead"
    return "behind"


def new_revision(message: str) -> None:
    """Autogenerate a revision against a scratch SQLite database at the current head."""
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{scratch}/head.sqlite3"
        upgrade(url)
        command.revision(alembic_config(url), message=message, autogenerate=True)
