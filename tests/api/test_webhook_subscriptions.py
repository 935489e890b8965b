"""One subscription read, changed and pinged; the events documented in the OpenAPI `webhooks`
section; LOYALTY_WEBHOOK_SECRET as the secret of subscriptions made without one."""

from __future__ import annotations

import base64

import pytest

from loyalty import create_app
from loyalty.config import Config
from loyalty.scheduler import run_job
from loyalty.webhooks.outbox import EVENTS
from tests.api.test_tiers import LADDER
from tests.api.test_webhooks import Receiver
from tests.clock import today
from tests.conftest import make_config
from tests.factories import create_member, post_order


@pytest.fixture
def hook(client, auth, httpserver):
    holder: dict = {}
    receiver = Receiver(httpserver, holder)
    made = client.post(
        "/v1/webhooks", json={"url": httpserver.url_for("/hook"), "events": ["member.created"]}, headers=auth()
    )
    holder.update(made.get_json())
    receiver.subscription = made.get_json()
    return receiver


def deliver(db, config):
    return run_job("webhooks.deliver", db=db, config=config, as_of=today())


def test_one_subscription_is_read_without_its_secret(client, auth, hook):
    sub = hook.subscription
    got = client.get(f"/v1/webhooks/{sub['id']}", headers=auth())
    assert got.status_code == 200
    assert {k: got.get_json()[k] for k in ("id", "url", "events", "active", "secret")} == {
        "id": sub["id"],
        "url": sub["url"],
        "events": ["member.created"],
        "active": True,
        "secret": None,
    }
    assert client.get("/v1/webhooks/whk_nope", headers=auth()).status_code == 404
    assert client.get(f"/v1/webhooks/{sub['id']}", headers=auth("staff")).status_code == 403


def test_a_ping_is_sent_now_signed_and_reports_the_answer(client, auth, hook):
    answer = client.post(f"/v1/webhooks/{hook.subscription['id']}/ping", headers=auth())
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["delivered"] is True and body["status_code"] == 204 and body["error"] is None
    [request] = hook.requests
    assert request["verified"] and request["id"] == body["webhook_id"]
    assert request["body"]["type"] == "ping" and request["body"]["data"] == {"subscription_id": hook.subscription["id"]}
    hook.answers = [503]
    body = client.post(f"/v1/webhooks/{hook.subscription['id']}/ping", headers=auth()).get_json()
    assert body["delivered"] is False and body["status_code"] == 503
    assert client.post("/v1/webhooks/whk_nope/ping", headers=auth()).status_code == 404


def test_a_rotated_secret_is_shown_once_and_signs_from_then_on(client, auth, hook):
    sub_id = hook.subscription["id"]
    rotated = client.patch(f"/v1/webhooks/{sub_id}", json={"rotate_secret": True}, headers=auth()).get_json()
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != hook.subscription["secret"]
    client.post(f"/v1/webhooks/{sub_id}/ping", headers=auth())
    assert hook.requests[-1]["verified"] is False  # the receiver still holds the old one
    hook.secret_holder["secret"] = rotated["secret"]
    client.post(f"/v1/webhooks/{sub_id}/ping", headers=auth())
    assert hook.requests[-1]["verified"] is True
    own = "whsec_" + base64.b64encode(b"o" * 32).decode()
    changed = client.patch(f"/v1/webhooks/{sub_id}", json={"secret": own}, headers=auth()).get_json()
    assert changed["secret"] is None
    hook.secret_holder["secret"] = own
    client.post(f"/v1/webhooks/{sub_id}/ping", headers=auth())
    assert hook.requests[-1]["verified"] is True
    for bad in ({"secret": own, "rotate_secret": True}, {"secret": "whsec_short"}):
        response = client.patch(f"/v1/webhooks/{sub_id}", json=bad, headers=auth())
        assert response.status_code == 422 and "secret" in response.get_json()["errors"]


def test_events_and_url_change_and_a_paused_subscription_gets_nothing(client, auth, hook, httpserver, db, config):
    sub_id = hook.subscription["id"]
    changed = client.patch(
        f"/v1/webhooks/{sub_id}", json={"events": ["tier.changed", "member.created"]}, headers=auth()
    )
    assert changed.status_code == 200 and changed.get_json()["events"] == ["member.created", "tier.changed"]
    hook.answers = [500]
    create_member(client, auth)
    assert deliver(db, config)["retrying"] == 1
    paused = client.patch(f"/v1/webhooks/{sub_id}", json={"active": False}, headers=auth()).get_json()
    assert paused["active"] is False and paused["disabled_reason"]
    log = client.get(f"/v1/webhooks/{sub_id}/deliveries", headers=auth()).get_json()["data"]
    assert [d["status"] for d in log] == ["dead"]  # what was pending is not sent later in a burst
    create_member(client, auth)
    deliver(db, config)
    assert len(hook.requests) == 1
    resumed = client.patch(f"/v1/webhooks/{sub_id}", json={"active": True}, headers=auth()).get_json()
    assert resumed["active"] is True and resumed["disabled_reason"] is None
    member = create_member(client, auth)
    deliver(db, config)
    assert [r["body"]["data"]["member_id"] for r in hook.requests[1:]] == [member["id"]]
    moved = client.patch(f"/v1/webhooks/{sub_id}", json={"url": httpserver.url_for("/hook") + "?v=2"}, headers=auth())
    assert moved.status_code == 200 and moved.get_json()["url"].endswith("?v=2")
    assert client.patch("/v1/webhooks/whk_nope", json={"active": True}, headers=auth()).status_code == 404
    bad = client.patch(f"/v1/webhooks/{sub_id}", json={"url": "ftp://x.example/"}, headers=auth())
    assert bad.status_code == 422 and "url" in bad.get_json()["errors"]


def test_every_event_is_described_in_the_openapi_webhooks_section(client, auth, hook, db, config):
    spec = client.get("/openapi.json").get_json()
    assert set(spec["webhooks"]) == set(EVENTS) | {"ping"}
    schemas = spec["components"]["schemas"]
    for event_type, item in spec["webhooks"].items():
        operation = item["post"]
        assert operation["summary"] and operation["operationId"].startswith("webhook_")
        assert {p["name"] for p in operation["parameters"]} == {"webhook-id", "webhook-timestamp", "webhook-signature"}
        envelope = schemas[operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]]
        assert envelope["properties"]["type"]["const"] == event_type
    # What is really sent has the documented fields, no more and no fewer.
    client.patch(
        f"/v1/webhooks/{hook.subscription['id']}", json={"events": ["member.created", "tier.changed"]}, headers=auth()
    )
    client.put("/v1/tiers", json={"tiers": LADDER}, headers=auth())
    member = create_member(client, auth)
    post_order(client, auth, member["id"], "big", "9000")
    deliver(db, config)
    sent = {r["body"]["type"]: r["body"]["data"] for r in hook.requests}
    assert set(sent) == {"member.created", "tier.changed"}
    for event_type, data in sent.items():
        name = spec["webhooks"][event_type]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        documented = schemas[schemas[name.split("/")[-1]]["properties"]["data"]["$ref"].split("/")[-1]]
        assert set(data) == set(documented["properties"]), event_type


SHOP_SECRET = "whsec_" + base64.b64encode(b"s" * 32).decode()


def test_the_configured_secret_signs_subscriptions_made_without_one(database_url, db, auth, httpserver):
    config = make_config(database_url, webhook_secret=SHOP_SECRET)
    client = create_app(config, database=db).test_client()
    receiver = Receiver(httpserver, {"secret": SHOP_SECRET})
    made = client.post(
        "/v1/webhooks", json={"url": httpserver.url_for("/hook"), "events": ["member.created"]}, headers=auth()
    )
    assert made.status_code == 201 and made.get_json()["secret"] is None  # the operator has it already
    create_member(client, auth)
    deliver(db, config)
    assert [r["verified"] for r in receiver.requests] == [True]


def test_a_configured_secret_that_is_not_one_fails_at_start(monkeypatch):
    with pytest.raises(ValueError, match="LOYALTY_WEBHOOK_SECRET"):
        Config(webhook_secret="not-a-secret")
    monkeypatch.setenv("LOYALTY_WEBHOOK_SECRET", SHOP_SECRET)
    assert Config.from_env().webhook_secret == SHOP_SECRET
    with pytest.raises(ValueError, match="ATTEMPT_SECONDS"):
        Config(webhook_attempt_seconds=60)
