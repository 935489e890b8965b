"""Posting exactly the quoted basket earns exactly `points_to_earn`; bonuses are shown apart."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.api.test_tiers import LADDER
from tests.clock import now, today
from tests.factories import create_member, ledger

CUP = [{"sku": "celadon-cup", "category": "cups", "quantity": 1, "unit_price": "88.00"}]


def quote(client, auth, member_id, items, **more):
    response = client.post("/v1/quote", json={"member_id": member_id, "items": items, **more}, headers=auth("pos"))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def order(client, auth, member_id, order_id, items, **more):
    body = {"order_id": order_id, "member_id": member_id, "placed_at": now().isoformat(), "items": items, **more}
    response = client.post("/v1/orders", json=body, headers=auth("storefront"))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


@pytest.fixture
def gold_member(client, auth):
    assert client.put("/v1/tiers", json={"tiers": LADDER}, headers=auth()).status_code == 200
    member = create_member(client, auth)
    floor = client.post(
        f"/v1/members/{member['id']}/tier",
        headers=auth("staff"),
        json={"tier": "gold", "until": (today() + timedelta(days=60)).isoformat(), "reason": "test"},
    )
    assert floor.status_code == 200, floor.get_json()
    return member


def test_a_gold_members_cup_earns_what_the_quote_said(client, auth, gold_member):
    # The issue: the quote said 125 (88 × 0.95 × 1.5) while posting the basket earned 132 (88 × 1.5).
    quoted = quote(client, auth, gold_member["id"], CUP)
    assert quoted["discount_percent"] == "5" and quoted["discount_amount"] == "4.40"
    assert quoted["points_to_earn"] == 132 and quoted["bonus_points"] == 0 and quoted["total_points"] == 132
    posted = order(client, auth, gold_member["id"], "cup-1", CUP)
    assert posted["points_earned"] == quoted["points_to_earn"]


def test_a_till_that_gives_the_tier_discount_writes_it_into_the_lines_and_quotes_that(client, auth, gold_member):
    discounted = [{**CUP[0], "discount": quote(client, auth, gold_member["id"], CUP)["discount_amount"]}]
    quoted = quote(client, auth, gold_member["id"], discounted)
    assert quoted["points_to_earn"] == 125  # 83.60 paid × 1.5
    assert order(client, auth, gold_member["id"], "cup-2", discounted)["points_earned"] == 125


def test_a_new_members_quote_shows_the_first_order_bonus_apart(client, auth):
    client.patch("/v1/program", json={"first_order_bonus": 100}, headers=auth())
    member = create_member(client, auth)
    quoted = quote(client, auth, member["id"], CUP)
    assert (quoted["points_to_earn"], quoted["bonus_points"], quoted["total_points"]) == (88, 100, 188)
    posted = order(client, auth, member["id"], "first-1", CUP)
    assert (posted["points_earned"], posted["bonus_points"]) == (quoted["points_to_earn"], quoted["bonus_points"])
    assert sum(e["points"] for e in ledger(client, auth, member["id"])) == quoted["total_points"]
    assert quote(client, auth, member["id"], CUP)["bonus_points"] == 0  # only the first order has it


def test_promotions_are_in_points_to_earn_and_shown_as_promotion_points(client, auth, gold_member):
    created = client.post(
        "/v1/promotions",
        headers=auth(),
        json={
            "name": "Double cups",
            "multiplier": "2",
            "starts_at": (now() - timedelta(days=1)).isoformat(),
            "ends_at": (now() + timedelta(days=1)).isoformat(),
            "categories": ["cups"],
        },
    )
    assert created.status_code == 201, created.get_json()
    basket = CUP + [
        {"sku": "longjing", "category": "tea", "quantity": 2, "unit_price": "33.33", "discount": "1.11"},
        {"sku": "gift-card", "category": "gift_card", "quantity": 1, "unit_price": "100"},
    ]
    quoted = quote(client, auth, gold_member["id"], basket)
    assert quoted["points_to_earn"] == 362 and quoted["promotion_points"] == 132  # (88 × 2 + 65.55) × 1.5 vs 230
    assert order(client, auth, gold_member["id"], "promo-1", basket)["points_earned"] == quoted["points_to_earn"]


def test_a_basket_in_another_currency_earns_what_was_quoted(client, auth):
    client.patch("/v1/program", json={"exchange_rates": {"USD": "7.10"}}, headers=auth())
    member = create_member(client, auth)
    basket = [{"sku": "tin", "category": "tea", "quantity": 3, "unit_price": "12.99", "discount": "0.97"}]
    quoted = quote(client, auth, member["id"], basket, currency="USD", shipping="5", channel="pos")
    posted = order(client, auth, member["id"], "usd-1", basket, currency="USD", shipping="5", channel="pos")
    assert posted["points_earned"] == quoted["points_to_earn"] == 269  # floor(38 × 7.10)
