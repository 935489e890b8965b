"""Real threads, each with its own app and engine (as separate workers would be), on both databases."""

from __future__ import annotations

import threading
from collections import Counter

from sqlalchemy import func, select

from loyalty import create_app
from loyalty.core.db import Database
from loyalty.members.models import Member
from tests.conftest import make_config
from tests.factories import member_payload

WORKERS = 8


def _race(database_url, requests) -> list:
    """Run each request function at the same moment in its own thread with its own app."""
    apps = [create_app(make_config(database_url), database=Database(database_url)) for _ in requests]
    barrier = threading.Barrier(len(requests))
    results: list = [None] * len(requests)

    def run(index: int) -> None:
        client = apps[index].test_client()
        barrier.wait()
        results[index] = requests[index](client)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for app in apps:
        app.extensions["loyalty.db"].dispose()
    return results


def _members(db) -> int:
    with db.unit_of_work() as session:
        return session.scalar(select(func.count()).select_from(Member))


def test_same_idempotency_key_at_once_does_the_work_once(database_url, db, auth):
    headers = auth("staff", **{"Idempotency-Key": "race-1"})
    body = member_payload()

    def post(client):
        response = client.post("/v1/members", json=body, headers=headers)
        return response.status_code, response.get_json()

    results = _race(database_url, [post] * WORKERS)
    statuses = Counter(status for status, _ in results)
    assert set(statuses) <= {201, 409}, results
    created = {body["id"] for status, body in results if status == 201}
    assert len(created) == 1  # replays carry the one member's id
    assert all(body["code"] == "idempotency_in_flight" for status, body in results if status == 409)
    assert _members(db) == 1


def test_same_email_at_once_enrols_one_member(database_url, db, auth):
    headers = auth("staff")

    def post(client):
        response = client.post("/v1/members", json=member_payload(email="race@example.com"), headers=headers)
        return response.status_code, response.get_json()

    results = _race(database_url, [post] * WORKERS)
    statuses = Counter(status for status, _ in results)
    assert statuses[201] == 1 and statuses[409] == WORKERS - 1, results
    winner = next(body["id"] for status, body in results if status == 201)
    assert all(body["existing_member_id"] == winner for status, body in results if status == 409)
    assert _members(db) == 1
