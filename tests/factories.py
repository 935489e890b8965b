"""Builders for test data."""

from __future__ import annotations

import itertools

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
