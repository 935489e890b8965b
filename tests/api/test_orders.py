from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.clock import now
from tests.factories import balance, create_member, ledger, order_payload, post_order


@pytest.fixture
def member(client, auth):
    return create_member(client, auth)


def test_an_order_awards_points_once(client, auth, member):
    payload = order_payload(member["id"], "o-1", "128.50")
    first = client.post("/v1/orders", json=payload, headers=auth("storefront"))
    assert first.status_code == 201
    body = first.get_json()
    assert body["points_earned"] == 128 and body["order_id"] == "o-1" and body["member_id"] == member["id"]
    assert "tier" in body and body["available_at"]
    again = client.post("/v1/orders", json=payload, headers=auth("storefront"))
    assert again.status_code == 200 and again.get_json()["points_earned"] == 128
    assert balance(client, auth, member["id"])["available"] == 128
    assert [e["kind"] for e in ledger(client, auth, member["id"])] == ["earn"]
    assert client.get("/v1/orders/o-1", headers=auth("pos")).get_json()["points_earned"] == 128


def test_the_same_order_id_with_other_contents_is_409(client, auth, member):
    post_order(client, auth, member["id"], "o-2", "50")
    response = client.post("/v1/orders", json=order_payload(member["id"], "o-2", "5000"), headers=auth("storefront"))
    assert response.status_code == 409 and response.get_json()["code"] == "order_conflict"
    assert balance(client, auth, member["id"])["available"] == 50


def test_points_mature_after_the_return_window(client, auth, member):
    fresh = post_order(client, auth, member["id"], "o-3", "80", days_ago=0)
    placed = datetime.fromisoformat(fresh["available_at"]) - timedelta(days=14)
    assert abs((placed - now()).total_seconds()) < 60
    current = balance(client, auth, member["id"])
    assert current["available"] == 0 and current["pending"] == 80


def test_pos_orders_use_their_own_pending_days(client, auth, member):
    client.patch("/v1/program", json={"pos_pending_days": 0}, headers=auth())
    post_order(client, auth, member["id"], "pos-1", "30", days_ago=0, channel="pos")
    assert balance(client, auth, member["id"])["available"] == 30


def test_member_number_identifies_the_member(client, auth, member):
    payload = order_payload(None, "o-4", "20")
    del payload["member_id"]
    payload["member_number"] = member["member_number"]
    assert client.post("/v1/orders", json=payload, headers=auth("pos")).get_json()["member_id"] == member["id"]


def test_another_currency_earns_the_same_for_the_same_spend(client, auth, member):
    client.patch("/v1/program", json={"exchange_rates": {"USD": "7.10"}}, headers=auth())
    usd = post_order(client, auth, member["id"], "usd-1", "10.00", currency="USD")
    cny = post_order(client, auth, member["id"], "cny-1", "71.00")
    assert usd["points_earned"] == cny["points_earned"] == 71


@pytest.mark.parametrize(
    "change, field",
    [
        ({"currency": "EUR"}, "currency"),
        ({"currency": "XYZ"}, "currency"),
        ({"total": "99.99"}, "total"),
        ({"items": [{"sku": "a", "quantity": 1, "unit_price": "5", "discount": "6"}]}, "items.0.discount"),
        ({"items": []}, "items"),
        ({"items": [{"sku": "a", "quantity": 0, "unit_price": "5"}]}, "items.0.quantity"),
        ({"items": [{"sku": "a", "quantity": 1, "unit_price": "-5"}]}, "items.0.unit_price"),
        ({"placed_at": "2999-01-01T00:00:00+00:00"}, "placed_at"),
        ({"placed_at": "2026-01-01T00:00:00"}, "placed_at"),
        ({"order_id": "has space"}, "order_id"),
        ({"channel": "fax"}, "channel"),
        ({"member_number": "123456789012"}, "member_id"),
    ],
)
def test_bad_orders_are_422_and_award_nothing(client, auth, member, change, field):
    response = client.post(
        "/v1/orders", json={**order_payload(member["id"], "bad-1"), **change}, headers=auth("storefront")
    )
    assert response.status_code == 422, response.get_json()
    assert any(key.startswith(field) for key in response.get_json()["errors"]), response.get_json()
    assert client.get("/v1/orders/bad-1", headers=auth()).status_code == 404
    assert balance(client, auth, member["id"])["available"] == 0


def test_total_that_adds_up_is_accepted(client, auth, member):
    body = order_payload(member["id"], "tot-1", "100", shipping="10", tax="5.50", total="115.50")
    assert client.post("/v1/orders", json=body, headers=auth("storefront")).get_json()["points_earned"] == 100


def test_unknown_member_is_404_and_blocked_member_is_403(client, auth, member):
    assert (
        client.post("/v1/orders", json=order_payload("mbr_nobody", "x-1"), headers=auth("storefront")).status_code
        == 404
    )
    client.patch(f"/v1/members/{member['id']}", json={"status": "blocked"}, headers=auth("staff"))
    response = client.post("/v1/orders", json=order_payload(member["id"], "x-2"), headers=auth("storefront"))
    assert response.status_code == 403 and response.get_json()["code"] == "member_blocked"


def test_signup_and_first_order_bonuses_are_granted_once(client, auth):
    client.patch("/v1/program", json={"signup_bonus": 100, "first_order_bonus": 200}, headers=auth())
    member = create_member(client, auth)
    first = post_order(client, auth, member["id"], "b-1", "10")
    second = post_order(client, auth, member["id"], "b-2", "10")
    assert first["bonus_points"] == 200 and second["bonus_points"] == 0
    kinds = sorted((e["kind"], e["source"]["type"]) for e in ledger(client, auth, member["id"]))
    assert kinds == [("bonus", "first_order"), ("bonus", "signup"), ("earn", "order"), ("earn", "order")]
    assert balance(client, auth, member["id"])["available"] == 320


def test_tier_multiplier_and_promotions_apply(client, auth, db, member):
    from decimal import Decimal

    from loyalty.members.models import Member
    from loyalty.tiers.models import Tier

    with db.unit_of_work() as session:
        session.add(
            Tier(
                code="gold",
                name="Gold",
                rank=2,
                threshold=Decimal(8000),
                discount_percent=Decimal(5),
                earn_multiplier=Decimal("1.5"),
                benefits="",
            )
        )
        session.flush()
        session.get(Member, member["id"]).tier_code = "gold"
    assert post_order(client, auth, member["id"], "m-1", "100")["points_earned"] == 150
    start = (now() - timedelta(days=60)).isoformat()
    end = (now() + timedelta(days=1)).isoformat()
    created = client.post(
        "/v1/promotions",
        json={"name": "Double tea", "multiplier": "2", "starts_at": start, "ends_at": end, "categories": ["tea"]},
        headers=auth(),
    )
    assert created.status_code == 201, created.get_json()
    assert post_order(client, auth, member["id"], "m-2", "100")["points_earned"] == 300


def test_excluded_categories_earn_nothing(client, auth, member):
    items = [
        {"sku": "gc", "category": "gift_card", "quantity": 1, "unit_price": "500"},
        {"sku": "t", "category": "tea", "quantity": 1, "unit_price": "20"},
    ]
    assert post_order(client, auth, member["id"], "gc-1", items=items)["points_earned"] == 20


def test_quote_writes_nothing(client, auth, member):
    post_order(client, auth, member["id"], "q-0", "1000")
    basket = {"member_id": member["id"], "items": [{"sku": "t", "category": "tea", "quantity": 2, "unit_price": "300"}]}
    response = client.post("/v1/quote", json=basket, headers=auth("pos"))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["points_to_earn"] == 600 and body["discount_percent"] == "0" and body["discount_amount"] == "0.00"
    assert body["max_redeemable_points"] == 1000  # 50% of 600 is 30000 points: the balance limits
    assert body["max_redeemable_value"] == "10.00"
    assert [e["kind"] for e in ledger(client, auth, member["id"])] == ["earn"]


def test_times_in_the_order_response_are_in_utc(client, auth):
    from tests.factories import create_member

    member = create_member(client, auth)
    body = client.post(
        "/v1/orders",
        json={
            "order_id": "tz-1",
            "member_id": member["id"],
            "placed_at": "2026-11-01T10:00:00+08:00",
            "items": [{"sku": "a", "category": "tea", "quantity": 1, "unit_price": "10"}],
        },
        headers=auth("storefront"),
    ).get_json()
    assert body["placed_at"] == "2026-11-01T02:00:00+00:00" and body["available_at"].endswith("+00:00")


def test_the_answer_built_without_marshmallow_is_what_the_documented_schema_gives(client, auth, member):
    """POST /v1/orders writes its answer from the order's row (no schema dump at checkout): for a
    new order, a retry of it, a first order with a bonus, a store's order in another currency and a
    refunded one, it must be exactly what OrderSchema gives for the stored order (GET uses it)."""
    from loyalty.orders.schemas import OrderSchema

    fields = set(OrderSchema().fields)
    program = {"first_order_bonus": 50, "exchange_rates": {"USD": "7.10"}}
    assert client.patch("/v1/program", json=program, headers=auth()).status_code == 200
    newcomer = create_member(client, auth)
    cases = [
        order_payload(newcomer["id"], "ans-bonus", "10.00"),
        order_payload(member["id"], "ans-1", "128.55"),
        order_payload(member["id"], "ans-2", "99.99", store_id="store-7", channel="pos", currency="USD"),
    ]
    for payload in cases:
        for expected_status in (201, 200):  # new, then the same order again
            response = client.post("/v1/orders", json=payload, headers=auth("storefront"))
            assert response.status_code == expected_status, response.get_json()
            body = response.get_json()
            assert set(body) == fields
            stored = client.get(f"/v1/orders/{payload['order_id']}", headers=auth("pos")).get_json()
            assert body == stored
    refunded = client.post("/v1/orders/ans-1/refunds", json={"refund_id": "r-1", "amount": "28.55"}, headers=auth())
    assert refunded.status_code == 201, refunded.get_json()
    again = client.post("/v1/orders", json=cases[1], headers=auth("storefront")).get_json()
    stored = client.get("/v1/orders/ans-1", headers=auth("pos")).get_json()
    assert again == stored and again["refunded_amount"] == "28.55" and again["points_reversed"] > 0
