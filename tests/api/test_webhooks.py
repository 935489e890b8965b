"""Webhooks out, delivered to a real local HTTP server and verified the way a receiver would."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select
from werkzeug import Response

from loyalty.core.db import Database
from loyalty.scheduler import run_job
from loyalty.webhooks.models import Delivery
from tests.api.test_tiers import LADDER
from tests.clock import now, today
from tests.factories import create_member, post_order


class Receiver:
    """A receiver: verifies each request like a Standard Webhooks library, then answers as told."""

    def __init__(self, httpserver, secret_holder):
        self.requests: list[dict] = []
        self.answers: list[int] = []  # status codes to answer, in turn; then 204
        self.secret_holder = secret_holder
        httpserver.expect_request("/hook", method="POST").respond_with_handler(self.handle)

    def handle(self, request):
        body = request.get_data()
        msg_id, stamp = request.headers["webhook-id"], request.headers["webhook-timestamp"]
        key = base64.b64decode(self.secret_holder["secret"].removeprefix("whsec_"))
        expected = base64.b64encode(hmac.new(key, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest())
        signatures = [part.split(",", 1)[1] for part in request.headers["webhook-signature"].split()]
        verified = any(hmac.compare_digest(expected.decode(), s) for s in signatures)
        status = self.answers.pop(0) if self.answers else 204
        self.requests.append(
            {"id": msg_id, "stamp": int(stamp), "body": json.loads(body), "verified": verified, "status": status}
        )
        return Response(status=status)


@pytest.fixture
def hook(client, auth, httpserver):
    holder: dict = {}
    receiver = Receiver(httpserver, holder)
    response = client.post(
        "/v1/webhooks", json={"url": httpserver.url_for("/hook"), "events": ["tier.changed"]}, headers=auth()
    )
    assert response.status_code == 201, response.get_json()
    holder.update(response.get_json())
    receiver.subscription = response.get_json()
    return receiver


def deliver(db, config):
    return run_job("webhooks.deliver", db=db, config=config, as_of=today())


def upgrade(client, auth, order_id="big"):
    client.put("/v1/tiers", json={"tiers": LADDER}, headers=auth())
    member = create_member(client, auth)
    post_order(client, auth, member["id"], order_id, "9000")
    return member


def test_an_event_is_delivered_signed_and_only_to_subscribers_of_its_type(client, auth, hook, db, config):
    assert hook.subscription["secret"].startswith("whsec_")
    assert 24 <= len(base64.b64decode(hook.subscription["secret"][6:])) <= 64
    member = upgrade(client, auth)
    create_member(client, auth)  # member.created isn't subscribed
    counts = deliver(db, config)
    assert counts["delivered"] == 1, counts
    [request] = hook.requests
    assert request["verified"] and request["body"]["type"] == "tier.changed"
    assert request["body"]["data"]["member_id"] == member["id"] and request["body"]["data"]["to"] == "gold"
    assert abs(request["stamp"] - now().timestamp()) < 60
    assert deliver(db, config)["sent"] == 0
    log = client.get(f"/v1/webhooks/{hook.subscription['id']}/deliveries", headers=auth()).get_json()["data"]
    assert log[0]["status"] == "delivered" and log[0]["id"] == request["id"]
    assert [a["status_code"] for a in log[0]["attempts"]] == [204]


def test_a_receiver_failing_for_hours_gets_it_exactly_once_when_healthy(client, auth, hook, db, config):
    hook.answers = [500, 503, 502, 500, 500, 500]
    upgrade(client, auth)
    start = now()
    for hours in range(0, 20):
        with time_machine.travel(start + timedelta(hours=hours, minutes=1), tick=False):
            deliver(db, config)
    statuses = [r["status"] for r in hook.requests]
    assert statuses == [500, 503, 502, 500, 500, 500, 204], statuses
    assert len({r["id"] for r in hook.requests}) == 1 and all(r["verified"] for r in hook.requests)
    assert len({json.dumps(r["body"], sort_keys=True) for r in hook.requests}) == 1  # the same body every time
    stamps = [r["stamp"] for r in hook.requests]
    assert stamps == sorted(stamps) and stamps[-1] - stamps[0] >= 3600  # it backed off for hours


def test_retries_stop_after_a_day_and_a_replay_sends_it_again_with_the_same_id(client, auth, hook, db, config):
    hook.answers = [500] * 100
    upgrade(client, auth)
    start = now()
    for hours in range(0, 27):
        with time_machine.travel(start + timedelta(hours=hours, minutes=1), tick=False):
            deliver(db, config)
    log = client.get(f"/v1/webhooks/{hook.subscription['id']}/deliveries", headers=auth()).get_json()["data"]
    assert log[0]["status"] == "dead" and log[0]["attempts_made"] == len(hook.requests) >= 5
    assert max(r["stamp"] for r in hook.requests) - min(r["stamp"] for r in hook.requests) <= 24 * 3600
    hook.answers = []
    replayed = client.post(f"/v1/webhooks/deliveries/{log[0]['id']}/replay", headers=auth())
    assert replayed.status_code == 200 and replayed.get_json()["status"] == "pending"
    deliver(db, config)
    assert hook.requests[-1]["status"] == 204 and hook.requests[-1]["id"] == log[0]["id"]


def test_410_gone_disables_the_subscription(client, auth, hook, db, config):
    hook.answers = [410]
    upgrade(client, auth, "first")
    third = create_member(client, auth)
    post_order(client, auth, third["id"], "third", "9000")
    deliver(db, config)
    assert len(hook.requests) == 1  # nothing more sent in the same run
    log = client.get(f"/v1/webhooks/{hook.subscription['id']}/deliveries", headers=auth()).get_json()["data"]
    assert {d["status"] for d in log} == {"dead"}
    subscription = client.get("/v1/webhooks", headers=auth()).get_json()["data"][0]
    assert subscription["active"] is False and "410" in subscription["disabled_reason"]
    other = create_member(client, auth)
    post_order(client, auth, other["id"], "second", "9000")
    deliver(db, config)
    assert len(hook.requests) == 1
    assert client.post(f"/v1/webhooks/deliveries/{hook.requests[0]['id']}/replay", headers=auth()).status_code == 409


def test_a_new_subscription_gets_what_happens_from_then_on_not_a_backlog(client, auth, httpserver, db, config):
    upgrade(client, auth, "before")
    holder: dict = {}
    receiver = Receiver(httpserver, holder)
    holder.update(
        client.post(
            "/v1/webhooks", json={"url": httpserver.url_for("/hook"), "events": ["tier.changed"]}, headers=auth()
        ).get_json()
    )
    other = create_member(client, auth)
    post_order(client, auth, other["id"], "after", "9000")
    deliver(db, config)
    assert [r["body"]["data"]["member_id"] for r in receiver.requests] == [other["id"]]


def test_a_deleted_subscription_gets_nothing_more(client, auth, hook, db, config):
    upgrade(client, auth)
    assert client.delete(f"/v1/webhooks/{hook.subscription['id']}", headers=auth()).status_code == 204
    deliver(db, config)
    assert hook.requests == []
    assert client.get("/v1/webhooks", headers=auth()).get_json()["data"] == []
    assert client.delete(f"/v1/webhooks/{hook.subscription['id']}", headers=auth()).status_code == 404


def test_a_slow_receiver_times_out_and_is_retried(client, auth, httpserver, db, config):
    import time as real_time

    config = config.with_(webhook_attempt_seconds=0.3)
    calls = []

    def slow(request):
        calls.append(1)
        if len(calls) == 1:
            real_time.sleep(1.0)
        return Response(status=200)

    httpserver.expect_request("/slow", method="POST").respond_with_handler(slow)
    client.post("/v1/webhooks", json={"url": httpserver.url_for("/slow"), "events": ["tier.changed"]}, headers=auth())
    upgrade(client, auth)
    first = deliver(db, config)
    assert first["retrying"] == 1 and first["delivered"] == 0, first
    real_time.sleep(1.0)  # the test server answers one request at a time: let the slow one finish
    with time_machine.travel(now() + timedelta(minutes=5), tick=False):
        assert deliver(db, config)["delivered"] == 1


@pytest.mark.parametrize(
    "body, field",
    [
        ({"url": "ftp://x.example/hook", "events": ["tier.changed"]}, "url"),
        ({"url": "http://127.0.0.1/hook", "events": ["tier.exploded"]}, "events.0"),
        ({"url": "http://127.0.0.1/hook", "events": []}, "events"),
        ({"url": "http://127.0.0.1/hook", "events": ["tier.changed"], "secret": "not-a-secret"}, "secret"),
        (
            {
                "url": "http://127.0.0.1/hook",
                "events": ["tier.changed"],
                "secret": "whsec_" + base64.b64encode(b"x" * 8).decode(),
            },
            "secret",
        ),
    ],
)
def test_bad_subscriptions_are_422(client, auth, body, field):
    response = client.post("/v1/webhooks", json=body, headers=auth())
    assert response.status_code == 422 and field in response.get_json()["errors"], response.get_json()


def test_a_secret_of_ones_own_is_kept_and_not_echoed(client, auth):
    secret = "whsec_" + base64.b64encode(b"k" * 32).decode()
    response = client.post(
        "/v1/webhooks",
        json={"url": "http://127.0.0.1:9/hook", "events": ["tier.changed"], "secret": secret},
        headers=auth(),
    )
    assert response.status_code == 201 and response.get_json()["secret"] is None
    assert client.get("/v1/webhooks", headers=auth("staff")).status_code == 403


def test_two_deliverers_at_once_send_each_delivery_once(database_url, client, auth, hook, db, config):
    client.put("/v1/tiers", json={"tiers": LADDER}, headers=auth())
    for i in range(6):
        member = create_member(client, auth)
        post_order(client, auth, member["id"], f"many-{i}", "9000")

    def run():
        database = Database(database_url)
        try:
            run_job("webhooks.deliver", db=database, config=config, as_of=today())
        finally:
            database.dispose()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(r["status"] for r in hook.requests) == [204] * 6
    assert len({r["id"] for r in hook.requests}) == 6
    with db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(Delivery).where(Delivery.status == "delivered")) == 6


def test_the_messaging_gateway_receives_due_touches_signed(client, auth, httpserver, db, config):
    from tests.api.test_care import ALL_IN, dispatch, local, plan, rule

    holder: dict = {}
    gateway = Receiver(httpserver, holder)
    with time_machine.travel(datetime(2026, 9, 1, tzinfo=UTC), tick=False):  # subscribed before the touch
        holder.update(
            client.post(
                "/v1/webhooks", json={"url": httpserver.url_for("/hook"), "events": ["touch.due"]}, headers=auth()
            ).get_json()
        )
    rule(client, auth, "birthday", days_before=0, channel="email", template="Happy birthday, {{ name }}!")
    member = create_member(client, auth, name="Wang", birthday="1991-09-09", consent=ALL_IN)
    plan(db, config, date(2026, 9, 9))
    dispatch(db, config, local(date(2026, 9, 9), 11))
    deliver(db, config)
    [request] = gateway.requests
    assert request["verified"] and request["body"]["type"] == "touch.due"
    data = request["body"]["data"]
    assert (data["member_id"], data["channel"], data["to"], data["message"]) == (
        member["id"],
        "email",
        member["email"],
        "Happy birthday, Wang!",
    )


def test_every_event_of_the_contract_reaches_its_subscribers(client, auth, httpserver, db, config):
    """member.created, order.points_awarded, redemption.captured, points.expiring, tier.changed, touch.due
    and referral.qualified are each written with the change that makes them."""
    holder: dict = {}
    receiver = Receiver(httpserver, holder)
    holder.update(
        client.post(
            "/v1/webhooks",
            json={
                "url": httpserver.url_for("/hook"),
                "events": ["member.created", "order.points_awarded", "redemption.captured", "points.expiring"],
            },
            headers=auth(),
        ).get_json()
    )
    client.patch("/v1/program", json={"expiry_months": 1}, headers=auth())
    member = create_member(client, auth)
    post_order(client, auth, member["id"], "ev-1", "500")
    client.post("/v1/redemptions", json={"member_id": member["id"], "points": 10, "capture": True}, headers=auth("pos"))
    run_job("points.expire", db=db, config=config, as_of=today())
    deliver(db, config)
    kinds = sorted(r["body"]["type"] for r in receiver.requests)
    assert kinds == ["member.created", "order.points_awarded", "points.expiring", "redemption.captured"], kinds
    awarded = next(r["body"]["data"] for r in receiver.requests if r["body"]["type"] == "order.points_awarded")
    assert (awarded["order_id"], awarded["points_earned"]) == ("ev-1", 500)
    assert all(r["verified"] for r in receiver.requests)
    created = next(r["body"]["data"] for r in receiver.requests if r["body"]["type"] == "member.created")
    assert "email" not in created and created["member_id"] == member["id"]
