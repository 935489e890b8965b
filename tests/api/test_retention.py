"""Retention: outbox events and their delivery log go after LOYALTY_EVENT_RETENTION_DAYS (the
events.purge job), except what is still waiting to be sent."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from sqlalchemy import func, select
from werkzeug import Response

from loyalty.config import Config
from loyalty.scheduler import JOBS, run_job
from loyalty.webhooks.models import Attempt, Delivery, OutboxEvent
from tests.clock import NOW
from tests.factories import create_member, post_order


def subscribe(client, auth, httpserver, path: str, status: int, events: list[str]) -> None:
    httpserver.expect_request(path, method="POST").respond_with_handler(lambda request: Response(status=status))
    response = client.post("/v1/webhooks", json={"url": httpserver.url_for(path), "events": events}, headers=auth())
    assert response.status_code == 201, response.get_json()


def run_at(db, config, name: str, at):
    with time_machine.travel(at, tick=False):
        return run_job(name, db=db, config=config, as_of=at.date())


def kept(db) -> dict[str, int]:
    with db.unit_of_work() as session:
        return {
            "events": session.scalar(select(func.count()).select_from(OutboxEvent)),
            "deliveries": session.scalar(select(func.count()).select_from(Delivery)),
            "attempts": session.scalar(select(func.count()).select_from(Attempt)),
            "types": sorted(session.scalars(select(OutboxEvent.type))),
        }


def test_old_finished_events_and_their_log_are_purged_pending_and_recent_ones_kept(
    client, auth, db, config, httpserver
):
    assert Config().event_retention_days == 30 and "events.purge" in JOBS
    subscribe(client, auth, httpserver, "/ok", 204, ["member.created"])
    subscribe(client, auth, httpserver, "/down", 500, ["order.points_awarded"])
    old = create_member(client, auth)
    post_order(client, auth, old["id"], "o-1")
    run_at(db, config, "webhooks.deliver", NOW + timedelta(minutes=1))  # delivered; the order's retrying
    with time_machine.travel(NOW + timedelta(days=29)):
        create_member(client, auth)  # not fanned out yet either
    before = kept(db)
    assert before["events"] == 3 and (before["deliveries"], before["attempts"]) == (2, 2), before

    assert run_at(db, config, "events.purge", NOW + timedelta(days=29, hours=2)) == {"events": 0}  # not yet 30 days
    assert run_at(db, config, "events.purge", NOW + timedelta(days=31)) == {"events": 1}
    after = kept(db)
    # The old member.created went with its delivery and attempt; the order's event waits for its
    # pending delivery; the recent member.created stays.
    assert after["types"] == ["member.created", "order.points_awarded"], after
    assert (after["deliveries"], after["attempts"]) == (1, 1), after
    assert run_at(db, config, "events.purge", NOW + timedelta(days=31)) == {"events": 0}  # safe to run twice


def test_the_retention_is_configurable(client, auth, db, config, httpserver):
    subscribe(client, auth, httpserver, "/ok", 204, ["member.created"])
    create_member(client, auth)
    run_at(db, config, "webhooks.deliver", NOW + timedelta(minutes=1))
    longer = config.with_(event_retention_days=90)
    assert run_at(db, longer, "events.purge", NOW + timedelta(days=60)) == {"events": 0}
    assert run_at(db, longer, "events.purge", NOW + timedelta(days=91)) == {"events": 1}
    assert kept(db)["events"] == 0
