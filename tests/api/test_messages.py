"""Every 422 says what is wrong and what is expected: the messages that puzzled a newcomer."""

from __future__ import annotations

from datetime import timedelta

from tests.clock import now
from tests.factories import create_member, post_order


def _errors(response) -> dict[str, list[str]]:
    assert response.status_code == 422, response.get_json()
    body = response.get_json()
    assert body["code"] == "validation_error"
    return body["errors"]


def test_refunding_a_sku_the_order_lacks_names_the_order_s_skus(client, auth):
    member = create_member(client, auth)
    post_order(
        client,
        auth,
        member["id"],
        "m-1",
        items=[
            {"sku": "longjing-250g", "category": "tea", "quantity": 2, "unit_price": "128.00"},
            {"sku": "cup", "category": "cups", "quantity": 1, "unit_price": "88.00"},
        ],
    )
    response = client.post(
        "/v1/orders/m-1/refunds",
        json={"refund_id": "m-1-r1", "items": [{"sku": "nope", "quantity": 1}]},
        headers=auth(),
    )
    assert _errors(response) == {
        "items.0.sku": ["The order has no item with sku `nope`; its skus: longjing-250g, cup."]
    }


def test_refunding_too_many_says_how_many_are_left(client, auth):
    member = create_member(client, auth)
    post_order(
        client,
        auth,
        member["id"],
        "m-2",
        items=[{"sku": "longjing-250g", "category": "tea", "quantity": 2, "unit_price": "128.00"}],
    )
    first = client.post(
        "/v1/orders/m-2/refunds",
        json={"refund_id": "m-2-r1", "items": [{"sku": "longjing-250g", "quantity": 1}]},
        headers=auth(),
    )
    assert first.status_code == 201, first.get_json()
    response = client.post(
        "/v1/orders/m-2/refunds",
        json={"refund_id": "m-2-r2", "items": [{"sku": "longjing-250g", "quantity": 3}]},
        headers=auth(),
    )
    assert _errors(response) == {
        "items.0.quantity": [
            "At most 1 of `longjing-250g` is left to refund (bought, less what was refunded before); asked for 3."
        ]
    }


def test_call_back_later_without_a_time_says_what_to_send(client, auth):
    member = create_member(client, auth)
    client.post(
        f"/v1/members/{member['id']}/interactions",
        json={"kind": "complaint", "channel": "phone", "content": "broken lid"},
        headers=auth("staff"),
    )
    touch = client.get("/v1/callbacks", headers=auth("staff")).get_json()["data"][0]
    url = f"/v1/care/touches/{touch['id']}/outcome"
    message = _errors(client.post(url, json={"outcome": "call_back_later"}, headers=auth("staff")))["callback_at"][0]
    assert "Required with call_back_later" in message and "ISO 8601" in message
    past = (now() - timedelta(hours=1)).isoformat()
    message = _errors(
        client.post(url, json={"outcome": "call_back_later", "callback_at": past}, headers=auth("staff"))
    )["callback_at"][0]
    assert message.startswith("Must be later than now (")


def test_an_order_from_the_future_says_how_far_ahead_is_allowed(client, auth):
    member = create_member(client, auth)
    response = client.post(
        "/v1/orders",
        json={
            "order_id": "m-3",
            "member_id": member["id"],
            "placed_at": (now() + timedelta(hours=1)).isoformat(),
            "items": [{"sku": "cup", "category": "cups", "quantity": 1, "unit_price": "88.00"}],
        },
        headers=auth(),
    )
    assert _errors(response)["placed_at"] == [
        "Is in the future: at most 5 minutes after now (the clocks may differ that much)."
    ]


def test_a_zero_adjustment_says_what_a_sign_means(client, auth):
    member = create_member(client, auth)
    response = client.post(
        f"/v1/members/{member['id']}/adjustments", json={"points": 0, "reason": "test"}, headers=auth()
    )
    message = _errors(response)["points"][0]
    assert "positive" in message and "negative" in message


def test_a_reward_for_an_unknown_tier_names_the_ladder(client, auth):
    client.put(
        "/v1/tiers",
        json={
            "tiers": [
                {
                    "code": "regular",
                    "name": "Regular",
                    "rank": 0,
                    "threshold": "0",
                    "discount_percent": "0",
                    "earn_multiplier": "1",
                },
                {
                    "code": "gold",
                    "name": "Gold",
                    "rank": 1,
                    "threshold": "1000",
                    "discount_percent": "5",
                    "earn_multiplier": "1.5",
                },
            ]
        },
        headers=auth(),
    )
    response = client.post(
        "/v1/rewards", json={"name": "Cup", "kind": "gift", "points_cost": 500, "min_tier": "platinum"}, headers=auth()
    )
    assert _errors(response) == {"min_tier": ["No tier `platinum` (the ladder has regular, gold)."]}
