"""The members staging table: checked rows land here first, then go in with set-based SQL.

A temporary table on the run's own connection: it costs no WAL on PostgreSQL, needs no
migration, and vanishes with the run, so an interrupted run leaves nothing to clean up (what it
committed is found again as `existing` by the next run). PostgreSQL loads it with COPY; SQLite
with executemany. Every later step is a statement over the whole table or over a chunk of it.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    insert,
    text,
)
from sqlalchemy.engine import Connection

from loyalty.core.db import UTCDateTime
from loyalty.core.ids import new_member_number

EXISTING = "existing"
# Reasons decided over the whole file, after every row was read.
DUPLICATE_IN_FILE, NUMBER_TAKEN = "duplicate_in_file", "member_number_taken"

_metadata = MetaData()
STAGING = Table(
    "import_members_staging",
    _metadata,
    Column("line", Integer, primary_key=True),
    Column("id", String(32)),
    Column("member_number", String(12)),
    Column("number_given", Boolean),
    Column("external_id", String(100)),
    Column("name", String(200)),
    Column("search_name", String(200)),
    Column("email", String(320)),
    Column("phone", String(20)),
    Column("birthday", Date),
    Column("gender", String(20)),
    Column("city", String(100)),
    Column("timezone", String(64)),
    Column("locale", String(35)),
    Column("consent", Text),
    Column("tags", Text),
    Column("enrolled_at", UTCDateTime()),
    Column("points", BigInteger),
    Column("tier_code", String(20)),
    Column("tier_earned", Boolean),
    Column("status", String(40)),  # NULL: still to go in; else imported, existing or why it was refused
    prefixes=["TEMPORARY"],
)
FIELDS = [column.name for column in STAGING.columns if column.name != "status"]
_IDENTIFIERS = ("external_id", "email", "phone")


def create(connection: Connection) -> None:
    STAGING.drop(connection, checkfirst=True)
    STAGING.create(connection)
    for name in ("member_number", *_IDENTIFIERS):
        connection.execute(text(f"CREATE INDEX ix_staging_{name} ON {STAGING.name} ({name}, line)"))


def load(connection: Connection, rows: list[tuple]) -> None:
    """Append rows (tuples in FIELDS order)."""
    if connection.dialect.name == "postgresql":
        driver = connection.connection.dbapi_connection
        assert driver is not None  # None only once the connection is closed, and this one is in use
        cursor = driver.cursor()
        with cursor.copy(f"COPY {STAGING.name} ({', '.join(FIELDS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.close()
    else:
        connection.execute(insert(STAGING), [dict(zip(FIELDS, row)) for row in rows])


def analyse(connection: Connection) -> None:
    """Autovacuum never analyses a temporary table: without statistics the planner would guess
    its size when joining it to members."""
    if connection.dialect.name == "postgresql":
        connection.execute(text(f"ANALYZE {STAGING.name}"))


def renumber_collisions(connection: Connection, *, attempts: int = 10) -> int:
    """Generated numbers are random 12-digit numbers: at a million members a few collide with each
    other, with a number a row keeps, or with a member's. Those few are drawn again (numbers a row
    keeps never change: they are on printed cards)."""
    renumbered = 0
    for _ in range(attempts):
        lines = list(connection.execute(_COLLIDING).scalars())
        if not lines:
            return renumbered
        connection.execute(
            text(f"UPDATE {STAGING.name} SET member_number = :number WHERE line = :line"),
            [{"line": line, "number": new_member_number()} for line in lines],
        )
        renumbered += len(lines)
    raise RuntimeError("member numbers kept colliding; the number space is nearly full")


_COLLIDING = text(f"""
    SELECT s.line FROM {STAGING.name} s
    WHERE NOT s.number_given AND (
        EXISTS (SELECT 1 FROM members m WHERE m.member_number = s.member_number)
        OR EXISTS (SELECT 1 FROM {STAGING.name} o WHERE o.member_number = s.member_number AND o.line <> s.line
                   AND (o.number_given OR o.line < s.line)))
""")


def mark_duplicates(connection: Connection) -> None:
    """A later row with an identifier an earlier row has is a duplicate, whatever became of the
    earlier row: the shop decides which of the two is right. Only member numbers the rows gave
    count (a generated one was made unique above)."""
    for name in ("member_number", *_IDENTIFIERS):
        kept = (" AND number_given", " AND o.number_given") if name == "member_number" else ("", "")
        connection.execute(
            text(f"""
            UPDATE {STAGING.name} SET status = '{DUPLICATE_IN_FILE}:{name}'
            WHERE status IS NULL AND {name} IS NOT NULL{kept[0]}
              AND EXISTS (SELECT 1 FROM {STAGING.name} o
                          WHERE o.{name} = {STAGING.name}.{name} AND o.line < {STAGING.name}.line{kept[1]})""")
        )


def mark_existing(connection: Connection) -> None:
    """A row matching a member by external id, email or phone changes nothing. A member number
    alone matching is that member's card (existing); with other identifiers that matched nobody it
    is someone else's number, and taking it would point a card at two people."""
    for name in _IDENTIFIERS:
        connection.execute(
            text(f"""
            UPDATE {STAGING.name} SET status = '{EXISTING}'
            WHERE status IS NULL AND {name} IS NOT NULL
              AND EXISTS (SELECT 1 FROM members m WHERE m.{name} = {STAGING.name}.{name})""")
        )
    connection.execute(
        text(f"""
        UPDATE {STAGING.name}
        SET status = CASE WHEN external_id IS NULL AND email IS NULL AND phone IS NULL
                          THEN '{EXISTING}' ELSE '{NUMBER_TAKEN}' END
        WHERE status IS NULL AND number_given
          AND EXISTS (SELECT 1 FROM members m WHERE m.member_number = {STAGING.name}.member_number)""")
    )


def chunks(connection: Connection, size: int) -> Iterator[tuple[int, int, int]]:
    """(first line, last line, rows) of the next `size` rows still to go in, in file order."""
    after = 0
    while True:
        lines = (
            connection.execute(
                text(
                    f"SELECT line FROM {STAGING.name} WHERE status IS NULL AND line > :after ORDER BY line LIMIT :size"
                ),
                {"after": after, "size": size},
            )
            .scalars()
            .all()
        )
        if not lines:
            return
        yield lines[0], lines[-1], len(lines)
        after = lines[-1]


def counts(connection: Connection) -> dict[str | None, int]:
    return dict(connection.execute(text(f"SELECT status, count(*) FROM {STAGING.name} GROUP BY status")).all())


def rejected(connection: Connection) -> Iterator[tuple[int, str]]:
    """(line, reason) of the rows refused over the whole file, in line order, streamed."""
    result = connection.execute(
        text(
            f"SELECT line, status FROM {STAGING.name} "
            f"WHERE status LIKE '{DUPLICATE_IN_FILE}%' OR status = '{NUMBER_TAKEN}' ORDER BY line"
        ),
        execution_options={"stream_results": True, "yield_per": 10_000},
    )
    yield from ((line, status) for line, status in result)


def drop(connection: Connection) -> None:
    STAGING.drop(connection, checkfirst=True)
