"""The rewards catalog as a feature: adding each kind, listing (all, active, inactive, a page at a
time), reading, changing and deactivating; what is refused (and that a refusal writes nothing);
who may read and who may change. Redeeming a reward is tested in test_redemptions.py, coupons in
test_coupons.py; here only what the catalog's own settings (active, valid_from) do to a redemption."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from tests.clock import now
from tests.factories import balance, create_member, post_order

CUP = {"name": "Tea cup", "kind": "gift", "points_cost": 300}


def create(client, auth, **body):
    response = client.post("/v1/rewards", json=body, headers=auth())
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def catalog(client, auth, query: str = "") -> list[dict]:
    response = client.get(f"/v1/rewards{query}", headers=auth("staff"))
    assert response.status_code == 200, response.get_json()
    return response.get_json()["data"]


def redeem(client, auth, member_id, reward_id):
    return client.post(
        "/v1/redemptions", json={"member_id": member_id, "reward_id": reward_id, "capture": True}, headers=auth("pos")
    )


@pytest.fixture
def member(client, auth):
    member = create_member(client, auth)
    post_order(client, auth, member["id"], f"seed-{member['id']}", "1000")
    return member


@pytest.mark.parametrize(
    "body, value",
    [
        ({"kind": "amount_off", "value": "25"}, "25.00"),
        ({"kind": "percent_off", "value": "15.5"}, "15.50"),
        ({"kind": "free_item"}, None),
        ({"kind": "gift"}, None),
    ],
)
def test_each_kind_is_added_with_the_catalog_defaults_and_read_back_alike(client, auth, body, value):
    created = create(client, auth, name="Reward", points_cost=120, **body)
    assert created["id"].startswith("rwd") and created["kind"] == body["kind"] and created["value"] == value
    assert created["points_cost"] == 120
    # What was not sent: active, 90 days to use the coupon, no description, unlimited, any tier, always valid.
    assert created["active"] is True and created["coupon_valid_days"] == 90 and created["description"] == ""
    assert created["stock"] is None and created["min_tier"] is None
    assert created["valid_from"] is None and created["valid_until"] is None
    assert created["created_at"] == created["updated_at"]
    read = client.get(f"/v1/rewards/{created['id']}", headers=auth("pos"))
    assert read.status_code == 200 and read.get_json() == created
    assert catalog(client, auth) == [created]


def test_everything_sent_is_kept(client, auth):
    starts = now().replace(microsecond=0) + timedelta(days=1)
    body = {
        "name": "Dinner for two",
        "description": "At the flagship store",
        "kind": "free_item",
        "points_cost": 5000,
        "stock": 20,
        "coupon_valid_days": 30,
        "valid_from": starts.isoformat(),
        "valid_until": (starts + timedelta(days=60)).isoformat(),
        "active": False,
    }
    created = create(client, auth, **body)
    for field in ("name", "description", "kind", "points_cost", "stock", "coupon_valid_days", "active"):
        assert created[field] == body[field], field
    assert created["valid_from"] == starts.isoformat()
    assert created["valid_until"] == (starts + timedelta(days=60)).isoformat()


def test_the_catalog_is_listed_all_active_or_inactive_and_a_page_at_a_time(client, auth):
    ids = [create(client, auth, **{**CUP, "name": f"Cup {n}"})["id"] for n in range(5)]
    retired = ids[1], ids[3]
    for reward_id in retired:
        assert client.patch(f"/v1/rewards/{reward_id}", json={"active": False}, headers=auth()).status_code == 200
    assert [r["id"] for r in catalog(client, auth)] == sorted(ids)
    assert [r["id"] for r in catalog(client, auth, "?active=true")] == sorted(set(ids) - set(retired))
    assert [r["id"] for r in catalog(client, auth, "?active=false")] == sorted(retired)
    seen, cursor, pages = [], None, 0
    while True:
        query = "?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(f"/v1/rewards{query}", headers=auth("storefront")).get_json()
        assert len(page["data"]) <= 2
        seen += [r["id"] for r in page["data"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(ids) and pages == 3


@pytest.mark.parametrize(
    "query, status, code",
    [
        ("?limit=0", 422, "validation_error"),
        ("?limit=501", 422, "validation_error"),
        ("?active=maybe", 422, "validation_error"),
        ("?cursor=not-a-cursor", 400, "invalid_cursor"),
    ],
)
def test_bad_list_queries_are_refused(client, auth, query, status, code):
    create(client, auth, **CUP)
    response = client.get(f"/v1/rewards{query}", headers=auth("staff"))
    assert response.status_code == status and response.get_json()["code"] == code


def test_a_patch_changes_only_what_it_sends(client, auth):
    reward = create(client, auth, **CUP, stock=5, description="Porcelain")
    with time_machine.travel(now() + timedelta(hours=1), tick=False):
        changed = client.patch(f"/v1/rewards/{reward['id']}", json={"name": "Big tea cup", "stock": 2}, headers=auth())
        at = now()
    assert changed.status_code == 200, changed.get_json()
    body = changed.get_json()
    assert body["name"] == "Big tea cup" and body["stock"] == 2
    assert body["updated_at"] == at.isoformat() and body["created_at"] == reward["created_at"]
    unchanged = {k: v for k, v in reward.items() if k not in ("name", "stock", "updated_at")}
    assert {k: v for k, v in body.items() if k not in ("name", "stock", "updated_at")} == unchanged
    assert client.get(f"/v1/rewards/{reward['id']}", headers=auth("pos")).get_json() == body
    # null stock: unlimited again
    assert client.patch(f"/v1/rewards/{reward['id']}", json={"stock": None}, headers=auth()).get_json()["stock"] is None


def test_a_deactivated_reward_is_not_redeemed_until_it_is_active_again(client, auth, member):
    reward = create(client, auth, **CUP)
    off = client.patch(f"/v1/rewards/{reward['id']}", json={"active": False}, headers=auth())
    assert off.status_code == 200 and off.get_json()["active"] is False
    refused = redeem(client, auth, member["id"], reward["id"])
    assert refused.status_code == 409 and refused.get_json()["code"] == "reward_unavailable"
    assert balance(client, auth, member["id"])["available"] == 1000
    assert client.patch(f"/v1/rewards/{reward['id']}", json={"active": True}, headers=auth()).status_code == 200
    bought = redeem(client, auth, member["id"], reward["id"])
    assert bought.status_code == 201, bought.get_json()
    assert balance(client, auth, member["id"])["available"] == 700


def test_a_reward_is_redeemed_from_its_valid_from_on(client, auth, member):
    starts = now().replace(microsecond=0) + timedelta(days=2)
    reward = create(client, auth, **CUP, valid_from=starts.isoformat())
    early = redeem(client, auth, member["id"], reward["id"])
    assert early.status_code == 409 and early.get_json()["code"] == "reward_unavailable"
    assert balance(client, auth, member["id"])["available"] == 1000
    with time_machine.travel(starts, tick=False):
        assert redeem(client, auth, member["id"], reward["id"]).status_code == 201


@pytest.mark.parametrize(
    "body, field",
    [
        ({"kind": "discount"}, "kind"),
        ({"kind": "amount_off"}, "value"),  # money off needs an amount
        ({"kind": "percent_off", "value": None}, "value"),
        ({"kind": "percent_off", "value": "100.01"}, "value"),
        ({"kind": "amount_off", "value": "-1"}, "value"),
        ({"kind": "amount_off", "value": "ten"}, "value"),
        ({"kind": "amount_off", "value": "1.23456"}, "value"),
        ({"points_cost": 0}, "points_cost"),
        ({"points_cost": -10}, "points_cost"),
        ({"points_cost": "300"}, "points_cost"),
        ({"points_cost": 2.5}, "points_cost"),
        ({"points_cost": True}, "points_cost"),
        ({"name": ""}, "name"),
        ({"name": 7}, "name"),
        ({"stock": -1}, "stock"),
        ({"stock": "5"}, "stock"),
        ({"active": "yes"}, "active"),
        ({"coupon_valid_days": 0}, "coupon_valid_days"),
        ({"valid_from": "tomorrow"}, "valid_from"),
        ({"valid_from": "2026-12-01T00:00:00+08:00", "valid_until": "2026-12-01T00:00:00+08:00"}, "valid_until"),
        ({"min_tier": "nope"}, "min_tier"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_refused_reward_is_422_and_adds_nothing(client, auth, body, field):
    response = client.post("/v1/rewards", json={**CUP, **body}, headers=auth())
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["code"] == "validation_error" and field in response.get_json()["errors"]
    assert catalog(client, auth) == []


@pytest.mark.parametrize("missing", ["name", "kind", "points_cost"])
def test_a_reward_without_a_required_field_is_422(client, auth, missing):
    body = {k: v for k, v in CUP.items() if k != missing}
    response = client.post("/v1/rewards", json=body, headers=auth())
    assert response.status_code == 422 and missing in response.get_json()["errors"]
    assert catalog(client, auth) == []


@pytest.mark.parametrize(
    "start, body, field",
    [
        ({"kind": "percent_off", "value": "10"}, {"kind": "discount"}, "kind"),
        ({"kind": "percent_off", "value": "10"}, {"value": "101"}, "value"),  # judged with the kind it has
        ({"kind": "amount_off", "value": "150"}, {"kind": "percent_off"}, "value"),  # 150 % off
        ({"kind": "gift"}, {"kind": "amount_off"}, "value"),  # money off, of nothing
        ({"kind": "amount_off", "value": "5"}, {"value": None}, "value"),
        (
            {"kind": "gift", "valid_from": "2026-12-01T00:00:00+08:00"},
            {"valid_until": "2026-11-30T00:00:00+08:00"},
            "valid_until",
        ),  # before the valid_from it already has
        ({"kind": "gift"}, {"points_cost": 0}, "points_cost"),
        ({"kind": "gift"}, {"points_cost": "10"}, "points_cost"),
        ({"kind": "gift"}, {"min_tier": "nope"}, "min_tier"),
        ({"kind": "gift"}, {"active": 0}, "active"),
        ({"kind": "gift"}, {"id": "rwd_mine"}, "id"),
        ({"kind": "gift"}, {"created_at": "2026-01-01T00:00:00Z"}, "created_at"),
    ],
)
def test_a_refused_change_is_422_and_changes_nothing(client, auth, start, body, field):
    created = create(client, auth, name="R", points_cost=50, **start)
    reward = client.get(f"/v1/rewards/{created['id']}", headers=auth()).get_json()
    response = client.patch(f"/v1/rewards/{reward['id']}", json=body, headers=auth())
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["code"] == "validation_error" and field in response.get_json()["errors"]
    assert client.get(f"/v1/rewards/{reward['id']}", headers=auth()).get_json() == reward


def test_an_unknown_reward_is_404(client, auth):
    for response in (
        client.get("/v1/rewards/rwd_missing", headers=auth("storefront")),
        client.patch("/v1/rewards/rwd_missing", json={"active": False}, headers=auth()),
    ):
        assert response.status_code == 404 and response.get_json()["code"] == "not_found"


@pytest.mark.parametrize("role", ["storefront", "pos", "staff", "admin"])
def test_every_role_reads_the_catalog(client, auth, role):
    reward = create(client, auth, **CUP)
    listed = client.get("/v1/rewards", headers=auth(role))
    assert listed.status_code == 200 and [r["id"] for r in listed.get_json()["data"]] == [reward["id"]]
    read = client.get(f"/v1/rewards/{reward['id']}", headers=auth(role))
    assert read.status_code == 200 and read.get_json() == reward


@pytest.mark.parametrize("role", ["storefront", "pos", "staff"])
def test_only_an_admin_changes_the_catalog(client, auth, role):
    reward = create(client, auth, **CUP)
    added = client.post("/v1/rewards", json={**CUP, "name": "Mine"}, headers=auth(role))
    assert added.status_code == 403 and added.get_json()["code"] == "forbidden"
    changed = client.patch(f"/v1/rewards/{reward['id']}", json={"points_cost": 1, "active": False}, headers=auth(role))
    assert changed.status_code == 403 and changed.get_json()["code"] == "forbidden"
    assert catalog(client, auth) == [reward]


def test_the_catalog_needs_a_key(client, auth):
    reward = create(client, auth, **CUP)
    path = f"/v1/rewards/{reward['id']}"
    for response in (
        client.get("/v1/rewards"),
        client.get(path),
        client.post("/v1/rewards", json=CUP),
        client.patch(path, json={"stock": 1}),
    ):
        assert response.status_code == 401, response.get_json()
    assert catalog(client, auth) == [reward]
