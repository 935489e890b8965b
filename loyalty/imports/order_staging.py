"""Staging an orders file: every line read, checked and written to `import_order_lines` (COPY on
PostgreSQL), then judged per order with a few set-based statements: already known, lines that
disagree, an order with a rejected line. Nothing is posted here."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, delete, exists, func, or_, select, text, update
from sqlalchemy import Row as ResultRow
from sqlalchemy.orm import Session, aliased

from loyalty.core.db import among
from loyalty.imports import order_rules as rules
from loyalty.imports.order_models import ImportOrderLine as Staged
from loyalty.imports.source import Row, too_wide
from loyalty.members.models import Member
from loyalty.purchases.models import Order

STAGED_COLUMNS = (
    "run",
    "staged_at",
    "line",
    "raw",
    "reason",
    "existing",
    "order_id",
    "member_id",
    "placed_at",
    "sku",
    "category",
    "quantity",
    "unit_price",
    "discount",
    "currency",
    "channel",
    "store",
    "shipping",
    "tax",
    "refunded_amount",
)
ABANDONED_AFTER = timedelta(days=1)  # a run killed mid-way leaves its staged lines; the next run clears them


def clear_abandoned(session: Session, *, now: datetime) -> None:
    session.execute(delete(Staged).where(Staged.staged_at < now - ABANDONED_AFTER))


def clear_run(session: Session, run: str) -> None:
    session.execute(delete(Staged).where(Staged.run == run))


def stage_batch(session: Session, rows: list[Row], *, run: str, now: datetime, region: str, zone: str) -> int:
    """Read, check and stage one batch of rows; the members are found with one query per kind of
    identifier. Returns how many lines were rejected on their own."""
    parsed: list[tuple[Row, rules.OrderLine | None, str | None]] = []
    for row in rows:
        try:
            if too_wide(row):
                raise rules.Rejected("too_many_cells")
            parsed.append((row, rules.parse_line(row.values, region=region, zone=zone, now=now), None))
        except rules.Rejected as rejected:
            parsed.append((row, None, rejected.code))
    # A rejected line is tied to its member too when its identifier reads, so that erasing the
    # member deletes the line (its raw cells may hold their email or phone) even from a killed run.
    identifiers = [line.identifier if line else _identifier_of(row, region) for row, line, _code in parsed]
    members = _find_members(session, [identifier for identifier in identifiers if identifier])
    records = []
    for (row, line, code), identifier in zip(parsed, identifiers):
        member_id = members.get(identifier) if identifier else None
        if line and member_id is None:
            code = "unknown_member"
        records.append(_record(row, line, code, member_id, run=run, now=now))
    _write(session, records)
    return sum(1 for record in records if record[4] is not None)


def _record(
    row: Row, line: rules.OrderLine | None, code: str | None, member_id: str | None, *, run: str, now: datetime
) -> tuple:
    """A staged row in STAGED_COLUMNS order. A rejected line keeps its order id when it had a good
    one, so the rest of its order is rejected with it."""
    order_id = line.order_id if line else _order_id_of(row)
    fields = (
        (
            line.placed_at,
            line.sku,
            line.category,
            line.quantity,
            line.unit_price,
            line.discount,
            line.currency,
            line.channel,
            line.store,
            line.shipping,
            line.tax,
            line.refunded_amount,
        )
        if line
        else (None,) * 12
    )
    return (run, now, row.line, json.dumps(row.raw, ensure_ascii=False), code, False, order_id, member_id, *fields)


def _identifier_of(row: Row, region: str) -> tuple[str, str] | None:
    try:
        return rules.identifier(row.values, region=region)
    except rules.Rejected:
        return None


def forget_member(session: Session, member_id: str) -> None:
    """Erasure: the member's staged lines go, whichever run left them (a finished run deleted its
    own already; a killed one's wait for the next run otherwise)."""
    session.execute(delete(Staged).where(Staged.member_id == member_id))


def _order_id_of(row: Row) -> str | None:
    order_id = row.values.get("order_id", "")
    return order_id if rules._ID.match(order_id) else None


def _find_members(session: Session, identifiers: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """(column, value) -> member id, for live members; a merged member's survivor takes its orders."""
    found: dict[tuple[str, str], str] = {}
    for column in rules.IDENTIFIERS:
        values = sorted({value for kind, value in identifiers if kind == column})
        if not values:
            continue
        attribute = getattr(Member, column)
        query = select(attribute, func.coalesce(Member.merged_into, Member.id)).where(among(session, attribute, values))
        found.update({(column, value): member_id for value, member_id in session.execute(query)})
    return found


def _write(session: Session, records: list[tuple]) -> None:
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        # COPY: one stream per batch instead of an INSERT's parameters per row.
        driver = connection.connection.dbapi_connection
        assert driver is not None  # None only once the connection is closed, and this one is in use
        cursor = driver.cursor()
        with cursor.copy(f"COPY import_order_lines ({', '.join(STAGED_COLUMNS)}) FROM STDIN") as copy:
            for record in records:
                copy.write_row(record)
        return
    session.execute(cast(Table, Staged.__table__).insert(), [dict(zip(STAGED_COLUMNS, record)) for record in records])


def judge(session: Session, run: str) -> None:
    """Whole orders, in set-based statements over the run's lines (each in this order):
    an order id already known is `existing`, all its lines; an order whose lines disagree on
    the member, the time or an order-level field, or has more lines than an order may, is
    rejected on every line; an order with one rejected line is rejected whole."""
    if session.get_bind().dialect.name == "postgresql":
        # Fresh statistics after the COPY: without them the planner takes the staged table for
        # empty and joins it to itself row by row.
        session.execute(text("ANALYZE import_order_lines"))
    mine = Staged.run == run
    session.execute(
        update(Staged)
        .where(mine, Staged.order_id.is_not(None), exists().where(Order.order_id == Staged.order_id))
        .values(existing=True)
        .execution_options(synchronize_session=False)
    )
    _reject_orders(session, run, "order_lines_disagree", _disagreeing)
    _reject_orders(session, run, "too_many_lines", lambda other: func.count() > rules.MAX_LINES)
    _reject_orders(session, run, "order_has_rejected_line", lambda other: func.count(other.reason) > 0, good_only=False)


def _disagreeing(other: type[Staged]) -> ColumnElement[bool]:
    # An order-level field given on one line and left empty on the others is no disagreement
    # (COUNT DISTINCT skips NULLs); two different values are.
    fields = (other.member_id, other.placed_at, *(getattr(other, name) for name in rules.ORDER_FIELDS))
    return or_(*[func.count(func.distinct(field)) > 1 for field in fields])


def _reject_orders(
    session: Session,
    run: str,
    code: str,
    having: Callable[[type[Staged]], ColumnElement[bool]],
    *,
    good_only: bool = True,
) -> None:
    """Reject every open line of the orders whose lines (the good ones, or all) satisfy `having`."""
    other = aliased(Staged)
    lines = select(other.order_id).where(other.run == run, other.order_id.is_not(None))
    if good_only:
        lines = lines.where(other.reason.is_(None))
    bad = lines.group_by(other.order_id).having(having(other)).subquery()
    session.execute(
        update(Staged)
        .where(
            Staged.run == run, Staged.existing.is_(False), Staged.reason.is_(None), Staged.order_id == bad.c.order_id
        )
        .values(reason=code)
        .execution_options(synchronize_session=False)
    )


def existing_lines(session: Session, run: str) -> int:
    return session.scalar(select(func.count()).where(Staged.run == run, Staged.existing.is_(True))) or 0


def rejected_lines(session: Session, run: str, *, after: int, limit: int) -> list[tuple[int, str, list[str]]]:
    """(line, reason, row as read) of rejected lines, in file order, a keyset page at a time."""
    rows = session.execute(
        select(Staged.line, Staged.reason, Staged.raw)
        .where(Staged.run == run, Staged.existing.is_(False), Staged.reason.is_not(None), Staged.line > after)
        .order_by(Staged.line)
        .limit(limit)
    )
    # The query keeps only lines with a reason.
    return [(line, cast(str, code), json.loads(raw)) for line, code, raw in rows]


def member_groups(session: Session, run: str, *, after: str, lines: int) -> list[str]:
    """The next members (by id) whose good lines come to about `lines`; a member is never split."""
    counts = session.execute(
        select(Staged.member_id, func.count())
        .where(Staged.run == run, Staged.existing.is_(False), Staged.reason.is_(None), Staged.member_id > after)
        .group_by(Staged.member_id)
        .order_by(Staged.member_id)
        .limit(max(1, lines // 2))
    ).all()
    chosen: list[str] = []
    total = 0
    for member_id, count in counts:
        assert member_id is not None  # `member_id > after` leaves out lines without one
        if chosen and total + count > lines:
            break
        chosen.append(member_id)
        total += count
    return chosen


def lines_of(session: Session, run: str, member_ids: list[str]) -> Sequence[ResultRow[Any]]:
    """The good lines of these members (rows, not ORM objects: they are only read), each member's
    orders in time order, an order's lines in file order."""
    return session.execute(
        select(*Staged.__table__.c)
        .where(
            Staged.run == run,
            Staged.existing.is_(False),
            Staged.reason.is_(None),
            among(session, Staged.member_id, member_ids),
        )
        .order_by(Staged.member_id, Staged.placed_at, Staged.order_id, Staged.line)
    ).all()
