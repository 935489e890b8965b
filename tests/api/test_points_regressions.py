"""Regressions from a newcomer's session on points: each once lost, double-counted or crashed."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest

from loyalty.scheduler import run_job
from tests.clock import now, today
from tests.factories import balance, create_member, ledger, order_payload, post_order


def refund(client, auth, order_id, **body):
    return client.post(f"/v1/orders/{order_id}/refunds", json=body, headers=auth("storefront"))


def test_refunds_judge_lines_by_the_exclusions_in_force_when_ordered(client, auth):
    member = create_member(client, auth)
    items = [
        {"sku": "tea", "category": "tea", "quantity": 1, "unit_price": "100"},
        {"sku": "gc", "category": "gift_card", "quantity": 1, "unit_price": "100"},
    ]
    post_order(client, auth, member["id"], "x-1", items=items)  # 100 points
    client.patch("/v1/program", json={"excluded_categories": ["tea"]}, headers=auth())
    assert (
        refund(client, auth, "x-1", refund_id="x-1-a", items=[{"sku": "gc", "quantity": 1}]).get_json()[
            "points_reversed"
        ]
        == 0
    )
    assert (
        refund(client, auth, "x-1", refund_id="x-1-b", items=[{"sku": "tea", "quantity": 1}]).get_json()[
            "points_reversed"
        ]
        == 100
    )


def test_item_then_amount_refunds_of_the_whole_order_reverse_everything(client, auth):
    client.patch("/v1/program", json={"first_order_bonus": 200}, headers=auth())
    member = create_member(client, auth)
    items = [
        {"sku": "lj", "category": "tea", "quantity": 2, "unit_price": "118", "discount": "20"},
        {"sku": "gc", "category": "gift_card", "quantity": 1, "unit_price": "100"},
    ]
    post_order(client, auth, member["id"], "x-2", items=items)  # 216 + 200
    refund(client, auth, "x-2", refund_id="x-2-a", items=[{"sku": "gc", "quantity": 1}])
    refund(client, auth, "x-2", refund_id="x-2-b", amount="216.00")
    order = client.get("/v1/orders/x-2", headers=auth()).get_json()
    assert order["refunded_amount"] == "316.00" and order["points_reversed"] == 416
    assert balance(client, auth, member["id"])["available"] == 0


def test_the_last_unit_can_be_refunded_whatever_the_rounding(client, auth):
    member = create_member(client, auth)
    post_order(
        client,
        auth,
        member["id"],
        "x-3",
        items=[{"sku": "a", "category": "tea", "quantity": 3, "unit_price": "10.00", "discount": "1.00"}],
    )
    for n in range(3):
        response = refund(client, auth, "x-3", refund_id=f"x-3-{n}", items=[{"sku": "a", "quantity": 1}])
        assert response.status_code == 201, response.get_json()
    order = client.get("/v1/orders/x-3", headers=auth()).get_json()
    assert order["refunded_amount"] == "29.00" and order["points_reversed"] == 29
    assert balance(client, auth, member["id"])["available"] == 0


@pytest.mark.parametrize("job_first", [False, True])
def test_a_refund_after_expiry_takes_nothing_twice_whenever_the_job_ran(client, auth, db, config, job_first):
    client.patch("/v1/program", json={"expiry_months": 1, "first_order_bonus": 200}, headers=auth())
    member = create_member(client, auth)
    old = (now() - timedelta(days=100)).isoformat()
    post_order(client, auth, member["id"], "x-4", "300", placed_at=old)  # 300 + 200, long expired
    post_order(client, auth, member["id"], "x-5", "70")
    if job_first:
        run_job("points.expire", db=db, config=config, as_of=today())
    refund(client, auth, "x-4", refund_id="x-4-r", amount="300")
    run_job("points.expire", db=db, config=config, as_of=today())
    current = balance(client, auth, member["id"])
    assert current["available"] == 70 and current["debt"] == 0  # the live 70 points are untouched, no debt
    assert sum(e["points"] for e in ledger(client, auth, member["id"])) == 70


def test_the_orders_bonus_lot_is_reversed_before_other_points(client, auth):
    client.patch(
        "/v1/program", json={"first_order_bonus": 200, "signup_bonus": 100, "pending_days": 14}, headers=auth()
    )
    member = create_member(client, auth)  # 100 available (signup)
    post_order(client, auth, member["id"], "x-6", "100", days_ago=0)  # 100 + 200 pending
    refund(client, auth, "x-6", refund_id="x-6-r", amount="100")
    now = balance(client, auth, member["id"])
    assert now["available"] == 100 and now["pending"] == 0


def test_an_order_id_posted_for_another_member_is_a_conflict(client, auth):
    a, b = create_member(client, auth), create_member(client, auth)
    body = order_payload(None, "x-7", "50")
    del body["member_id"]
    assert (
        client.post("/v1/orders", json={**body, "member_number": a["member_number"]}, headers=auth("pos")).status_code
        == 201
    )
    again = client.post("/v1/orders", json={**body, "member_number": b["member_number"]}, headers=auth("pos"))
    assert again.status_code == 409 and again.get_json()["code"] == "order_conflict"
    same = client.post("/v1/orders", json={**body, "member_id": a["id"]}, headers=auth("pos"))
    assert same.status_code == 200


def test_retries_that_mean_the_same_are_the_same_order(client, auth):
    member = create_member(client, auth)
    first = order_payload(member["id"], "x-8", "128.00", placed_at="2026-11-01T12:00:00+08:00", total="128.00")
    assert client.post("/v1/orders", json=first, headers=auth("storefront")).status_code == 201
    retry = {**first, "placed_at": "2026-11-01T04:00:00Z", "items": [{**first["items"][0], "unit_price": 128}]}
    del retry["total"]
    assert client.post("/v1/orders", json=retry, headers=auth("storefront")).status_code == 200
    assert balance(client, auth, member["id"])["available"] == 128


def test_absurdly_large_orders_are_refused(client, auth):
    member = create_member(client, auth)
    body = order_payload(member["id"], "x-9", items=[{"sku": "a", "quantity": 1000000, "unit_price": "999999999999"}])
    response = client.post("/v1/orders", json=body, headers=auth("storefront"))
    assert response.status_code == 422
    quote = client.post("/v1/quote", json={"member_id": member["id"], "items": body["items"]}, headers=auth("pos"))
    assert quote.status_code == 422


def test_a_reward_cannot_become_a_discount_over_100_percent(client, auth):
    reward = client.post(
        "/v1/rewards", json={"name": "X", "kind": "amount_off", "value": "150", "points_cost": 5}, headers=auth()
    ).get_json()
    assert client.patch(f"/v1/rewards/{reward['id']}", json={"kind": "percent_off"}, headers=auth()).status_code == 422


@pytest.mark.parametrize(
    "path, body",
    [
        (
            "/v1/promotions",
            {
                "name": "p",
                "multiplier": "2",
                "starts_at": "0001-01-01T00:00:00+08:00",
                "ends_at": "2027-01-01T00:00:00+00:00",
            },
        ),
        (
            "/v1/promotions",
            {
                "name": "p",
                "multiplier": "2",
                "starts_at": "2026-01-01T00:00:00+00:00",
                "ends_at": "9999-12-31T23:59:59-08:00",
            },
        ),
        ("/v1/rewards", {"name": "r", "kind": "gift", "points_cost": 1, "valid_from": "0001-01-01T00:00:00+08:00"}),
    ],
)
def test_dates_out_of_range_are_422(client, auth, path, body):
    assert client.post(path, json=body, headers=auth()).status_code == 422


def test_order_dates_out_of_range_are_422(client, auth):
    member = create_member(client, auth)
    body = order_payload(member["id"], "x-10", placed_at="0001-01-01T00:00:00+08:00")
    assert client.post("/v1/orders", json=body, headers=auth("storefront")).status_code == 422


def test_forged_cursors_are_400(client, auth):
    member = create_member(client, auth)
    forged = base64.urlsafe_b64encode(json.dumps([10**30]).encode()).decode().rstrip("=")
    for path in (f"/v1/members/{member['id']}/ledger", "/v1/rewards", "/v1/promotions", "/v1/members"):
        assert client.get(f"{path}?cursor={forged}", headers=auth()).status_code == 400, path


def test_erased_members_earn_and_spend_nothing(client, auth):
    member = create_member(client, auth)
    post_order(client, auth, member["id"], "x-11", "100")
    client.delete(f"/v1/members/{member['id']}", headers=auth("staff"))
    for path, body in (
        ("/v1/orders", order_payload(member["id"], "x-12")),
        ("/v1/redemptions", {"member_id": member["id"], "points": 10}),
        (f"/v1/members/{member['id']}/adjustments", {"points": 10, "reason": "x"}),
    ):
        response = client.post(path, json=body, headers=auth())
        assert response.status_code == 409 and response.get_json()["code"] == "member_erased", path


def test_a_hold_cannot_be_captured_after_the_member_is_blocked(client, auth):
    member = create_member(client, auth)
    post_order(client, auth, member["id"], "x-13", "100")
    held = client.post(
        "/v1/redemptions", json={"member_id": member["id"], "points": 10}, headers=auth("pos")
    ).get_json()
    client.patch(f"/v1/members/{member['id']}", json={"status": "blocked"}, headers=auth("staff"))
    assert client.post(f"/v1/redemptions/{held['id']}/capture", headers=auth("pos")).status_code == 403


def test_the_redeem_share_of_an_order_is_per_member(client, auth):
    a, b = create_member(client, auth), create_member(client, auth)
    for m in (a, b):
        post_order(client, auth, m["id"], f"seed-{m['id']}", "1000")
        ok = client.post(
            "/v1/redemptions",
            json={"member_id": m["id"], "points": 500, "order_id": "cart-9", "order_amount": "10"},
            headers=auth("pos"),
        )
        assert ok.status_code == 201


def test_money_with_more_decimals_than_stored_is_refused(client, auth):
    member = create_member(client, auth)
    post_order(client, auth, member["id"], "x-14", "10")
    assert refund(client, auth, "x-14", refund_id="x-14-r", amount="3.333333").status_code == 422
    bad = order_payload(member["id"], "x-15", items=[{"sku": "a", "quantity": 1, "unit_price": "1.00001"}])
    assert client.post("/v1/orders", json=bad, headers=auth("storefront")).status_code == 422


def test_balance_shows_held_points(client, auth):
    member = create_member(client, auth)
    post_order(client, auth, member["id"], "x-16", "100")
    client.post("/v1/redemptions", json={"member_id": member["id"], "points": 30}, headers=auth("pos"))
    now = balance(client, auth, member["id"])
    assert now["held"] == 30 and now["available"] == 70
    assert (
        sum(e["points"] for e in ledger(client, auth, member["id"])) == now["available"] + now["pending"] + now["held"]
    )
