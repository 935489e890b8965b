"""The one low door events go through: `emit` writes in the caller's transaction and knows no feature.

An event's id is its place in the order subscribers receive events (see delivery.claim). Ids sort
by the millisecond they were made in, but many events share one (an enrolment and the first order's
points, a batch job's statement) and then the random part would decide. So each new id is made to
sort after the last id the writing transaction can see: after its own earlier events, and after
every event committed before it wrote (on PostgreSQL each statement sees what was committed before
it; on SQLite the writer holds the write lock). Only events of transactions writing at the same
time are left unordered between them, as no commit order exists for them yet. No sequence column
is needed: the primary key's index answers "is any id at or after this one?" and `max(id)` with one
probe each, and a single event asks the first in the statement that writes it.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import ReturningInsert

from loyalty.core.db import utcnow
from loyalty.core.ids import after, following, new_id
from loyalty.core.prepared_statement import PreparedStatement
from loyalty.core.rowsets import rowset, rowset_values
from loyalty.webhooks.models import Attempt, Delivery, OutboxEvent

EVENTS = (
    "member.created",
    "order.points_awarded",
    "points.expiring",
    "tier.changed",
    "redemption.captured",
    "referral.qualified",
    "touch.due",
    "campaign.finished",
)

_INSERT = insert(OutboxEvent)
_LAST = select(func.max(OutboxEvent.id))
_EVENTS = cast(Table, OutboxEvent.__table__)
_COLUMNS = ("id", "type", "occurred_at", "data", "member_id")


def announce_statement(prefix: str = "") -> ReturningInsert[Any]:
    """The event written only if its id sorts after every id the statement sees (returning the id;
    nothing when it doesn't, and then `emit` writes it). Values bound by column name after `prefix`,
    so a caller can run it with other statements in one round trip (checkout, as a CTE)."""
    names = [prefix + name for name in _COLUMNS]
    return (
        insert(_EVENTS)
        .from_select(
            _COLUMNS,
            select(*[bindparam(n, type_=_EVENTS.c[c].type) for n, c in zip(names, _COLUMNS)]).where(
                # The last id, not "no id at or after this one": max() is one probe at the end of the
                # primary key whatever the plan, while the prepared statement's generic plan costed
                # the NOT EXISTS as a sequential scan expected to stop early; it never did (no id
                # sorts after a new one), so every order read the whole outbox.
                func.coalesce(_LAST.scalar_subquery(), "") < bindparam(prefix + "id", type_=_EVENTS.c.id.type)
            ),
        )
        .returning(_EVENTS.c.id)
    )


_INSERT_IF_LAST = PreparedStatement(announce_statement())
# Stepping past the last id by a random amount, not by one: two transactions writing at the same
# time both see the same last id, and must not both take the id right after it.
_STEP = 2**40
_HISTORY = "webhooks.history"  # session.info key: this session replays history (see `replaying_history`)


def replaying_history(session: Session) -> None:
    """Events of this session are not written: it replays a shop's past (`loyalty import orders`),
    and receivers would take years-old awards and tier changes for news. Explicit and per session,
    so nothing else can go quiet by accident; the session's end ends it."""
    session.info[_HISTORY] = True


def _quiet(session: Session) -> bool:
    return bool(session.info.get(_HISTORY))


_SCALARS = (str, int, bool, float, type(None))


def _plain(value: Any) -> Any:
    """Event data as JSON will carry it: instants in ISO 8601, money as decimal strings."""
    if type(value) in _SCALARS:  # most of it: asked first, as a batch job's events are many
        return value
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _about(data: dict) -> str | None:
    """The member an event is about (a referral's referee), kept in its own indexed column."""
    member_id = data.get("member_id") or data.get("referee_id")
    return member_id if isinstance(member_id, str) else None


def _ordered_ids(session: Session, count: int) -> list[str]:
    """`count` new event ids, in the order given, each after the last id this transaction sees.
    The first is made now; the others step past it by random amounts (made in the same moment,
    they would mostly have had to step past the one before anyway)."""
    last = session.connection().execute(_LAST).scalar()
    first = new_id("evt")
    if last is not None and first <= last:
        first = after(last, by=1 + secrets.randbelow(_STEP))
    return [first, *following(first, [1 + secrets.randbelow(_STEP) for _ in range(count - 1)])]


def announcing(session: Session) -> bool:
    """Whether this session's events are written at all (not while it replays history)."""
    return not _quiet(session)


def announce_params(event_type: str, data: dict, *, at: datetime | None = None, prefix: str = "") -> dict[str, Any]:
    """The values of `announce_statement(prefix)` for a new event, its id made now."""
    if event_type not in EVENTS:
        raise ValueError(f"Unknown event type {event_type!r}")
    event = {
        "id": new_id("evt"),
        "type": event_type,
        "occurred_at": at or utcnow(),
        "data": _plain(data),
        "member_id": _about(data),
    }
    return {prefix + name: value for name, value in event.items()} if prefix else event


def withdraw(session: Session, event_id: str) -> None:
    """Take back an event this transaction wrote (to write it again later in the order of events):
    no one has seen it, as deliveries are made only from committed events."""
    session.connection().execute(delete(OutboxEvent).where(OutboxEvent.id == event_id))


def emit(session: Session, event_type: str, data: dict, *, at: datetime | None = None) -> str:
    if _quiet(session):
        if event_type not in EVENTS:
            raise ValueError(f"Unknown event type {event_type!r}")
        return new_id("evt")  # history: nothing to send (the id is still one no event has)
    event = announce_params(event_type, data, at=at)
    connection = session.connection()
    # Mostly the id made now already sorts after every id this transaction sees: then one statement
    # checks that and writes (a round trip less on the checkout path). Else as `_ordered_ids` says.
    if _INSERT_IF_LAST.first(connection, event) is None:
        (event["id"],) = _ordered_ids(session, 1)
        connection.execute(_INSERT, event)
    return event["id"]


def emit_many(session: Session, event_type: str, rows: list[dict], *, at: datetime | None = None) -> None:
    """One statement for a batch job's events."""
    if event_type not in EVENTS:
        raise ValueError(f"Unknown event type {event_type!r}")
    if rows and not _quiet(session):
        occurred_at = at or utcnow()
        _insert_many(
            session,
            [
                {
                    "id": event_id,
                    "type": event_type,
                    "occurred_at": occurred_at,
                    "data": _plain(data),
                    "member_id": _about(data),
                }
                for event_id, data in zip(_ordered_ids(session, len(rows)), rows)
            ],
        )


def _insert_many(session: Session, events: list[dict]) -> None:
    """On PostgreSQL the events go as one document (loyalty/core/rowsets.py): an executemany there
    is still one INSERT per event for the server to run."""
    if session.get_bind().dialect.name != "postgresql":
        session.connection().execute(_INSERT, events)
        return
    given = rowset(_EVENTS, _COLUMNS)
    statement = insert(_EVENTS).from_select(_COLUMNS, select(*[given.c[n] for n in _COLUMNS]))
    session.connection().execute(statement, rowset_values(_COLUMNS, events))


ERASED = {"erased": True}  # what an erased member's events carry instead of their data


def forget_member(session: Session, member_id: str) -> None:
    """Erasure: the member's events keep only their id, deliveries still waiting are dropped
    (a replay is refused, see service.replay), and what receivers answered about them is cleared."""
    events = select(OutboxEvent.id).where(OutboxEvent.member_id == member_id).scalar_subquery()
    deliveries = select(Delivery.id).where(Delivery.event_id.in_(events)).scalar_subquery()
    session.execute(
        update(OutboxEvent)
        .where(OutboxEvent.member_id == member_id)
        .values(data={"member_id": member_id, **ERASED})
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Delivery)
        .where(Delivery.event_id.in_(events), Delivery.status == "pending")
        .values(status="dead", next_attempt_at=None, claimed_until=None)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Delivery)
        .where(Delivery.event_id.in_(events))
        .values(last_error="member erased")
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Attempt)
        .where(Attempt.delivery_id.in_(deliveries))
        .values(error=None, response_excerpt=None)
        .execution_options(synchronize_session=False)
    )
