"""GET/PATCH /v1/webhooks/{id} and its ping, where tests/api/test_webhook_subscriptions.py leaves off:
what a change does to later deliveries, what a change may not be, and pings that fail."""

from __future__ import annotations

from datetime import timedelta

import pytest

from loyalty.scheduler import run_job
from tests.api.test_webhooks import Receiver
from tests.clock import today
from tests.factories import create_member


@pytest.fixture
def hook(client, auth, httpserver):
    holder: dict = {}
    receiver = Receiver(httpserver, holder)
    made = client.post(
        "/v1/webhooks", json={"url": httpserver.url_for("/hook"), "events": ["member.created"]}, headers=auth()
    )
    assert made.status_code == 201, made.get_json()
    holder.update(made.get_json())
    receiver.subscription = made.get_json()
    return receiver


def deliver(db, config):
    return run_job("webhooks.deliver", db=db, config=config, as_of=today())


def test_a_moved_url_gets_the_delivery_still_being_retried_with_its_webhook_id(
    client, auth, hook, httpserver, db, config, pinned_clock
):
    sub_id = hook.subscription["id"]
    moved: list[str] = []
    httpserver.expect_request("/moved", method="POST").respond_with_handler(
        lambda request: moved.append(request.headers["webhook-id"]) or ""
    )
    hook.answers = [500]
    create_member(client, auth)
    assert deliver(db, config)["retrying"] == 1
    [first] = hook.requests
    changed = client.patch(f"/v1/webhooks/{sub_id}", json={"url": httpserver.url_for("/moved")}, headers=auth())
    assert changed.status_code == 200 and changed.get_json()["url"] == httpserver.url_for("/moved")
    pinned_clock.shift(timedelta(minutes=2))  # past the first retry's wait (30 s +- 20%)
    assert deliver(db, config)["delivered"] == 1
    assert moved == [first["id"]] and len(hook.requests) == 1
    assert client.get(f"/v1/webhooks/{sub_id}", headers=auth()).get_json()["url"] == httpserver.url_for("/moved")


def test_events_narrowed_are_no_longer_queued(client, auth, hook, db, config):
    sub_id = hook.subscription["id"]
    narrowed = client.patch(f"/v1/webhooks/{sub_id}", json={"events": ["tier.changed"]}, headers=auth())
    assert narrowed.status_code == 200 and narrowed.get_json()["events"] == ["tier.changed"]
    create_member(client, auth)
    assert deliver(db, config)["sent"] == 0 and hook.requests == []
    assert client.get(f"/v1/webhooks/{sub_id}/deliveries", headers=auth()).get_json()["data"] == []


def test_a_change_that_is_not_one_is_refused_and_nothing_changes(client, auth, hook):
    sub_id = hook.subscription["id"]
    before = client.get(f"/v1/webhooks/{sub_id}", headers=auth()).get_json()
    for bad, field in (
        ({"events": []}, "events"),
        ({"events": ["member.deleted"]}, "events"),
        ({"url": "http://user:pw@example.com/hook"}, "url"),
        ({"active": "maybe"}, "active"),
        ({"url": "https://example.com/ok", "secret": "whsec_short"}, "secret"),
    ):
        response = client.patch(f"/v1/webhooks/{sub_id}", json=bad, headers=auth())
        errors = response.get_json()["errors"]
        assert response.status_code == 422 and any(k.split(".")[0] == field for k in errors), (bad, errors)
    assert client.get(f"/v1/webhooks/{sub_id}", headers=auth()).get_json() == before
    unchanged = client.patch(f"/v1/webhooks/{sub_id}", json={}, headers=auth())
    assert unchanged.status_code == 200 and unchanged.get_json() == before


@pytest.mark.parametrize("role", ["staff", "storefront"])
def test_only_admins_read_change_or_ping(client, auth, hook, role):
    sub_id = hook.subscription["id"]
    assert client.patch(f"/v1/webhooks/{sub_id}", json={"active": False}, headers=auth(role)).status_code == 403
    assert client.post(f"/v1/webhooks/{sub_id}/ping", headers=auth(role)).status_code == 403
    assert hook.requests == []
    assert client.get(f"/v1/webhooks/{sub_id}", headers=auth()).get_json()["active"] is True


def test_a_deleted_subscription_is_gone_for_read_change_and_ping(client, auth, hook):
    sub_id = hook.subscription["id"]
    assert client.delete(f"/v1/webhooks/{sub_id}", headers=auth()).status_code == 204
    assert client.get(f"/v1/webhooks/{sub_id}", headers=auth()).status_code == 404
    assert client.patch(f"/v1/webhooks/{sub_id}", json={"active": True}, headers=auth()).status_code == 404
    assert client.post(f"/v1/webhooks/{sub_id}/ping", headers=auth()).status_code == 404
    assert hook.requests == []


def test_a_paused_subscription_can_be_pinged_and_a_ping_is_not_in_the_log(client, auth, hook):
    sub_id = hook.subscription["id"]
    client.patch(f"/v1/webhooks/{sub_id}", json={"active": False}, headers=auth())
    answer = client.post(f"/v1/webhooks/{sub_id}/ping", headers=auth()).get_json()
    assert answer["delivered"] is True and [r["verified"] for r in hook.requests] == [True]
    assert client.get(f"/v1/webhooks/{sub_id}/deliveries", headers=auth()).get_json()["data"] == []


def test_a_ping_nobody_answers_says_why(client, auth, hook, httpserver):
    sub_id = hook.subscription["id"]
    closed = httpserver.url_for("/hook").replace(f":{httpserver.port}/", ":9/")  # discard port: nothing listens
    client.patch(f"/v1/webhooks/{sub_id}", json={"url": closed}, headers=auth())
    answer = client.post(f"/v1/webhooks/{sub_id}/ping", headers=auth())
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["delivered"] is False and body["status_code"] is None and body["error"]
