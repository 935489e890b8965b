from __future__ import annotations

from datetime import timedelta

import time_machine
from sqlalchemy import func, select

from loyalty.core.db import utcnow
from loyalty.core.models import IdempotencyRecord
from loyalty.members.models import Member
from tests.factories import member_payload


def _members(db) -> int:
    with db.unit_of_work() as session:
        return session.scalar(select(func.count()).select_from(Member))


def test_same_key_same_body_replays_the_first_response_without_doing_it_again(client, auth, db):
    headers = auth("staff", **{"Idempotency-Key": "k-1"})
    body = member_payload()
    first = client.post("/v1/members", json=body, headers=headers)
    assert first.status_code == 201
    # Same JSON, other key order and spacing: the same request.
    again = client.post(
        "/v1/members",
        data="{ " + ", ".join(f'"{k}": {__import__("json").dumps(v)}' for k, v in reversed(list(body.items()))) + " }",
        content_type="application/json",
        headers=headers,
    )
    assert again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _members(db) == 1


def test_same_key_other_body_is_422(client, auth, db):
    headers = auth("staff", **{"Idempotency-Key": "k-2"})
    assert client.post("/v1/members", json=member_payload(), headers=headers).status_code == 201
    response = client.post("/v1/members", json=member_payload(), headers=headers)
    assert response.status_code == 422
    assert response.get_json()["code"] == "idempotency_key_reused"
    assert _members(db) == 1


def test_a_client_error_is_replayed_too(client, auth):
    headers = auth("staff", **{"Idempotency-Key": "k-3"})
    first = client.post("/v1/members", json={"email": "nope"}, headers=headers)
    again = client.post("/v1/members", json={"email": "nope"}, headers=headers)
    assert first.status_code == again.status_code == 422
    assert again.get_json()["errors"] == first.get_json()["errors"]
    assert again.headers.get("Idempotent-Replayed") == "true"


def test_key_in_flight_is_409(client, auth, db):
    headers = auth("staff", **{"Idempotency-Key": "k-4"})
    body = member_payload()
    import json

    from loyalty.core.idempotency import request_fingerprint

    raw = json.dumps(body).encode()
    with db.unit_of_work() as session:
        session.add(
            IdempotencyRecord(
                key_prefix=auth.key("staff").split("_")[1],
                idempotency_key="k-4",
                request_hash=request_fingerprint("POST", "/v1/members", raw),
                method="POST",
                path="/v1/members",
                state="in_flight",
                created_at=utcnow(),
                locked_at=utcnow(),
            )
        )
    response = client.post("/v1/members", data=raw, content_type="application/json", headers=headers)
    assert response.status_code == 409
    assert response.get_json()["code"] == "idempotency_in_flight"
    assert response.headers["Retry-After"] == "1"
    assert _members(db) == 0
    # A claim left by a crashed request is taken over once its lock has lapsed.
    with time_machine.travel(utcnow() + timedelta(seconds=61), tick=False):
        taken = client.post("/v1/members", data=raw, content_type="application/json", headers=headers)
    assert taken.status_code == 201
    assert _members(db) == 1


def test_keys_are_scoped_to_the_api_key(client, auth, db):
    client.post("/v1/members", json=member_payload(), headers=auth("staff", **{"Idempotency-Key": "same"}))
    other = client.post("/v1/members", json=member_payload(), headers=auth("storefront", **{"Idempotency-Key": "same"}))
    assert other.status_code == 201 and "Idempotent-Replayed" not in other.headers
    assert _members(db) == 2


def test_after_24_hours_the_key_is_new_again(client, auth, db):
    headers = auth("staff", **{"Idempotency-Key": "k-5"})
    client.post("/v1/members", json=member_payload(), headers=headers)
    with time_machine.travel(utcnow() + timedelta(hours=25), tick=False):
        response = client.post("/v1/members", json=member_payload(), headers=headers)
    assert response.status_code == 201 and "Idempotent-Replayed" not in response.headers
    assert _members(db) == 2


def test_server_error_releases_the_key(client, auth, db, monkeypatch):
    from loyalty.members import service

    headers = auth("staff", **{"Idempotency-Key": "k-6"})
    body = member_payload()
    real = service.create_member

    def broken(*args, **kwargs):
        real(*args, **kwargs)
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(service, "create_member", broken)
    assert client.post("/v1/members", json=body, headers=headers).status_code == 500
    assert _members(db) == 0
    monkeypatch.setattr(service, "create_member", real)
    assert client.post("/v1/members", json=body, headers=headers).status_code == 201
    assert _members(db) == 1


def test_invalid_key_is_400(client, auth):
    response = client.post(
        "/v1/members", json=member_payload(), headers=auth("staff", **{"Idempotency-Key": "x" * 256})
    )
    assert response.status_code == 400
    assert response.get_json()["code"] == "invalid_idempotency_key"


def test_purge_job_forgets_old_records(client, auth, db, config):
    from loyalty.scheduler import run_job

    client.post("/v1/members", json=member_payload(), headers=auth("staff", **{"Idempotency-Key": "old"}))
    later = utcnow() + timedelta(hours=30)
    with time_machine.travel(later, tick=False):
        counts = run_job("idempotency.purge", db=db, config=config, as_of=later.date())
        assert counts == {"deleted": 1}
        assert run_job("idempotency.purge", db=db, config=config, as_of=later.date()) == {"deleted": 0}
