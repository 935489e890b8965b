"""A shop's checkout written against the Python client generated from our OpenAPI document.

tests/clients/test_python_client.py type-checks this file with `mypy --strict` (and no explicit or
inferred `Any` here) beside the generated `loyalty_client` package, then runs it against a live
server. It is the proof that the document gives a client a shop can use as it comes: every value
below has the type the document promises, narrowed with isinstance only, never cast.

Not collected by pytest (no test_ prefix). Run by hand against a server:
    python python_storefront.py BASE_URL API_KEY PLACED_AT RUN_ID
PLACED_AT (ISO 8601) is passed in because the server's clock, not this machine's, decides what
counts as a past order. Prints one JSON line with what it saw, for the test to check against the API.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from http import HTTPStatus
from typing import TypeVar

from loyalty_client import AuthenticatedClient
from loyalty_client.api.members import members_create, members_list
from loyalty_client.api.orders import orders_create
from loyalty_client.api.points import points_balance
from loyalty_client.models import Balance, Member, MemberIn, MemberPage, Order, OrderIn, OrderItemIn, Problem
from loyalty_client.types import UNSET, Response, Unset

T = TypeVar("T")
PAGE_SIZE = 2


class StorefrontError(Exception):
    """The API answered something other than what the flow expected."""


def expect(response: Response[T | Problem], kind: type[T]) -> T:
    parsed = response.parsed
    if isinstance(parsed, kind):
        return parsed
    if isinstance(parsed, Problem):
        raise StorefrontError(f"{response.status_code} {parsed.code}: {parsed.detail}")
    raise StorefrontError(f"{response.status_code}: unexpected body {response.content[:200]!r}")


def enrol(client: AuthenticatedClient, run_id: str, n: int) -> Member:
    body = MemberIn(name=f"Shopper {n}", email=f"shopper{n}.{run_id}@example.com", tags=["storefront", run_id])
    return expect(members_create.sync_detailed(client=client, body=body, idempotency_key=f"{run_id}-enrol-{n}"), Member)


def place_order(client: AuthenticatedClient, member: Member, order_id: str, placed_at: datetime) -> Order:
    body = OrderIn(
        order_id=order_id,
        member_id=member.id,
        placed_at=placed_at,
        items=[OrderItemIn(sku="tea-1", quantity=2, unit_price="64.25", category="tea")],
    )
    response = orders_create.sync_detailed(client=client, body=body, idempotency_key=f"{order_id}-checkout")
    return expect(response, Order)


def points_of(client: AuthenticatedClient, member: Member) -> int:
    balance = expect(points_balance.sync_detailed(member.id, client=client), Balance)
    points: int = balance.available + balance.pending
    return points


def tagged_members(client: AuthenticatedClient, tag: str) -> tuple[list[str], int]:
    """Every member with the tag, a page at a time, following next_cursor until it is null."""
    ids: list[str] = []
    pages = 0
    cursor: str | Unset = UNSET
    while True:
        page = expect(members_list.sync_detailed(client=client, tag=tag, limit=PAGE_SIZE, cursor=cursor), MemberPage)
        pages += 1
        ids.extend(member.id for member in page.data)
        if page.next_cursor is None:
            return ids, pages
        cursor = page.next_cursor


def rejected_enrolment(client: AuthenticatedClient, run_id: str) -> Problem:
    """A request the types allow and the server refuses: the 422 must come back as a Problem."""
    body = MemberIn(name="No Mail", email="not an email address", tags=[run_id])
    response = members_create.sync_detailed(client=client, body=body)
    if response.status_code != HTTPStatus.UNPROCESSABLE_ENTITY or not isinstance(response.parsed, Problem):
        raise StorefrontError(f"expected a 422 problem, got {response.status_code}: {response.content[:200]!r}")
    return response.parsed


def main(base_url: str, api_key: str, placed_at: datetime, run_id: str) -> dict[str, object]:
    with AuthenticatedClient(base_url=base_url, token=api_key, raise_on_unexpected_status=True) as client:
        members = [enrol(client, run_id, n) for n in range(3)]
        shopper = members[0]
        order = place_order(client, shopper, f"{run_id}-o-1", placed_at)
        points = points_of(client, shopper)
        paged_ids, pages = tagged_members(client, run_id)
        problem = rejected_enrolment(client, run_id)
        field_errors = problem.errors.additional_properties if problem.errors else {}
    return {
        "enrolled": [member.id for member in members],
        "member_numbers": [member.member_number for member in members],
        "order_id": order.order_id,
        "points_earned": order.points_earned + order.bonus_points,
        "points": points,
        "paged": paged_ids,
        "pages": pages,
        "problem": {"status": problem.status, "code": problem.code, "fields": sorted(field_errors)},
    }


if __name__ == "__main__":
    _, url, key, when, run = sys.argv
    print(json.dumps(main(url, key, datetime.fromisoformat(when), run)))
