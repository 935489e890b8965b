"""Real threads, each with its own app and engine, at the same moment: nothing overdrawn,
nothing awarded or reversed twice, no stock oversold, on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from collections import Counter

from sqlalchemy import func, select

from loyalty.core.db import Database
from loyalty.points.models import LedgerEntry, PointAccount, PointLot
from loyalty.reconcile import reconcile
from loyalty.scheduler import run_job
from tests.clock import today
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


def test_stored_balances_counted_while_points_change_are_never_wrong(database_url, client, auth, db, config):
    """points.balances counting in two threads while six others change the same members' points:
    a stored balance that holds is always the live one (no change slips between a count and its
    write), and once the writers stop, a last run stores every balance exactly."""
    members = [create_member(client, auth)["id"] for _ in range(3)]
    for member_id in members:
        post_order(client, auth, member_id, f"sb-{member_id}", "1000")
    writing, left, lock = threading.Event(), [WORKERS - 2], threading.Lock()
    writing.set()

    def change(worker):
        def run(c):
            try:
                for n in range(12):
                    member_id = members[(worker + n) % len(members)]
                    if n % 3 == 0:
                        body = order_payload(member_id, f"sb-{worker}-{n}", "40")
                        c.post("/v1/orders", json=body, headers=auth("storefront"))
                    else:
                        body = {"points": 7 if n % 2 else -5, "reason": "race"}
                        c.post(f"/v1/members/{member_id}/adjustments", json=body, headers=auth("staff"))
                return "written"
            finally:
                with lock:
                    left[0] -= 1
                    if not left[0]:
                        writing.clear()

        return run

    def count(_c):
        counter, runs = Database(database_url), 0
        try:
            while writing.is_set() or runs < 2:
                run_job("points.balances", db=counter, config=config, as_of=today())
                with counter.unit_of_work() as session:
                    check = [c for c in reconcile(session) if c.name == "stored_balances"][0]
                assert check.ok, check
                runs += 1
        finally:
            counter.dispose()
        return runs

    results = _race(database_url, [change(worker) for worker in range(WORKERS - 2)] + [count, count])
    assert results[:-2] == ["written"] * (WORKERS - 2) and all(runs >= 2 for runs in results[-2:]), results
    run_job("points.balances", db=db, config=config, as_of=today())
    with db.unit_of_work() as session:
        assert all(check.ok for check in reconcile(session))
        stored = dict(
            session.execute(
                select(PointAccount.member_id, PointAccount.balance).where(PointAccount.member_id.in_(members))
            ).all()
        )
    assert stored == {member_id: balance(client, auth, member_id)["available"] for member_id in members}
