"""Storefront and POS keys find members only by an exact identifier; browsing is staff's (issue 12)."""

from __future__ import annotations

import pytest

from tests.factories import create_member


@pytest.fixture
def member(client, auth):
    create_member(client, auth)
    return create_member(client, auth, tags=["vip"])


@pytest.mark.parametrize(
    "query",
    [
        "",
        "limit=500",
        "q=Member",
        "tag=vip",
        "tier=gold",
        "status=active",
        "cursor=abc",
        "email=x@example.com&q=Member",
        "external_id=ext-1&status=active",
    ],
)
def test_storefront_may_not_browse_members(client, auth, member, query):
    response = client.get(f"/v1/members?{query}", headers=auth("storefront"))
    assert response.status_code == 403, response.get_json()
    assert response.get_json()["code"] == "forbidden"
    assert "exact identifier" in response.get_json()["detail"]


@pytest.mark.parametrize("field", ["email", "phone", "external_id", "member_number"])
def test_storefront_finds_a_member_by_an_exact_identifier(client, auth, member, field):
    response = client.get("/v1/members", query_string={field: member[field]}, headers=auth("storefront"))
    assert response.status_code == 200, response.get_json()
    assert [found["id"] for found in response.get_json()["data"]] == [member["id"]]


@pytest.mark.parametrize("query", ["", "email=x@example.com", "q=Member"])
def test_pos_neither_browses_nor_searches_members(client, auth, member, query):
    # The till finds members through the POS lookup only.
    assert client.get(f"/v1/members?{query}", headers=auth("pos")).status_code == 403


@pytest.mark.parametrize("role", ["staff", "admin"])
def test_staff_and_admin_browse_and_filter(client, auth, member, role):
    everyone = client.get("/v1/members?limit=500", headers=auth(role))
    assert everyone.status_code == 200 and len(everyone.get_json()["data"]) == 2
    tagged = client.get("/v1/members?tag=vip&q=member", headers=auth(role))
    assert [found["id"] for found in tagged.get_json()["data"]] == [member["id"]]
    first = client.get("/v1/members?limit=1", headers=auth(role)).get_json()
    assert client.get(f"/v1/members?limit=1&cursor={first['next_cursor']}", headers=auth(role)).status_code == 200


def test_storefront_still_changes_the_member_it_addresses(client, auth, member):
    # Its checkout's profile page: the shop authenticated its customer; the change is audited.
    response = client.patch(
        f"/v1/members/{member['id']}", json={"email": "new@example.com"}, headers=auth("storefront")
    )
    assert response.status_code == 200
    assert response.get_json()["email"] == "new@example.com"


def test_a_storefront_key_reads_the_referrals_of_one_member_not_all(client, auth):
    member = create_member(client, auth)
    storefront = auth("storefront")
    refused = client.get("/v1/referrals?limit=500", headers=storefront)
    assert refused.status_code == 403 and refused.get_json()["code"] == "forbidden"
    assert client.get(f"/v1/referrals?referrer_id={member['id']}", headers=storefront).status_code == 200
    assert client.get("/v1/referrals?limit=500", headers=auth("staff")).status_code == 200


def test_a_storefront_key_sees_only_its_own_customers_side_of_a_referral(client, auth):
    referrer = create_member(client, auth)
    code = client.get(f"/v1/members/{referrer['id']}/referral", headers=auth("staff")).get_json()["code"]
    referee = client.post(
        "/v1/members", json={"name": "Friend", "referral_code": code}, headers=auth("storefront")
    ).get_json()
    storefront = auth("storefront")
    [mine] = client.get(f"/v1/referrals?referrer_id={referrer['id']}", headers=storefront).get_json()["data"]
    assert mine["referrer_id"] == referrer["id"] and mine["referee_id"] is None and mine["order_id"] is None
    [theirs] = client.get(f"/v1/referrals?referee_id={referee['id']}", headers=storefront).get_json()["data"]
    assert theirs["referee_id"] == referee["id"] and theirs["referrer_id"] is None
    [whole] = client.get(f"/v1/referrals?referrer_id={referrer['id']}", headers=auth("staff")).get_json()["data"]
    assert (whole["referrer_id"], whole["referee_id"]) == (referrer["id"], referee["id"])
