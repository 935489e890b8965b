"""emit_many, a batch job's events in one statement (one document on PostgreSQL, an executemany on
SQLite), stores what emit would: data as JSON carries it, the member it is about, ids in order
after the events already there."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from loyalty.webhooks import outbox
from loyalty.webhooks.models import OutboxEvent
from tests.clock import now


def test_emit_many_stores_each_event_as_json_carries_it_in_order(db):
    at = now()
    with db.unit_of_work() as session:
        first = outbox.emit(session, "member.created", {"member_id": "mbr_first"})
    rows = [
        {"member_id": "mbr_a", "when": at, "money": Decimal("1.50"), "nested": {"list": [1, "two", None]}},
        {"referee_id": "mbr_b", "text": 'quotes " and \\ backslashes, commas, {braces}', "flag": True},
        {"nobody": None},
    ]
    with db.unit_of_work() as session:
        outbox.emit_many(session, "referral.qualified", rows, at=at)
    with db.unit_of_work() as session:
        events = session.scalars(select(OutboxEvent).where(OutboxEvent.id > first).order_by(OutboxEvent.id)).all()
        assert [e.data for e in events] == [
            {"member_id": "mbr_a", "when": at.isoformat(), "money": "1.50", "nested": {"list": [1, "two", None]}},
            rows[1],
            {"nobody": None},
        ]
        assert [e.member_id for e in events] == ["mbr_a", "mbr_b", None]
        assert {(e.type, e.occurred_at, e.dispatched_at) for e in events} == {("referral.qualified", at, None)}
