"""Engine, sessions and the declarative base.

Plain SQLAlchemy (no Flask-SQLAlchemy) so that requests, jobs, the CLI and the
tests share one way to open a unit of work.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import ARRAY, DateTime, MetaData, Text, any_, bindparam, create_engine, event, exc, func
from sqlalchemy.dialects.postgresql import Insert as PostgresqlInsert
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import Insert as SqliteInsert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, CursorResult, Dialect, Engine, Result, make_url
from sqlalchemy.orm import DeclarativeBase, QueryableAttribute, Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeDecorator

from loyalty.core.errors import NotFound

if TYPE_CHECKING:  # config imports core (signing): only the type, never at run time
    from loyalty.config import Config

_Row = TypeVar("_Row")
# Either dialect's INSERT: both offer on_conflict_do_nothing / on_conflict_do_update / excluded.
DialectInsert = Callable[[Any], PostgresqlInsert | SqliteInsert]

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored in UTC and always returned timezone-aware.

    SQLite has no time zone type; without this, values read back are naive and
    comparisons with aware datetimes fail.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    # WAL lets readers work beside the one writer; the busy timeout makes a
    # second writer wait instead of failing with "database is locked".
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin_immediate(conn: Connection) -> None:
    # pysqlite's own BEGIN is deferred: two transactions that read then write
    # would deadlock into "database is locked". Taking the write lock at BEGIN
    # serialises writers, which is what SQLite can do anyway.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_query_only(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA query_only=ON")
    cursor.close()


def make_engine(
    url: str, *, read_only: bool = False, pool_size: int = 10, max_overflow: int = 20, **kwargs: Any
) -> Engine:
    """`read_only`: the engine of a read replica. Its connections refuse writes (as a hot standby
    does), so a write sent there by mistake fails loudly even when the "replica" is the primary."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"timeout": 30, "isolation_level": None}, hide_parameters=True, **kwargs
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        if read_only:  # readers need no write lock: no BEGIN IMMEDIATE
            event.listen(engine, "connect", _sqlite_query_only)
        else:
            event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    if parsed.drivername in ("postgresql", "postgres"):
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    if read_only:
        kwargs["connect_args"] = {**kwargs.get("connect_args", {}), "options": "-c default_transaction_read_only=on"}
    # Bound values are members' emails and phones: keep them out of exception messages and logs.
    kwargs.setdefault("hide_parameters", True)
    # Per process: LOYALTY_DB_POOL_SIZE + LOYALTY_DB_MAX_OVERFLOW (docs/DEPLOY.md's connection budget).
    kwargs["pool_size"], kwargs["max_overflow"] = pool_size, max_overflow
    engine = create_engine(url, **kwargs)
    event.listen(engine, "checkin", _note_idle)
    event.listen(engine, "checkout", _ping_if_idle)
    return engine


IDLE_PING_SECONDS = 10.0


def _note_idle(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    record.info["idle_since"] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: PoolProxiedConnection) -> None:
    """Pessimistic disconnect handling, but only for a connection that sat idle: a ping on every
    checkout (pool_pre_ping) is a round trip per request, a fifth of the POS lookup's time. A
    connection in steady use answered a moment ago; one idle for a while (a database restart, a
    firewall timeout) is checked, and a dead one is replaced before the request sees it."""
    since = record.info.get("idle_since")
    if since is None or time.monotonic() - since < IDLE_PING_SECONDS:
        return
    try:
        cursor = dbapi_connection.cursor()
        try:
            was_autocommit = dbapi_connection.autocommit
            dbapi_connection.autocommit = True
            cursor.execute("SELECT 1")
            dbapi_connection.autocommit = was_autocommit
        finally:
            cursor.close()
    except Exception as error:  # any failure: let the pool retry with a fresh connection
        raise exc.DisconnectionError(str(error)) from error


class Database:
    """An engine and its session factory, and the engine of an optional read replica.

    `read_url` (LOYALTY_READ_DATABASE_URL) names a replica for the reads that may lag; empty or the
    primary's own URL, and `reader()` reads the primary."""

    @classmethod
    def from_config(cls, config: Config, *, replica: bool = False) -> Database:
        """The database a process of ours opens: the pool as configured; the replica for app instances."""
        return cls(
            config.database_url,
            read_url=config.read_database_url if replica else "",
            pool_size=config.db_pool_size,
            max_overflow=config.db_max_overflow,
        )

    def __init__(self, url: str, *, read_url: str = "", **engine_kwargs: Any) -> None:
        self.engine = make_engine(url, **engine_kwargs)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.read_engine = (
            make_engine(read_url, read_only=True, **engine_kwargs) if read_url and read_url != url else self.engine
        )
        self.read_sessions = sessionmaker(self.read_engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def has_replica(self) -> bool:
        return self.read_engine is not self.engine

    @contextlib.contextmanager
    def reader(self) -> Iterator[Session]:
        """A session for reads that may lag behind the primary: never commits, so nothing written
        through it is kept (and a replica refuses writes anyway)."""
        with self.read_sessions() as session:
            try:
                yield session
            finally:
                session.rollback()

    @contextlib.contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        with self.sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
        if self.has_replica:
            self.read_engine.dispose()


def among(
    session: Session, column: QueryableAttribute[Any] | ColumnElement[Any], values: Iterable[Any]
) -> ColumnElement[bool]:
    """`column IN (values)`, sent to PostgreSQL as one array parameter: a batch job's thousands of
    bind parameters cost more to compile and send than the query costs to run. Strings (ids, the
    usual case) go as one text split by the database: psycopg writes an array element by element in
    Python, 8 ms for 5,000 ids against 1 ms for the text (a tenth of a batch job's own time)."""
    values = list(values)
    if session.get_bind().dialect.name != "postgresql":
        return column.in_(values)
    try:
        joined = ",".join(values)
    except TypeError:  # not all strings
        joined = None
    # Only when the text splits back into exactly these values: none empty, none with a comma.
    if joined is not None and "" not in values and joined.count(",") == len(values) - 1:
        return column == any_(func.string_to_array(bindparam(None, joined, type_=Text), ","))
    return column == any_(bindparam(None, values, type_=ARRAY(column.type)))


def affected_rows(result: Result[*tuple[Any, ...]]) -> int:
    """The rows an UPDATE or DELETE run through `Session.execute` matched. SQLAlchemy annotates that
    method as returning a plain Result; for DML it is a CursorResult, the one that counts rows."""
    if not isinstance(result, CursorResult):
        raise TypeError(f"not the result of an UPDATE or DELETE: {type(result).__name__}")
    return result.rowcount


def insert_for_dialect(dialect: str) -> DialectInsert:
    """The INSERT of this database, the one with `on_conflict_do_nothing` and `on_conflict_do_update`
    (SQLAlchemy's core `insert` has neither): PostgreSQL's, else SQLite's, the two we run on."""
    return postgresql_insert if dialect == "postgresql" else sqlite_insert


def insert_for(session: Session) -> DialectInsert:
    """`insert_for_dialect` of the database this session talks to."""
    return insert_for_dialect(session.get_bind().dialect.name)


def get_or_404(session: Session, model: type[_Row], key: object, *, what: str, lock: bool = False) -> _Row:
    """The row of `model` with this primary key (`lock`: SELECT ... FOR UPDATE), or NotFound
    "No {what} `{key}`.", the wording of every such 404 the API answers."""
    row = session.get(model, key, with_for_update=lock)
    if row is None:
        raise NotFound(f"No {what} `{key}`.")
    return row
