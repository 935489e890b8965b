"""The `loyalty` command."""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, ParamSpec, TypeVar

import click
from sqlalchemy.exc import OperationalError, ProgrammingError

from loyalty.config import PROJECT_ROOT, Config
from loyalty.core.auth import ROLES

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from loyalty.core.db import Database

_Params = ParamSpec("_Params")
_Result = TypeVar("_Result")


def _config() -> Config:
    return Config.from_env()


@contextlib.contextmanager
def _database(config: Config) -> Iterator[Database]:
    from loyalty.core.db import Database

    database = Database.from_config(config)
    try:
        yield database
    finally:
        database.dispose()


@contextlib.contextmanager
def _unit_of_work() -> Iterator[Session]:
    with _database(_config()) as database, database.unit_of_work() as session:
        yield session


def _needs_schema(func: Callable[_Params, _Result]) -> Callable[_Params, _Result]:
    """Turn "no such table" into advice instead of a traceback."""

    @functools.wraps(func)
    def wrapper(*args: _Params.args, **kwargs: _Params.kwargs) -> _Result:
        try:
            return func(*args, **kwargs)
        except (OperationalError, ProgrammingError) as error:
            raise click.ClickException(
                f"database error ({type(error.orig).__name__}); is the database reachable and migrated? "
                "Run `loyalty db upgrade`."
            ) from None

    return wrapper


@click.group()
def main() -> None:
    """Loyalty service operations."""
    from loyalty.wiring import wire

    wire()


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply Alembic migrations up to the newest, then make sure the program row exists."""
    from loyalty.core.migrate import upgrade
    from loyalty.program.service import ensure_program

    config = _config()
    upgrade(config.database_url)
    with _database(config) as database, database.unit_of_work() as session:
        ensure_program(
            session, currency=config.program_currency, timezone=config.program_timezone, country=config.program_country
        )
    click.echo("database is at the newest revision")


@db.command("revision")
@click.option("-m", "--message", required=True)
def db_revision(message: str) -> None:
    """(development) Write a new migration from the models' changes; review it before committing."""
    from loyalty.core.migrate import new_revision

    new_revision(message)


@main.group()
def keys() -> None:
    """API keys (only their hashes are stored)."""


def _expiry(days: int | None, at: datetime | None) -> datetime | None:
    from datetime import UTC, timedelta

    from loyalty.core.db import utcnow

    if days is not None and at is not None:
        raise click.UsageError("give --expires-in-days or --expires-at, not both")
    if days is not None:
        return utcnow() + timedelta(days=days)
    if at is not None:  # a bare date or a time without offset is read as UTC
        return at if at.tzinfo else at.replace(tzinfo=UTC)
    return None


@keys.command("create")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--name", required=True, help="Who or what uses the key, e.g. 'shop-frontend'.")
@click.option("--expires-in-days", type=click.IntRange(min=1), help="The key stops working after this many days.")
@click.option(
    "--expires-at",
    type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S%z"]),
    help="The key stops working at this time (UTC unless an offset is given).",
)
@_needs_schema
def keys_create(role: str, name: str, expires_in_days: int | None, expires_at: datetime | None) -> None:
    """Create a key and print it on the last line (it is shown only once)."""
    from loyalty.audit.service import record
    from loyalty.core.auth import create_key

    with _unit_of_work() as session:
        try:
            row, key = create_key(session, role=role, name=name, expires_at=_expiry(expires_in_days, expires_at))
        except ValueError as error:
            raise click.BadParameter(str(error)) from None
        record(
            session,
            actor=None,
            action="keys.create",
            target=row.prefix,
            fields=["role", "name"] + (["expires_at"] if row.expires_at else []),
        )
    until = f", expires {row.expires_at:%Y-%m-%d %H:%M} UTC" if row.expires_at else ""
    click.echo(f"created {row.role} key {row.prefix} ({row.name}{until}); store it now, it is not shown again:")
    click.echo(key)


@keys.command("rotate")
@click.argument("prefix")
@click.option(
    "--grace-hours",
    type=click.FloatRange(min=0),
    default=24.0,
    show_default=True,
    help="How long the old key keeps working.",
)
@_needs_schema
def keys_rotate(prefix: str, grace_hours: float) -> None:
    """Replace a key (same role and name); the new key is printed on the last line."""
    from datetime import timedelta

    from loyalty.audit.service import record
    from loyalty.core.auth import rotate_key

    with _unit_of_work() as session:
        rotated = rotate_key(session, prefix, grace=timedelta(hours=grace_hours))
        if rotated is None:
            raise click.ClickException(f"no active key with prefix {prefix!r}")
        old, new, key = rotated
        record(session, actor=None, action="keys.rotate", target=old.prefix, fields=["expires_at"])
        record(session, actor=None, action="keys.create", target=new.prefix, fields=["role", "name"])
    click.echo(f"{old.prefix} keeps working until {old.expires_at:%Y-%m-%d %H:%M} UTC")
    click.echo(f"created {new.role} key {new.prefix} ({new.name}); store it now, it is not shown again:")
    click.echo(key)


@keys.command("list")
@_needs_schema
def keys_list() -> None:
    """List keys: prefix, role, name, created, expires, revoked."""
    from loyalty.core.auth import list_keys

    with _unit_of_work() as session:
        rows = list_keys(session)
    click.echo(f"{'prefix':10} {'role':11} {'created':17} {'expires':17} {'revoked':17} name")
    for row in rows:
        expires = f"{row.expires_at:%Y-%m-%d %H:%M}" if row.expires_at else "-"
        revoked = f"{row.revoked_at:%Y-%m-%d %H:%M}" if row.revoked_at else "-"
        click.echo(
            f"{row.prefix:10} {row.role:11} {row.created_at:%Y-%m-%d %H:%M}  {expires:17} {revoked:17} {row.name}"
        )


@keys.command("revoke")
@click.argument("prefix")
@_needs_schema
def keys_revoke(prefix: str) -> None:
    """Revoke the key with this prefix (active workers notice within the key cache time)."""
    from loyalty.audit.service import record
    from loyalty.core.auth import revoke_key

    with _unit_of_work() as session:
        done = revoke_key(session, prefix)
        if done:
            record(session, actor=None, action="keys.revoke", target=prefix, fields=["revoked_at"])
    if not done:
        raise click.ClickException(f"no active key with prefix {prefix!r}")
    click.echo(f"revoked {prefix}")


@main.command("demo")
@click.option(
    "--admin-key-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Keep a demo admin key in this file and print it (reused while it works).",
)
@_needs_schema
def demo(admin_key_file: Path | None) -> None:
    """Load the demo program (tiers, rules, members) into an empty database, once."""
    from loyalty.demo import ensure_admin_key, load_demo

    with _database(_config()) as database:
        with database.unit_of_work() as session:
            summary = load_demo(session)
        click.echo(summary)
        if admin_key_file:
            key = ensure_admin_key(database, admin_key_file)
            click.echo(f"admin API key (also in {admin_key_file}):")
            click.echo(key)


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--with-scheduler",
    is_flag=True,
    help="Also run `loyalty scheduler` as a child process; Ctrl-C or SIGTERM stops both.",
)
@click.option(
    "--every-seconds",
    type=click.FloatRange(0.5, 86400),
    default=None,
    help="With --with-scheduler: fire every job every N seconds instead of on its schedule (demos).",
)
def serve(host: str, port: int, with_scheduler: bool, every_seconds: float | None) -> None:
    """Development server (production: gunicorn wsgi:app, and `loyalty scheduler` as its own process)."""
    import logging

    from loyalty import create_app
    from loyalty.core.logging import get_logger

    if every_seconds and not with_scheduler:
        raise click.BadParameter("only with --with-scheduler", param_hint="--every-seconds")
    app = create_app()
    # The development server's access log prints query strings, which can hold emails and
    # phone numbers; the app's own request log (JSON, no personal data) covers each request.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    # Flask's plain-text banner (" * Serving Flask app") would be the only non-JSON lines in the log;
    # the app logs where it serves itself.
    import flask.cli

    flask.cli.show_server_banner = lambda *_args, **_kwargs: None
    get_logger("loyalty.serve").info("serving", host=host, port=port, with_scheduler=with_scheduler)
    if not with_scheduler:
        app.run(host=host, port=port, threaded=True)
        return
    from loyalty.devserver import serve_with_scheduler

    serve_with_scheduler(lambda: app.run(host=host, port=port, threaded=True), every_seconds=every_seconds)


@main.group()
def jobs() -> None:
    """Scheduled jobs, run once by hand."""


@jobs.command("list")
def jobs_list() -> None:
    """The registered jobs and their schedules."""
    from loyalty.scheduler import JOBS

    for job in JOBS.values():
        click.echo(f"{job.name:22} {job.schedule:14} {job.description}")


@jobs.command("run")
@click.argument("name")
@click.option(
    "--as-of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Run as of this date (YYYY-MM-DD): today in the program's time zone or earlier.",
)
@_needs_schema
def jobs_run(name: str, as_of: datetime | None) -> None:
    """Run one job now, or as of a past date; prints counts (or that there was nothing to do), shows
    progress on a terminal, exits non-zero on failure. A date after today is refused (exit 2)."""
    import time
    from zoneinfo import ZoneInfo

    from loyalty.core.jobs import future_refusal, summary_line
    from loyalty.core.logging import configure_logging
    from loyalty.core.progress import Progress
    from loyalty.program.service import settings
    from loyalty.scheduler import JOBS, run_job

    if name not in JOBS:
        raise click.BadParameter(f"unknown job {name!r}; one of: {', '.join(JOBS)}", param_hint="NAME")
    config = _config()
    configure_logging(config.log_level, config.log_json)
    with _database(config) as database:
        with database.unit_of_work() as session:  # today where the program is, not where the host is
            zone = settings(session).timezone
        today = datetime.now(ZoneInfo(zone)).date()
        day = as_of.date() if as_of else today
        if not date(2000, 1, 1) <= day <= date(2999, 12, 31):
            raise click.BadParameter("must be between 2000-01-01 and 2999-12-31", param_hint="--as-of")
        refusal = future_refusal(day, today=today, zone=zone)
        if refusal:
            raise click.BadParameter(refusal, param_hint="--as-of")
        progress, started = Progress(name), time.monotonic()
        try:
            counts = run_job(name, db=database, config=config, as_of=day, progress=progress)
        finally:
            progress.close()
    click.echo(summary_line(JOBS[name], day, counts, time.monotonic() - started))


@main.group("import")
def import_() -> None:
    """Bring a shop's history in from CSV files (see the README's "Importing a shop's history")."""


def _import(kind: str, file: Path, rejects: Path | None) -> None:
    from loyalty.imports.run import run

    code = run(kind, file, rejects_path=rejects, config=_config(), out=sys.stdout, err=sys.stderr)
    sys.exit(code)


# Both imports take the same file argument and reject-file option.
_rejects = click.option(
    "--rejects",
    type=click.Path(path_type=Path),
    default=None,
    help="Where rejected rows go (default FILE.rejects.csv): line, reason, then the row.",
)


def _file_and_rejects(command: Callable[..., None]) -> Callable[..., None]:
    return click.argument("file", type=click.Path(path_type=Path))(_rejects(command))


@import_.command("members")
@_file_and_rejects
@_needs_schema
def import_members(file: Path, rejects: Path | None) -> None:
    """Members: exit 0 all imported, 1 some rejected, 2 nothing could start."""
    _import("members", file, rejects)


@import_.command("orders")
@_file_and_rejects
@_needs_schema
def import_orders(file: Path, rejects: Path | None) -> None:
    """Orders, one row per order line: exit 0 all imported, 1 some rejected, 2 nothing could start."""
    _import("orders", file, rejects)


@main.command("check")
@_needs_schema
def check() -> None:
    """Reconcile the ledger (entries vs lots, holds, debt, duplicate sources, orders vs their entries);
    prints each check and exits 1 naming any mismatch."""
    from loyalty.reconcile import reconcile

    config = _config()
    with _database(config) as database, database.unit_of_work() as session:
        results = reconcile(session)
    for result in results:
        verdict = "ok" if result.ok else f"MISMATCH in {result.mismatches}: {', '.join(result.examples)}"
        click.echo(f"{result.name:<9} {result.checked:>10} checked  {verdict}  ({result.description})")
    broken = [result.name for result in results if not result.ok]
    if broken:
        click.echo(f"ledger check failed: {', '.join(broken)}", err=True)
        raise SystemExit(1)
    click.echo("ledger check passed: every check balanced")


@main.command()
@click.option(
    "--lease-seconds",
    type=click.FloatRange(1, 3600),
    default=30.0,
    show_default=True,
    help="How long the lease lasts unrenewed; a standby takes over after it runs out.",
)
@click.option(
    "--every-seconds",
    type=click.FloatRange(0.5, 86400),
    default=None,
    help="Fire every job every N seconds instead of on its schedule (demos and tests).",
)
@_needs_schema
def scheduler(lease_seconds: float, every_seconds: float | None) -> None:
    """Run the scheduled jobs on their schedules (program time zone) while holding the database lease."""
    from loyalty.core.logging import configure_logging
    from loyalty.devserver import stop_with_parent
    from loyalty.scheduler import Scheduler

    stop_with_parent()  # a no-op unless `loyalty serve --with-scheduler` started this process
    config = _config()
    configure_logging(config.log_level, config.log_json)
    with _database(config) as database:
        Scheduler(db=database, config=config, lease_seconds=lease_seconds, every_seconds=every_seconds).start()


@main.group()
def openapi() -> None:
    """The OpenAPI document."""


@openapi.command("write")
@click.argument(
    "path", type=click.Path(dir_okay=False, path_type=Path), default=PROJECT_ROOT / "api_spec" / "openapi.yaml"
)
def openapi_write(path: Path) -> None:
    """Write the OpenAPI document the app serves to api_spec/openapi.yaml."""
    from loyalty import create_app
    from loyalty.core.openapi import write_spec

    os.environ.setdefault("LOYALTY_DATABASE_URL", "sqlite://")
    write_spec(create_app(), path)
    click.echo(f"wrote {path}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
