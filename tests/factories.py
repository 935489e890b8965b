"""Builders for test data."""

from __future__ import annotations

import itertools

from tests.clock import now

_counter = itertools.count(1)


def member_payload(**overrides) -> dict:
    n = next(_counter)
    payload = {
        "external_id": f"ext-{n}",
        "name": f"Member {n}",
        "email": f"member{n}@example.com",
        "phone": f"+86 139 {n // 10000 % 10000:04d} {n % 10000:04d}",
        "birthday": "1990-05-17",
        "city": "Shanghai",
        "tags": ["tea lover"],
        "consent": {"email": True, "sms": False},
    }
    payload.update(overrides)
    return {k: v for k, v in payload.items() if v is not ...}


def create_member(client, auth, **overrides) -> dict:
    response = client.post("/v1/members", json=member_payload(**overrides), headers=auth("staff"))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def order_payload(member_id: str, order_id: str, amount: str = "100.00", *, days_ago: int = 30, **overrides) -> dict:
    from datetime import timedelta

    payload = {
        "order_id": order_id,
        "member_id": member_id,
        "placed_at": (now() - timedelta(days=days_ago)).isoformat(),
        "items": [{"sku": "tea-1", "category": "tea", "quantity": 1, "unit_price": amount}],
    }
    payload.update(overrides)
    return payload


def post_order(client, auth, member_id: str, order_id: str, amount: str = "100.00", **overrides) -> dict:
    response = client.post(
        "/v1/orders", json=order_payload(member_id, order_id, amount, **overrides), headers=auth("storefront")
    )
    assert response.status_code in (200, 201), response.get_json()
    return response.get_json()


def balance(client, auth, member_id: str) -> dict:
    return client.get(f"/v1/members/{member_id}/balance", headers=auth("staff")).get_json()


def ledger(client, auth, member_id: str) -> list[dict]:
    return client.get(f"/v1/members/{member_id}/ledger?limit=500", headers=auth("staff")).get_json()["data"]
