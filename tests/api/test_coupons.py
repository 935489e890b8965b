"""Coupons: codes read as printed everywhere, checked without using, listed per member, the order they
were used on, and refused for members who may not spend."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from tests.clock import now
from tests.factories import create_member, post_order


@pytest.fixture
def member(client, auth):
    member = create_member(client, auth)
    post_order(client, auth, member["id"], f"seed-{member['id']}", "1000")
    return member


@pytest.fixture
def reward(client, auth):
    return client.post(
        "/v1/rewards", json={"name": "Ten off", "kind": "amount_off", "value": "10", "points_cost": 100}, headers=auth()
    ).get_json()


def buy(client, auth, member_id, reward_id) -> str:
    response = client.post(
        "/v1/redemptions", json={"member_id": member_id, "reward_id": reward_id, "capture": True}, headers=auth("pos")
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()["coupon_code"]


def printed(code: str) -> str:
    return f"{code[:4]}-{code[4:8]}-{code[8:]}".lower()


def test_a_code_printed_with_separators_is_used_and_checked_as_the_pos_finds_it(client, auth, member, reward):
    code = buy(client, auth, member["id"], reward["id"])
    for written in (printed(code), f" {code[:6]} {code[6:]} ", code.lower().replace("a", "Ａ")):
        assert client.get(f"/v1/coupons/{written}", headers=auth("pos")).get_json()["code"] == code, written
        assert client.get(f"/v1/pos/members/{written}", headers=auth("pos")).get_json()["member_id"] == member["id"]
    used = client.post(f"/v1/coupons/{printed(code)}/use", headers=auth("pos"))
    assert used.status_code == 200, used.get_json()
    assert used.get_json()["code"] == code and used.get_json()["status"] == "used"
    again = client.post(f"/v1/coupons/{code}/use", headers=auth("storefront"))
    assert again.status_code == 409 and again.get_json()["code"] == "coupon_unusable"
    assert again.get_json()["reason"] == "used"
    for nonsense in ("NOPE", "ABCDEFGHJKM0", "x" * 80):
        missing = client.get(f"/v1/coupons/{nonsense}", headers=auth("pos"))
        assert missing.status_code == 404 and missing.get_json()["code"] == "not_found"
        assert client.post(f"/v1/coupons/{nonsense}/use", headers=auth("pos")).status_code == 404


def test_checking_a_coupon_says_what_it_is_without_using_it(client, auth, member, reward):
    code = buy(client, auth, member["id"], reward["id"])
    for role in ("storefront", "pos", "staff"):
        body = client.get(f"/v1/coupons/{code}", headers=auth(role)).get_json()
        assert body["status"] == "valid" and body["usable"] is True and body["used_at"] is None
        assert body["member_id"] == member["id"] and body["valid_until"]
        assert body["reward"] == {"id": reward["id"], "name": "Ten off", "kind": "amount_off", "value": "10.00"}
    assert client.post(f"/v1/coupons/{code}/use", headers=auth("staff")).status_code == 403  # staff read, tills use
    with time_machine.travel(now() + timedelta(days=91), tick=False):
        assert client.get(f"/v1/coupons/{code}", headers=auth("pos")).get_json()["status"] == "expired"
        late = client.post(f"/v1/coupons/{code}/use", headers=auth("pos"))
        assert late.status_code == 409 and late.get_json()["reason"] == "expired"


def test_a_coupon_records_the_order_it_was_used_on(client, auth, member, reward):
    code = buy(client, auth, member["id"], reward["id"])
    used = client.post(f"/v1/coupons/{code}/use", json={"order_id": "web-555"}, headers=auth("storefront"))
    assert used.status_code == 200 and used.get_json()["order_id"] == "web-555"
    # The till retrying for the same order is answered as is; another order is refused.
    assert client.post(f"/v1/coupons/{code}/use", json={"order_id": "web-555"}, headers=auth("pos")).status_code == 200
    other = client.post(f"/v1/coupons/{code}/use", json={"order_id": "web-556"}, headers=auth("pos"))
    assert other.status_code == 409 and other.get_json()["reason"] == "used"
    assert client.get(f"/v1/coupons/{code}", headers=auth("staff")).get_json()["order_id"] == "web-555"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"order_id": ""}, "order_id"),
        ({"order_id": "has space"}, "order_id"),
        ({"order_id": 5}, "order_id"),
        ({"order": "x"}, "order"),
    ],
)
def test_a_bad_use_body_is_422_and_uses_nothing(client, auth, member, reward, body, field):
    code = buy(client, auth, member["id"], reward["id"])
    response = client.post(f"/v1/coupons/{code}/use", json=body, headers=auth("pos"))
    assert response.status_code == 422 and field in response.get_json()["errors"]
    assert client.get(f"/v1/coupons/{code}", headers=auth("pos")).get_json()["status"] == "valid"


@pytest.mark.parametrize(
    "status, http, code", [("blocked", 403, "member_blocked"), ("suspended", 403, "member_suspended")]
)
def test_coupons_of_members_who_may_not_spend_are_refused(client, auth, member, reward, status, http, code):
    coupon = buy(client, auth, member["id"], reward["id"])
    client.patch(f"/v1/members/{member['id']}", json={"status": status}, headers=auth("staff"))
    refused = client.post(f"/v1/coupons/{coupon}/use", headers=auth("pos"))
    assert refused.status_code == http and refused.get_json()["code"] == code
    checked = client.get(f"/v1/coupons/{coupon}", headers=auth("pos")).get_json()
    assert checked["status"] == "valid" and checked["usable"] is False and checked["used_at"] is None


def test_coupons_of_erased_members_are_refused(client, auth, member, reward):
    coupon = buy(client, auth, member["id"], reward["id"])
    assert client.delete(f"/v1/members/{member['id']}", headers=auth("staff")).status_code in (200, 204)
    refused = client.post(f"/v1/coupons/{coupon}/use", headers=auth("pos"))
    assert refused.status_code == 409 and refused.get_json()["code"] == "member_erased"


def test_a_members_coupons_are_listed_newest_first_a_page_at_a_time(client, auth, member, reward):
    codes = []
    for day in range(3):
        with time_machine.travel(now() + timedelta(days=day), tick=False):
            codes.append(buy(client, auth, member["id"], reward["id"]))
    client.post(f"/v1/coupons/{codes[0]}/use", headers=auth("pos"))
    first = client.get(f"/v1/members/{member['id']}/coupons?limit=2", headers=auth("storefront")).get_json()
    assert [c["code"] for c in first["data"]] == [codes[2], codes[1]] and first["next_cursor"]
    rest = client.get(
        f"/v1/members/{member['id']}/coupons?limit=2&cursor={first['next_cursor']}", headers=auth("staff")
    ).get_json()
    assert [c["code"] for c in rest["data"]] == [codes[0]] and rest["next_cursor"] is None
    assert rest["data"][0]["status"] == "used" and rest["data"][0]["reward"]["value"] == "10.00"
    valid = client.get(f"/v1/members/{member['id']}/coupons?status=valid", headers=auth("pos")).get_json()
    assert [c["code"] for c in valid["data"]] == [codes[2], codes[1]]
    used = client.get(f"/v1/members/{member['id']}/coupons?status=used", headers=auth("pos")).get_json()
    assert [c["code"] for c in used["data"]] == [codes[0]]


def test_member_coupon_lists_refuse_bad_queries(client, auth, member):
    path = f"/v1/members/{member['id']}/coupons"
    assert client.get(f"{path}?status=lost", headers=auth("pos")).get_json()["errors"].keys() == {"status"}
    assert client.get(f"{path}?limit=0", headers=auth("pos")).status_code == 422
    assert client.get(f"{path}?cursor=nonsense", headers=auth("pos")).get_json()["code"] == "invalid_cursor"
    assert client.get("/v1/members/mbr_nobody/coupons", headers=auth("pos")).status_code == 404
    assert client.get(path, headers=auth("pos")).get_json() == {"data": [], "next_cursor": None}


def test_a_merged_members_coupons_are_the_survivors(client, auth, member, reward):
    other = create_member(client, auth)
    post_order(client, auth, other["id"], f"seed-{other['id']}", "500")
    code = buy(client, auth, other["id"], reward["id"])
    merged = client.post(f"/v1/members/{member['id']}/merge", json={"member_id": other["id"]}, headers=auth("staff"))
    assert merged.status_code == 200, merged.get_json()
    listed = client.get(f"/v1/members/{member['id']}/coupons", headers=auth("staff")).get_json()
    assert [c["code"] for c in listed["data"]] == [code]
    assert client.get(f"/v1/coupons/{code}", headers=auth("pos")).get_json()["member_id"] == member["id"]
    assert client.post(f"/v1/coupons/{code}/use", headers=auth("pos")).status_code == 200
