"""Rotating a webhook secret with a grace period (PATCH /v1/webhooks/{id} with `grace_hours`): during
it every delivery and ping carries a `v1,` signature per secret in force, so a receiver holding either
secret verifies with the Standard Webhooks library; after it, only the new secret signs."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from werkzeug import Response

from loyalty.scheduler import run_job
from tests.clock import NOW, today
from tests.factories import create_member


class Recorder:
    """A receiver that keeps each request's body and signing headers as they arrived."""

    def __init__(self, httpserver) -> None:
        self.requests: list[tuple[bytes, dict[str, str]]] = []
        httpserver.expect_request("/hook", method="POST").respond_with_handler(self.handle)

    def handle(self, request):
        self.requests.append(
            (
                request.get_data(),
                {name: request.headers[name] for name in ("webhook-id", "webhook-timestamp", "webhook-signature")},
            )
        )
        return Response(status=204)

    def verifies_with(self, secret: str, index: int = -1) -> bool:
        body, headers = self.requests[index]
        try:
            Webhook(secret).verify(body, headers)
        except WebhookVerificationError:
            return False
        return True

    def signatures(self, index: int = -1) -> int:
        return len(self.requests[index][1]["webhook-signature"].split())


@pytest.fixture
def receiver(httpserver):
    return Recorder(httpserver)


@pytest.fixture
def subscription(client, auth, httpserver, receiver) -> dict:
    made = client.post(
        "/v1/webhooks", json={"url": httpserver.url_for("/hook"), "events": ["member.created"]}, headers=auth()
    )
    assert made.status_code == 201, made.get_json()
    return made.get_json()


def deliver(db, config):
    return run_job("webhooks.deliver", db=db, config=config, as_of=today())


def rotate(client, auth, subscription_id: str, **body):
    return client.patch(f"/v1/webhooks/{subscription_id}", json={"rotate_secret": True, **body}, headers=auth())


def test_in_the_grace_period_both_secrets_verify_and_after_it_only_the_new_one(
    client, auth, subscription, receiver, db, config, pinned_clock
):
    old = subscription["secret"]
    rotated = rotate(client, auth, subscription["id"], grace_hours=24)
    assert rotated.status_code == 200, rotated.get_json()
    new = rotated.get_json()["secret"]
    assert new.startswith("whsec_") and new != old
    until = datetime.fromisoformat(rotated.get_json()["previous_secret_until"])
    assert NOW + timedelta(hours=24) <= until < NOW + timedelta(hours=24, minutes=1)  # the pinned clock ticks
    assert client.get(f"/v1/webhooks/{subscription['id']}", headers=auth()).get_json()["secret"] is None

    create_member(client, auth)
    assert deliver(db, config)["delivered"] == 1
    assert receiver.signatures() == 2
    assert receiver.verifies_with(old) and receiver.verifies_with(new)

    pinned_clock.shift(timedelta(hours=24))  # the grace period's end is outside it
    create_member(client, auth)
    assert deliver(db, config)["delivered"] == 1
    assert receiver.signatures() == 1
    assert receiver.verifies_with(new) and not receiver.verifies_with(old)
    assert client.get(f"/v1/webhooks/{subscription['id']}", headers=auth()).get_json()["previous_secret_until"] is None


def test_a_ping_in_the_grace_period_is_signed_with_both(client, auth, subscription, receiver):
    old = subscription["secret"]
    new = rotate(client, auth, subscription["id"], grace_hours=2).get_json()["secret"]
    pinged = client.post(f"/v1/webhooks/{subscription['id']}/ping", headers=auth())
    assert pinged.status_code == 200 and pinged.get_json()["delivered"] is True, pinged.get_json()
    assert receiver.signatures() == 2 and receiver.verifies_with(old) and receiver.verifies_with(new)


def test_without_a_grace_period_the_old_secret_stops_at_once(client, auth, subscription, receiver, db, config):
    old = subscription["secret"]
    rotated = rotate(client, auth, subscription["id"])
    assert rotated.status_code == 200 and rotated.get_json()["previous_secret_until"] is None
    create_member(client, auth)
    assert deliver(db, config)["delivered"] == 1
    assert receiver.signatures() == 1
    assert receiver.verifies_with(rotated.get_json()["secret"]) and not receiver.verifies_with(old)


def test_a_secret_of_ones_own_takes_a_grace_period_too(client, auth, subscription, receiver, db, config):
    mine = "whsec_" + "bXktb3duLXNlY3JldC1vZi0zMi1ieXRlcy1sb25nISE="
    changed = client.patch(
        f"/v1/webhooks/{subscription['id']}", json={"secret": mine, "grace_hours": 1}, headers=auth()
    )
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["secret"] is None  # the caller has it; it is never echoed
    create_member(client, auth)
    assert deliver(db, config)["delivered"] == 1
    assert receiver.verifies_with(mine) and receiver.verifies_with(subscription["secret"])


def test_a_second_rotation_in_the_grace_period_leaves_two_signing_not_three(
    client, auth, subscription, receiver, db, config
):
    first = subscription["secret"]
    second = rotate(client, auth, subscription["id"], grace_hours=24).get_json()["secret"]
    third = rotate(client, auth, subscription["id"], grace_hours=24).get_json()["secret"]
    create_member(client, auth)
    assert deliver(db, config)["delivered"] == 1
    assert receiver.signatures() == 2
    assert receiver.verifies_with(third) and receiver.verifies_with(second) and not receiver.verifies_with(first)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"grace_hours": 24}, "grace_hours"),  # a grace period with no new secret
        ({"rotate_secret": True, "grace_hours": -1}, "grace_hours"),
        ({"rotate_secret": True, "grace_hours": 7 * 24 + 1}, "grace_hours"),
        ({"rotate_secret": True, "grace_hours": "a day"}, "grace_hours"),
        ({"rotate_secret": True, "grace_hours": 1.5}, "grace_hours"),
        ({"rotate_secret": True, "grace_hours": True}, "grace_hours"),
        ({"rotate_secret": "yes", "grace_hours": 1}, "rotate_secret"),  # JSON true or nothing: no guessing
        ({"active": 1}, "active"),
    ],
)
def test_a_bad_grace_period_is_refused_and_nothing_changes(
    client, auth, subscription, receiver, db, config, body, field
):
    response = client.patch(f"/v1/webhooks/{subscription['id']}", json=body, headers=auth())
    assert response.status_code == 422 and field in response.get_json()["errors"], response.get_json()
    create_member(client, auth)
    assert deliver(db, config)["delivered"] == 1
    assert receiver.signatures() == 1 and receiver.verifies_with(subscription["secret"])


def test_a_retried_rotation_with_its_idempotency_key_answers_the_same_secret_and_keeps_the_grace(
    client, auth, subscription, receiver, db, config
):
    """A client whose PATCH timed out retries it: it must get the secret made the first time, and the
    original secret must keep signing, not be pushed out by a second rotation."""
    original = subscription["secret"]
    headers = auth(**{"Idempotency-Key": "rotate-1"})
    first = client.patch(
        f"/v1/webhooks/{subscription['id']}", json={"rotate_secret": True, "grace_hours": 1}, headers=headers
    )
    again = client.patch(
        f"/v1/webhooks/{subscription['id']}", json={"rotate_secret": True, "grace_hours": 1}, headers=headers
    )
    assert first.status_code == again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true" and again.get_json() == first.get_json()
    create_member(client, auth)
    assert deliver(db, config)["delivered"] == 1
    assert receiver.verifies_with(original) and receiver.verifies_with(first.get_json()["secret"])


def test_an_oversized_ping_is_refused_before_it_is_sent(client, auth, subscription, receiver, config):
    """A view that ignores its body still gets a 413 for one over the limit, and sends nothing."""
    body = b"x" * (config.max_request_bytes + 1)
    pinged = client.post(
        f"/v1/webhooks/{subscription['id']}/ping", data=body, content_type="application/json", headers=auth()
    )
    assert pinged.status_code == 413 and pinged.get_json()["code"] == "payload_too_large"
    assert receiver.requests == []
    replay = client.delete(
        f"/v1/webhooks/{subscription['id']}", data=body, content_type="application/json", headers=auth()
    )
    assert replay.status_code == 413
    assert client.get(f"/v1/webhooks/{subscription['id']}", headers=auth()).status_code == 200
