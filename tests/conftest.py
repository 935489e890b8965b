"""Test fixtures: a fresh database per run (SQLite file or a new PostgreSQL database),
migrated with Alembic once, emptied between tests.

LOYALTY_TEST_DB=sqlite (default) or postgres; postgres needs LOYALTY_TEST_POSTGRES_URL.
"""

from __future__ import annotations

import os
import uuid

import pytest
import time_machine
from sqlalchemy import text
from sqlalchemy.engine import make_url

import loyalty.models  # noqa: F401
from loyalty import create_app
from loyalty.config import Config
from loyalty.core.auth import create_key
from loyalty.core.cache import clear_all
from loyalty.core.db import Base, Database
from loyalty.core.migrate import upgrade
from loyalty.program.service import ensure_program
from tests.clock import NOW

BACKEND = os.environ.get("LOYALTY_TEST_DB", "sqlite")


@pytest.fixture(autouse=True)
def pinned_clock():
    """Every test starts at the same instant (tests/clock.py), whatever the wall clock says."""
    with time_machine.travel(NOW, tick=True) as traveller:
        yield traveller


def pytest_report_header(config):
    return f"loyalty test database: {BACKEND}"


def pytest_collection_modifyitems(config, items):
    if BACKEND != "postgres":
        skip = pytest.mark.skip(reason="PostgreSQL only (LOYALTY_TEST_DB=postgres)")
        for item in items:
            if "postgres_only" in item.keywords:
                item.add_marker(skip)


def _admin_connection(url: str):
    import psycopg

    parsed = make_url(url)
    return psycopg.connect(
        host=parsed.host or "127.0.0.1",
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        password=parsed.password or None,
        dbname=parsed.database or "postgres",
        autocommit=True,
    )


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    if BACKEND == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'loyalty.sqlite3'}"
        upgrade(url)
        yield url
        return
    base = os.environ.get("LOYALTY_TEST_POSTGRES_URL")
    if not base:
        pytest.exit("LOYALTY_TEST_DB=postgres needs LOYALTY_TEST_POSTGRES_URL", returncode=2)
    name = f"loyalty_test_{uuid.uuid4().hex[:12]}"
    with _admin_connection(base) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield url
    with _admin_connection(base) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def shared_db(database_url):
    database = Database(database_url)
    yield database
    database.dispose()


def _empty(database: Database) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with database.engine.begin() as connection:
        if database.dialect == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(text(f"DELETE FROM {table}"))


@pytest.fixture
def db(shared_db):
    _empty(shared_db)
    clear_all()
    with shared_db.unit_of_work() as session:
        ensure_program(session)
    yield shared_db


def make_config(database_url: str, **changes) -> Config:
    # Webhook tests deliver to pytest-httpserver on 127.0.0.1; tests of the SSRF guard turn this off.
    base = Config(
        database_url=database_url,
        testing=True,
        log_json=True,
        rate_limit="100000 per minute",
        api_key_cache_seconds=0,
        webhook_allow_private=True,
    )
    return base.with_(**changes)


@pytest.fixture
def config(database_url):
    return make_config(database_url)


@pytest.fixture
def app(db, config):
    return create_app(config, database=db)


@pytest.fixture
def client(app):
    return app.test_client()


class Keys:
    """Bearer headers per role, created on first use."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self._keys: dict[str, str] = {}

    def key(self, role: str) -> str:
        if role not in self._keys:
            with self._database.unit_of_work() as session:
                _row, self._keys[role] = create_key(session, role=role, name=f"test {role}")
        return self._keys[role]

    def __call__(self, role: str = "admin", **extra) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key(role)}", **extra}


@pytest.fixture
def auth(db) -> Keys:
    return Keys(db)
