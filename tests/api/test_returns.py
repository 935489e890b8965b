"""Points paid on an order come back with its refunds, in their proportion; staff reverse a redemption by hand."""

from __future__ import annotations

import pytest

from loyalty.points.rules import lot_expiry
from tests.clock import now
from tests.factories import balance, create_member, ledger, post_order


@pytest.fixture
def member(client, auth):
    member = create_member(client, auth)
    post_order(client, auth, member["id"], f"seed-{member['id']}", "1000")  # 1000 points, matured
    return member


def pay(client, auth, member_id, points, order_id=None, **more):
    body = {"member_id": member_id, "capture": True, **more}
    if points is not None:
        body["points"] = points
    if order_id:
        body["order_id"] = order_id
    response = client.post("/v1/redemptions", json=body, headers=auth("pos"))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def refund(client, auth, order_id, **body):
    return client.post(f"/v1/orders/{order_id}/refunds", json=body, headers=auth("storefront"))


def reverse(client, auth, redemption_id, role="staff", **body):
    return client.post(
        f"/v1/redemptions/{redemption_id}/reverse", json={"reason": "wrong member", **body}, headers=auth(role)
    )


def returns(client, auth, member_id):
    return [e for e in ledger(client, auth, member_id) if e["kind"] == "return"]


def consistent(client, auth, member_id):
    b = balance(client, auth, member_id)
    assert sum(e["points"] for e in ledger(client, auth, member_id)) == b["available"] + b["pending"] + b["held"]
    return b


def test_a_full_refund_gives_back_the_points_paid_on_the_order(client, auth, member):
    post_order(client, auth, member["id"], "ret-1", "100")  # earns 100
    paid = pay(client, auth, member["id"], 60, "ret-1")
    assert balance(client, auth, member["id"])["available"] == 1040
    done = refund(client, auth, "ret-1", refund_id="ret-1-r", amount="100")
    assert done.status_code == 201
    assert done.get_json()["points_reversed"] == 100 and done.get_json()["points_returned"] == 60
    [entry] = returns(client, auth, member["id"])
    assert entry["points"] == 60 and entry["source"] == {"type": "refund", "id": "ret-1-r"}
    # A new lot, available at once, with the program's normal expiry (24 months, end of month, Shanghai).
    assert entry["expires_at"] == lot_expiry(now(), 24, "Asia/Shanghai").isoformat()
    assert consistent(client, auth, member["id"])["available"] == 1000  # as before the order
    redemption = client.get(f"/v1/redemptions/{paid['id']}", headers=auth("staff")).get_json()
    assert redemption["status"] == "captured" and redemption["points_returned"] == 60


def test_partial_refunds_give_back_in_proportion_and_the_last_gives_the_rest(client, auth, member):
    post_order(client, auth, member["id"], "ret-2", "99.99")  # 99 points
    pay(client, auth, member["id"], 50, "ret-2")
    first = refund(client, auth, "ret-2", refund_id="ret-2-a", amount="50").get_json()
    assert first["points_reversed"] == 49 and first["points_returned"] == 25  # floor(50 × 50/99.99), as the reversal
    second = refund(client, auth, "ret-2", refund_id="ret-2-b", amount="49.99").get_json()
    assert second["points_returned"] == 25  # the rest: 50 in all
    assert [e["points"] for e in returns(client, auth, member["id"])] == [25, 25]
    assert consistent(client, auth, member["id"])["available"] == 1000


def test_refunding_half_the_goods_gives_back_half(client, auth, member):
    items = [
        {"sku": "cup", "category": "cups", "quantity": 2, "unit_price": "50"},
        {"sku": "gc", "category": "gift_card", "quantity": 1, "unit_price": "100"},
    ]
    post_order(client, auth, member["id"], "ret-3", items=items)  # earns 100 on the cups
    pay(client, auth, member["id"], 40, "ret-3")
    # The gift card earned nothing: refunding it reverses no points and gives none back.
    assert (
        refund(client, auth, "ret-3", refund_id="ret-3-gc", items=[{"sku": "gc", "quantity": 1}]).get_json()[
            "points_returned"
        ]
        == 0
    )
    half = refund(client, auth, "ret-3", refund_id="ret-3-a", items=[{"sku": "cup", "quantity": 1}]).get_json()
    assert half["points_reversed"] == 50 and half["points_returned"] == 20


def test_a_replayed_refund_gives_nothing_back_twice(client, auth, member):
    post_order(client, auth, member["id"], "ret-4", "100")
    pay(client, auth, member["id"], 30, "ret-4")
    assert refund(client, auth, "ret-4", refund_id="ret-4-r", amount="100").status_code == 201
    again = refund(client, auth, "ret-4", refund_id="ret-4-r", amount="100")
    assert again.status_code == 200 and again.get_json()["points_returned"] == 30
    assert len(returns(client, auth, member["id"])) == 1
    assert consistent(client, auth, member["id"])["available"] == 1000


def test_a_redemption_made_before_the_order_arrived_is_linked_by_member_and_order_id(client, auth, member):
    early = pay(client, auth, member["id"], 70, "ret-5")  # paid at checkout; the order is posted after
    held = client.post(
        "/v1/redemptions", json={"member_id": member["id"], "points": 5, "order_id": "ret-5"}, headers=auth("pos")
    ).get_json()  # held, never captured: nothing was paid
    other = create_member(client, auth)
    post_order(client, auth, other["id"], f"seed-{other['id']}", "100")
    pay(client, auth, other["id"], 20, "ret-5")  # another member's cart with the same id: not this order's
    post_order(client, auth, member["id"], "ret-5", "100")
    body = refund(client, auth, "ret-5", refund_id="ret-5-r", amount="100").get_json()
    assert body["points_returned"] == 70
    assert client.get(f"/v1/redemptions/{early['id']}", headers=auth("pos")).get_json()["points_returned"] == 70
    assert client.get(f"/v1/redemptions/{held['id']}", headers=auth("pos")).get_json()["points_returned"] == 0
    assert returns(client, auth, other["id"]) == []


def test_returned_points_repay_the_debt_the_refund_made(client, auth):
    member = create_member(client, auth)
    post_order(client, auth, member["id"], "ret-6", "100")  # the member's only points
    pay(client, auth, member["id"], 60, "ret-6")  # 60 of them paid on this very order
    body = refund(client, auth, "ret-6", refund_id="ret-6-r", amount="100").get_json()
    assert body["points_reversed"] == 100 and body["points_returned"] == 60
    after = consistent(client, auth, member["id"])
    assert after["available"] == 0 and after["debt"] == 0  # 40 left taken, 60 owed, repaid by the 60 back


def test_staff_reverse_a_captured_redemption_once(client, auth, member):
    paid = pay(client, auth, member["id"], 300)
    for role in ("pos", "storefront"):
        assert reverse(client, auth, paid["id"], role=role).status_code == 403
    assert reverse(client, auth, paid["id"], reason="").status_code == 422
    missing = client.post(f"/v1/redemptions/{paid['id']}/reverse", json={}, headers=auth("staff"))
    assert missing.status_code == 422 and "reason" in missing.get_json()["errors"]
    done = reverse(client, auth, paid["id"], reason="charged the wrong card")
    assert done.status_code == 200, done.get_json()
    body = done.get_json()
    assert body["status"] == "reversed" and body["points_returned"] == 300
    assert body["reversal_reason"] == "charged the wrong card" and body["reversed_at"]
    assert reverse(client, auth, paid["id"]).get_json()["status"] == "reversed"  # twice: harmless
    [entry] = returns(client, auth, member["id"])
    assert entry["points"] == 300 and entry["source"] == {"type": "redemption", "id": paid["id"]}
    assert "charged the wrong card" in entry["note"] and entry["actor"].startswith("key:")
    assert consistent(client, auth, member["id"])["available"] == 1000
    assert (
        client.post("/v1/redemptions/rdm_nope/reverse", json={"reason": "x"}, headers=auth("staff")).status_code == 404
    )


def test_only_captured_redemptions_are_reversed(client, auth, member):
    held = client.post(
        "/v1/redemptions", json={"member_id": member["id"], "points": 10}, headers=auth("pos")
    ).get_json()
    refused = reverse(client, auth, held["id"])
    assert refused.status_code == 409
    assert refused.get_json()["code"] == "redemption_not_reversible" and refused.get_json()["reason"] == "not_captured"
    assert balance(client, auth, member["id"])["held"] == 10


def test_a_reversal_after_a_partial_refund_returns_the_rest_and_later_refunds_nothing(client, auth, member):
    post_order(client, auth, member["id"], "ret-7", "100")
    paid = pay(client, auth, member["id"], 80, "ret-7")
    assert refund(client, auth, "ret-7", refund_id="ret-7-a", amount="25").get_json()["points_returned"] == 20
    assert reverse(client, auth, paid["id"]).get_json()["points_returned"] == 80
    assert [e["points"] for e in returns(client, auth, member["id"])] == [60, 20]
    assert refund(client, auth, "ret-7", refund_id="ret-7-b", amount="75").get_json()["points_returned"] == 0
    assert consistent(client, auth, member["id"])["available"] == 1000


def test_a_reward_is_reversed_only_while_its_coupon_is_unused_and_the_coupon_is_then_void(client, auth, member):
    reward = client.post(
        "/v1/rewards", json={"name": "Cup", "kind": "gift", "points_cost": 200, "stock": 1}, headers=auth()
    ).get_json()
    bought = pay(client, auth, member["id"], None, reward_id=reward["id"])
    assert client.get(f"/v1/rewards/{reward['id']}", headers=auth()).get_json()["stock"] == 0
    done = reverse(client, auth, bought["id"])
    assert done.status_code == 200 and done.get_json()["status"] == "reversed"
    assert client.get(f"/v1/rewards/{reward['id']}", headers=auth()).get_json()["stock"] == 1  # the unit is back
    code = bought["coupon_code"]
    assert client.get(f"/v1/coupons/{code}", headers=auth("pos")).get_json()["status"] == "void"
    used = client.post(f"/v1/coupons/{code}/use", headers=auth("pos"))
    assert used.status_code == 409 and used.get_json()["reason"] == "void"
    assert balance(client, auth, member["id"])["available"] == 1000

    again = pay(client, auth, member["id"], None, reward_id=reward["id"])
    assert client.post(f"/v1/coupons/{again['coupon_code']}/use", headers=auth("pos")).status_code == 200
    refused = reverse(client, auth, again["id"])
    assert refused.status_code == 409 and refused.get_json()["reason"] == "coupon_used"
    assert client.get(f"/v1/redemptions/{again['id']}", headers=auth("staff")).get_json()["status"] == "captured"
    assert balance(client, auth, member["id"])["available"] == 800


def test_an_erased_members_redemption_is_not_reversed(client, auth, member):
    paid = pay(client, auth, member["id"], 100)
    client.delete(f"/v1/members/{member['id']}", headers=auth("staff"))
    refused = reverse(client, auth, paid["id"])
    assert refused.status_code == 409 and refused.get_json()["code"] == "member_erased"


def test_the_readmes_worked_example(client, auth, member):
    cups = [{"sku": "cup", "category": "cups", "quantity": 3, "unit_price": "30.00"}]
    assert post_order(client, auth, member["id"], "web-20001", items=cups)["points_earned"] == 90
    pay(client, auth, member["id"], 100, "web-20001")
    steps = [
        refund(client, auth, "web-20001", refund_id=f"web-20001-r{i}", items=[{"sku": "cup", "quantity": 1}]).get_json()
        for i in range(3)
    ]
    assert [(r["points_reversed"], r["points_returned"]) for r in steps] == [(30, 33), (30, 33), (30, 34)]
    assert consistent(client, auth, member["id"])["available"] == 1000
