"""Round trips at checkout: on one machine, the statements an order sends are most of what it costs
(issue 17). A new order on PostgreSQL is three statements between BEGIN and COMMIT: the member; the
order id gate with the account lock; the entry with its lot, the member's qualifying value and the
event (orders/award.py). These tests fail when one of the folded statements comes apart again; the
award itself is tested elsewhere (api/test_orders, integration/test_points_concurrency,
test_tier_concurrency, test_webhook_ordering).
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

import psycopg
import pytest
import time_machine
from sqlalchemy import select, text

from loyalty.webhooks import outbox
from loyalty.webhooks.models import OutboxEvent
from tests.clock import now
from tests.factories import create_member, order_payload, post_order


@contextmanager
def statements_sent():
    """Every statement given to the driver (PostgreSQL): SQLAlchemy's and those the checkout runs
    straight on the driver (core/prepared_statement.py), which SQLAlchemy's events don't see."""
    sent: list[str] = []
    send = psycopg.Cursor.execute

    def execute(cursor, query, params=None, **kwargs):
        sent.append(str(query))
        return send(cursor, query, params, **kwargs)

    psycopg.Cursor.execute = execute
    try:
        yield sent
    finally:
        psycopg.Cursor.execute = send


@pytest.mark.postgres_only
def test_a_new_order_is_three_statements_on_postgresql(client, auth, db):
    ladder = [
        {"code": "regular", "name": "Regular", "rank": 0, "threshold": "0"},
        {"code": "gold", "name": "Gold", "rank": 1, "threshold": "8000", "discount_percent": "5"},
    ]
    assert client.put("/v1/tiers", json={"tiers": ladder}, headers=auth()).status_code == 200
    member = create_member(client, auth)
    post_order(client, auth, member["id"], "warm-1")  # the member's first order: the account is made
    with statements_sent() as sent:
        order = post_order(client, auth, member["id"], "counted-2")
    assert order["points_earned"] == 100 and order["tier"] == "regular"
    # Before them, the tests' key check (no key cache here): the order's own start with the member.
    sent = sent[next(n for n, sql in enumerate(sent) if sql.startswith("SELECT members.id")) :]
    assert len(sent) == 3, [sql[:60] for sql in sent]
    assert sent[1].lstrip().startswith("WITH gate AS")  # the gate and the account lock together
    award = " ".join(sent[2].split())
    assert "INSERT INTO ledger_entries" in award and "INSERT INTO outbox_events" in award and "sum(orders." in award
    # The event checks its order as it is written, not with a read of the last id of its own.
    assert not any(sql.lstrip().startswith("SELECT max(outbox_events.id)") for sql in sent)


def account_counts(db, member_id: str) -> tuple[int, int]:
    with db.engine.connect() as connection:
        row = connection.execute(
            text("SELECT orders_count, lifetime_earned FROM point_accounts WHERE member_id = :m"), {"m": member_id}
        ).one()
    return row[0], row[1]


def test_an_order_seen_before_locks_nothing_and_awards_nothing(client, auth, db):
    member = create_member(client, auth)
    payload = order_payload(member["id"], "again-1", "100.00")
    assert client.post("/v1/orders", json=payload, headers=auth("storefront")).status_code == 201
    before = account_counts(db, member["id"])
    response = client.post("/v1/orders", json=payload, headers=auth("storefront"))
    assert response.status_code == 200
    assert account_counts(db, member["id"]) == before == (1, 100)


def test_an_event_written_after_a_later_one_still_sorts_after_it(db):
    """The clock stepped back (or another writer's id is ahead): the id made now would sort first,
    so the one-statement write refuses it and the event steps past the last id instead."""
    with time_machine.travel(now() + timedelta(hours=1), tick=False):
        with db.unit_of_work() as session:
            ahead = outbox.emit(session, "member.created", {"member_id": "mbr_ahead"})
    with db.unit_of_work() as session:
        behind = outbox.emit(session, "member.created", {"member_id": "mbr_behind"})
    assert behind > ahead
    with db.unit_of_work() as session:
        written = session.scalars(select(OutboxEvent.id).order_by(OutboxEvent.id)).all()
    assert written == [ahead, behind]
