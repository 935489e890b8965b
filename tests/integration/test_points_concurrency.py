"""Real threads, each with its own app and engine, at the same moment: nothing overdrawn,
nothing awarded or reversed twice, no stock oversold, on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from collections import Counter

from sqlalchemy import func, select

from loyalty.core.db import Database
from loyalty.points.models import LedgerEntry, PointLot
from loyalty.scheduler import run_job
from tests.factories import balance, create_member, order_payload, post_order
from tests.integration.test_concurrency import WORKERS, _race


def test_simultaneous_redemptions_never_overdraw(database_url, client, auth, db):
    member = create_member(client, auth)
    post_order(client, auth, member["id"], "c-1", "1000")
    headers = auth("pos")

    def spend(c):
        r = c.post("/v1/redemptions", json={"member_id": member["id"], "points": 300, "capture": True}, headers=headers)
        return r.status_code, r.get_json()

    results = _race(database_url, [spend] * WORKERS)
    statuses = Counter(status for status, _ in results)
    assert statuses == {201: 3, 409: WORKERS - 3}, results
    assert all(body["code"] == "insufficient_points" for status, body in results if status == 409)
    assert balance(client, auth, member["id"])["available"] == 100
    with db.unit_of_work() as session:
        assert session.scalar(select(func.sum(LedgerEntry.points)).where(LedgerEntry.member_id == member["id"])) == 100
        assert session.scalar(select(func.min(PointLot.remaining))) >= 0


def test_the_same_order_posted_at_once_awards_once(database_url, client, auth, db):
    member = create_member(client, auth)
    payload = order_payload(member["id"], "c-2", "250")
    headers = auth("storefront")

    def post(c):
        r = c.post("/v1/orders", json=payload, headers=headers)
        return r.status_code, r.get_json()

    results = _race(database_url, [post] * WORKERS)
    assert Counter(status for status, _ in results) == {201: 1, 200: WORKERS - 1}, results
    assert all(body["points_earned"] == 250 for _, body in results)
    with db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == "earn")) == 1
    assert balance(client, auth, member["id"])["available"] == 250


def test_the_same_refund_sent_at_once_reverses_once(database_url, client, auth):
    member = create_member(client, auth)
    post_order(client, auth, member["id"], "c-3", "400")
    headers = auth("storefront")

    def refund(c):
        return c.post(
            "/v1/orders/c-3/refunds", json={"refund_id": "c-3-r", "amount": "100"}, headers=headers
        ).status_code

    assert Counter(_race(database_url, [refund] * WORKERS)) == {201: 1, 200: WORKERS - 1}
    assert balance(client, auth, member["id"])["available"] == 300


def test_reward_stock_is_never_oversold(database_url, client, auth):
    reward = client.post(
        "/v1/rewards", json={"name": "Cup", "kind": "gift", "points_cost": 10, "stock": 3}, headers=auth()
    ).get_json()
    members = [create_member(client, auth) for _ in range(WORKERS)]
    for m in members:
        post_order(client, auth, m["id"], f"seed-{m['id']}", "100")
    headers = auth("pos")

    def redeem_for(member_id):
        def redeem(c):
            return c.post(
                "/v1/redemptions",
                json={"member_id": member_id, "reward_id": reward["id"], "capture": True},
                headers=headers,
            ).status_code

        return redeem

    assert Counter(_race(database_url, [redeem_for(m["id"]) for m in members])) == {201: 3, 409: WORKERS - 3}
    assert client.get(f"/v1/rewards/{reward['id']}", headers=auth()).get_json()["stock"] == 0


def test_two_expiry_runs_at_once_expire_each_lot_once(database_url, client, auth, db, config):
    from datetime import timedelta

    import time_machine

    client.patch("/v1/program", json={"expiry_months": 1}, headers=auth())
    members = [create_member(client, auth) for _ in range(6)]
    for m in members:
        post_order(client, auth, m["id"], f"x-{m['id']}", "10", days_ago=0)
    with db.unit_of_work() as session:
        expires = session.scalar(select(func.max(PointLot.expires_at)))
    later = expires + timedelta(days=1)
    results: list = []
    with time_machine.travel(later, tick=False):

        def run():
            database = Database(database_url)
            results.append(run_job("points.expire", db=database, config=config, as_of=later.date()))
            database.dispose()

        threads = [threading.Thread(target=run) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    assert sum(r["lots_expired"] for r in results) == 6
    with db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == "expire")) == 6
        assert session.scalar(select(func.sum(LedgerEntry.points))) == 0
