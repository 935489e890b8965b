from __future__ import annotations

import pytest

from tests.factories import balance, create_member, ledger, post_order


@pytest.fixture
def member(client, auth):
    return create_member(client, auth)


def refund(client, auth, order_id, **body):
    return client.post(f"/v1/orders/{order_id}/refunds", json=body, headers=auth("storefront"))


def test_partial_refunds_reverse_in_proportion_and_the_last_reverses_the_rest(client, auth, member):
    post_order(client, auth, member["id"], "r-1", "99.99")  # 99 points
    first = refund(client, auth, "r-1", refund_id="rf-1", amount="50")
    assert first.status_code == 201 and first.get_json()["points_reversed"] == 49  # floor(99 * 50/99.99)
    second = refund(client, auth, "r-1", refund_id="rf-2", amount="49.99")
    assert second.get_json()["points_reversed"] == 50
    assert balance(client, auth, member["id"])["available"] == 0
    order = client.get("/v1/orders/r-1", headers=auth()).get_json()
    assert order["refunded_amount"] == "99.99" and order["points_reversed"] == 99


def test_refund_ids_are_idempotent(client, auth, member):
    post_order(client, auth, member["id"], "r-2", "100")
    assert refund(client, auth, "r-2", refund_id="rf-3", amount="50").status_code == 201
    again = refund(client, auth, "r-2", refund_id="rf-3", amount="50")
    assert again.status_code == 200 and again.get_json()["points_reversed"] == 50
    other = refund(client, auth, "r-2", refund_id="rf-3", amount="10")
    assert other.status_code == 409 and other.get_json()["code"] == "refund_conflict"
    assert balance(client, auth, member["id"])["available"] == 50


def test_over_refund_is_422_and_reverses_nothing(client, auth, member):
    post_order(client, auth, member["id"], "r-3", "100")
    refund(client, auth, "r-3", refund_id="rf-4", amount="60")
    response = refund(client, auth, "r-3", refund_id="rf-5", amount="40.01")
    assert response.status_code == 422 and "amount" in response.get_json()["errors"]
    assert balance(client, auth, member["id"])["available"] == 40


def test_refund_by_items_counts_units(client, auth, member):
    items = [
        {"sku": "cup", "category": "cups", "quantity": 3, "unit_price": "20"},
        {"sku": "gc", "category": "gift_card", "quantity": 1, "unit_price": "100"},
    ]
    post_order(client, auth, member["id"], "r-4", items=items)  # 60 points, the gift card earns none
    assert (
        refund(client, auth, "r-4", refund_id="rf-6", items=[{"sku": "gc", "quantity": 1}]).get_json()[
            "points_reversed"
        ]
        == 0
    )
    assert (
        refund(client, auth, "r-4", refund_id="rf-7", items=[{"sku": "cup", "quantity": 2}]).get_json()[
            "points_reversed"
        ]
        == 40
    )
    over = refund(client, auth, "r-4", refund_id="rf-8", items=[{"sku": "cup", "quantity": 2}])
    assert over.status_code == 422 and "items.0.quantity" in over.get_json()["errors"]
    assert balance(client, auth, member["id"])["available"] == 20


@pytest.mark.parametrize(
    "body",
    [
        {"refund_id": "x"},
        {"refund_id": "x", "amount": "1", "items": [{"sku": "a", "quantity": 1}]},
        {"refund_id": "x", "amount": "0"},
        {"amount": "5"},
    ],
)
def test_refund_needs_an_id_and_exactly_one_of_amount_or_items(client, auth, member, body):
    post_order(client, auth, member["id"], "r-5", "10")
    assert refund(client, auth, "r-5", **body).status_code == 422


def test_unknown_order_is_404(client, auth):
    assert refund(client, auth, "nope", refund_id="rf-9", amount="1").status_code == 404


def test_a_refund_of_spent_points_makes_a_debt_that_blocks_redeeming_and_is_repaid_first(client, auth, member):
    post_order(client, auth, member["id"], "r-6", "100")
    spend = client.post(
        "/v1/redemptions", json={"member_id": member["id"], "points": 80, "capture": True}, headers=auth("pos")
    )
    assert spend.status_code == 201, spend.get_json()
    refund(client, auth, "r-6", refund_id="rf-10", amount="100")
    now = balance(client, auth, member["id"])
    assert now["available"] == -80 and now["debt"] == 80
    blocked = client.post("/v1/redemptions", json={"member_id": member["id"], "points": 1}, headers=auth("pos"))
    assert blocked.status_code == 409 and blocked.get_json()["code"] == "insufficient_points"
    assert blocked.get_json()["available"] == -80
    post_order(client, auth, member["id"], "r-7", "50")
    assert balance(client, auth, member["id"])["available"] == -30
    post_order(client, auth, member["id"], "r-8", "50")
    assert balance(client, auth, member["id"])["available"] == 20
    assert sum(e["points"] for e in ledger(client, auth, member["id"])) == 20


def test_the_first_order_bonus_is_reversed_with_its_order(client, auth):
    client.patch("/v1/program", json={"first_order_bonus": 100}, headers=auth())
    member = create_member(client, auth)
    post_order(client, auth, member["id"], "r-9", "100")
    assert refund(client, auth, "r-9", refund_id="rf-11", amount="100").get_json()["points_reversed"] == 200
    assert balance(client, auth, member["id"])["available"] == 0
