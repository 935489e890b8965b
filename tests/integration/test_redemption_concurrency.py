"""The per-order redemption cap, refunds giving points back and coupons under real concurrency:
threads, each with its own app and engine (as separate workers would be), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from loyalty.points.models import LedgerEntry
from loyalty.redemptions.models import Redemption
from tests.factories import balance, create_member, post_order
from tests.integration.test_concurrency import WORKERS, _race

HOLDS = 20


def test_concurrent_holds_on_one_order_never_pass_its_cap(database_url, client, auth, db):
    member = create_member(client, auth)
    post_order(client, auth, member["id"], "cap-seed", "100000")  # plenty of points: only the cap can refuse
    headers = auth("pos")
    # max_redeem_share 0.5 of 100.00 at 0.01 a point: 5000 points for the order; any two holds of 3000 exceed it.
    body = {"member_id": member["id"], "points": 3000, "order_id": "cart-race", "order_amount": "100.00"}

    def hold(c):
        r = c.post("/v1/redemptions", json=body, headers=headers)
        return r.status_code, r.get_json()

    results = _race(database_url, [hold] * HOLDS)
    assert Counter(status for status, _ in results) == {201: 1, 422: HOLDS - 1}, results
    assert all("points" in body["errors"] for status, body in results if status == 422)
    with db.unit_of_work() as session:
        assert session.scalar(select(func.sum(Redemption.points)).where(Redemption.order_id == "cart-race")) == 3000
    assert balance(client, auth, member["id"])["held"] == 3000


def test_the_same_refund_at_once_gives_back_the_points_paid_once(database_url, client, auth, db):
    member = create_member(client, auth)
    post_order(client, auth, member["id"], "ret-race", "400")
    paid = client.post(
        "/v1/redemptions",
        json={"member_id": member["id"], "points": 200, "order_id": "ret-race", "capture": True},
        headers=auth("pos"),
    )
    assert paid.status_code == 201, paid.get_json()
    headers = auth("storefront")

    def refund(c):
        r = c.post("/v1/orders/ret-race/refunds", json={"refund_id": "ret-race-r", "amount": "100"}, headers=headers)
        return r.status_code, r.get_json()

    results = _race(database_url, [refund] * WORKERS)
    assert Counter(status for status, _ in results) == {201: 1, 200: WORKERS - 1}, results
    assert {body["points_returned"] for _, body in results} == {50}
    with db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == "return")) == 1
    assert balance(client, auth, member["id"])["available"] == 400 - 100 - 200 + 50


def test_a_coupon_used_and_reversed_at_once_is_one_or_the_other(database_url, client, auth, db):
    member = create_member(client, auth)
    post_order(client, auth, member["id"], "cpn-seed", "100")
    reward = client.post(
        "/v1/rewards", json={"name": "Cup", "kind": "gift", "points_cost": 10}, headers=auth()
    ).get_json()
    bought = client.post(
        "/v1/redemptions",
        json={"member_id": member["id"], "reward_id": reward["id"], "capture": True},
        headers=auth("pos"),
    ).get_json()
    pos, staff = auth("pos"), auth("staff")

    def use(c):
        return "use", c.post(f"/v1/coupons/{bought['coupon_code']}/use", headers=pos).status_code

    def reverse(c):
        return "reverse", c.post(
            f"/v1/redemptions/{bought['id']}/reverse", json={"reason": "race"}, headers=staff
        ).status_code

    results = dict(_race(database_url, [use, reverse]))
    assert sorted(results.values()) == [200, 409], results  # whichever came first won; the other was refused
    coupon = client.get(f"/v1/coupons/{bought['coupon_code']}", headers=pos).get_json()
    assert coupon["status"] == ("used" if results["use"] == 200 else "void")
    assert balance(client, auth, member["id"])["available"] == (90 if results["use"] == 200 else 100)
