from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from loyalty.core.db import utcnow
from loyalty.scheduler import run_job
from tests.factories import balance, create_member, ledger, post_order


@pytest.fixture
def member(client, auth):
    member = create_member(client, auth)
    post_order(client, auth, member["id"], f"seed-{member['id']}", "1000")
    return member


def redeem(client, auth, **body):
    return client.post("/v1/redemptions", json=body, headers=auth("pos"))


def test_hold_then_capture(client, auth, member):
    held = redeem(client, auth, member_id=member["id"], points=300)
    assert held.status_code == 201, held.get_json()
    body = held.get_json()
    assert body["status"] == "held" and body["points"] == 300 and body["value"] == "3.00" and body["expires_at"]
    assert balance(client, auth, member["id"])["available"] == 700  # held points can't be spent twice
    assert [e["kind"] for e in ledger(client, auth, member["id"])] == ["earn"]  # nothing spent yet
    captured = client.post(f"/v1/redemptions/{body['id']}/capture", headers=auth("pos"))
    assert captured.status_code == 200 and captured.get_json()["status"] == "captured"
    again = client.post(f"/v1/redemptions/{body['id']}/capture", headers=auth("pos"))
    assert again.status_code == 200
    entries = ledger(client, auth, member["id"])
    assert [(e["kind"], e["points"]) for e in entries] == [("redeem", -300), ("earn", 1000)]
    assert entries[0]["source"] == {"type": "redemption", "id": body["id"]}
    assert balance(client, auth, member["id"])["available"] == 700


def test_cancel_gives_points_back_and_a_captured_one_cant_be_cancelled(client, auth, member):
    held = redeem(client, auth, member_id=member["id"], points=400).get_json()
    cancelled = client.post(f"/v1/redemptions/{held['id']}/cancel", headers=auth("pos"))
    assert cancelled.get_json()["status"] == "cancelled"
    assert balance(client, auth, member["id"])["available"] == 1000
    late = client.post(f"/v1/redemptions/{held['id']}/capture", headers=auth("pos"))
    assert late.status_code == 409 and late.get_json()["code"] == "redemption_not_held"
    done = redeem(client, auth, member_id=member["id"], points=100, capture=True).get_json()
    assert done["status"] == "captured"
    refused = client.post(f"/v1/redemptions/{done['id']}/cancel", headers=auth("pos"))
    assert refused.status_code == 409


def test_not_enough_points_is_409_with_what_is_available(client, auth, member):
    response = redeem(client, auth, member_id=member["id"], points=1001)
    assert response.status_code == 409
    body = response.get_json()
    assert body["code"] == "insufficient_points" and body["available"] == 1000 and body["requested"] == 1001


def test_max_redeem_share_is_enforced_against_the_order(client, auth, member):
    # 50% of 40.00 is 20.00, which is 2000 points at 0.01.
    assert (
        redeem(client, auth, member_id=member["id"], points=600, order_id="cart-1", order_amount="10").status_code
        == 422
    )
    assert (
        redeem(client, auth, member_id=member["id"], points=500, order_id="cart-1", order_amount="10").status_code
        == 201
    )
    second = redeem(client, auth, member_id=member["id"], points=1, order_id="cart-1", order_amount="10")
    assert second.status_code == 422 and "points" in second.get_json()["errors"]


def test_holds_past_their_time_are_released_by_the_job(client, auth, member, db, config):
    held = redeem(client, auth, member_id=member["id"], points=250).get_json()
    later = utcnow() + timedelta(minutes=16)
    local_day = later.astimezone(ZoneInfo("Asia/Shanghai")).date()  # as-of dates are the program's
    with time_machine.travel(later, tick=False):
        earlier_day = local_day - timedelta(days=1)
        assert run_job("redemptions.release", db=db, config=config, as_of=earlier_day) == {"released": 0}
        assert run_job("redemptions.release", db=db, config=config, as_of=local_day) == {"released": 1}
        assert run_job("redemptions.release", db=db, config=config, as_of=local_day) == {"released": 0}
        assert client.get(f"/v1/redemptions/{held['id']}", headers=auth("pos")).get_json()["status"] == "expired"
        assert balance(client, auth, member["id"])["available"] == 1000
        late = client.post(f"/v1/redemptions/{held['id']}/capture", headers=auth("pos"))
        assert late.status_code == 409


def test_capturing_a_timed_out_hold_before_the_job_releases_it(client, auth, member):
    held = redeem(client, auth, member_id=member["id"], points=250).get_json()
    with time_machine.travel(utcnow() + timedelta(minutes=20), tick=False):
        late = client.post(f"/v1/redemptions/{held['id']}/capture", headers=auth("pos"))
        assert late.status_code == 409 and late.get_json()["redemption_status"] == "expired"
        assert balance(client, auth, member["id"])["available"] == 1000


@pytest.mark.parametrize("status, code", [("blocked", "member_blocked"), ("suspended", "member_suspended")])
def test_blocked_and_suspended_members_cant_redeem(client, auth, member, status, code):
    client.patch(f"/v1/members/{member['id']}", json={"status": status}, headers=auth("staff"))
    response = redeem(client, auth, member_id=member["id"], points=10)
    assert response.status_code == 403 and response.get_json()["code"] == code


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"member_id": "x"},
        {"member_id": "x", "points": 0},
        {"member_id": "x", "points": -5},
        {"member_id": "x", "points": "10"},
        {"member_id": "x", "points": 5, "capture": "yes"},
    ],
)
def test_bad_redemptions_are_422(client, auth, body):
    assert redeem(client, auth, **body).status_code == 422


def test_rewards_issue_a_coupon_and_stock_is_kept(client, auth, member, db):
    reward = client.post(
        "/v1/rewards", json={"name": "Tea cup", "kind": "gift", "points_cost": 300, "stock": 1}, headers=auth()
    ).get_json()
    first = redeem(client, auth, member_id=member["id"], reward_id=reward["id"], capture=True).get_json()
    assert first["status"] == "captured" and first["points"] == 300 and len(first["coupon_code"]) == 12
    sold_out = redeem(client, auth, member_id=member["id"], reward_id=reward["id"])
    assert sold_out.status_code == 409 and sold_out.get_json()["code"] == "out_of_stock"
    assert client.get(f"/v1/rewards/{reward['id']}", headers=auth("pos")).get_json()["stock"] == 0
    assert balance(client, auth, member["id"])["available"] == 700


def test_a_cancelled_reward_hold_gives_the_stock_back(client, auth, member):
    reward = client.post(
        "/v1/rewards", json={"name": "Cup", "kind": "gift", "points_cost": 10, "stock": 1}, headers=auth()
    ).get_json()
    held = redeem(client, auth, member_id=member["id"], reward_id=reward["id"]).get_json()
    client.post(f"/v1/redemptions/{held['id']}/cancel", headers=auth("pos"))
    assert client.get(f"/v1/rewards/{reward['id']}", headers=auth()).get_json()["stock"] == 1


def test_rewards_check_tier_and_validity(client, auth, member, db):
    from decimal import Decimal

    from loyalty.tiers.models import Tier

    with db.unit_of_work() as session:
        session.add_all(
            [
                Tier(
                    code="regular",
                    name="R",
                    rank=0,
                    threshold=Decimal(0),
                    discount_percent=Decimal(0),
                    earn_multiplier=Decimal(1),
                    benefits="",
                ),
                Tier(
                    code="vip",
                    name="V",
                    rank=3,
                    threshold=Decimal(30000),
                    discount_percent=Decimal(10),
                    earn_multiplier=Decimal(2),
                    benefits="",
                ),
            ]
        )
    vip_only = client.post(
        "/v1/rewards", json={"name": "Tasting", "kind": "gift", "points_cost": 10, "min_tier": "vip"}, headers=auth()
    ).get_json()
    refused = redeem(client, auth, member_id=member["id"], reward_id=vip_only["id"])
    assert refused.status_code == 409 and refused.get_json()["code"] == "reward_unavailable"
    ended = client.post(
        "/v1/rewards",
        json={
            "name": "Old",
            "kind": "gift",
            "points_cost": 10,
            "valid_until": (utcnow() - timedelta(days=1)).isoformat(),
        },
        headers=auth(),
    )
    assert redeem(client, auth, member_id=member["id"], reward_id=ended.get_json()["id"]).status_code == 409
    assert (
        client.post(
            "/v1/rewards", json={"name": "X", "kind": "gift", "points_cost": 1, "min_tier": "nope"}, headers=auth()
        ).status_code
        == 422
    )
    assert (
        client.post(
            "/v1/rewards", json={"name": "X", "kind": "percent_off", "points_cost": 1, "value": "101"}, headers=auth()
        ).status_code
        == 422
    )
    assert (
        client.post(
            "/v1/rewards", json={"name": "X", "kind": "amount_off", "points_cost": 1}, headers=auth()
        ).status_code
        == 422
    )
    assert (
        client.post(
            "/v1/rewards", json={"name": "X", "kind": "gift", "points_cost": 1}, headers=auth("pos")
        ).status_code
        == 403
    )


def test_adjustments_record_reason_and_actor(client, auth, member):
    credit = client.post(
        f"/v1/members/{member['id']}/adjustments", json={"points": 50, "reason": "goodwill"}, headers=auth("staff")
    )
    assert credit.status_code == 201 and credit.get_json()["kind"] == "adjust"
    assert credit.get_json()["actor"].startswith("key:") and credit.get_json()["note"] == "goodwill"
    debit = client.post(
        f"/v1/members/{member['id']}/adjustments", json={"points": -1050, "reason": "correction"}, headers=auth("staff")
    )
    assert debit.status_code == 201
    assert balance(client, auth, member["id"])["available"] == 0
    over = client.post(
        f"/v1/members/{member['id']}/adjustments", json={"points": -1, "reason": "x"}, headers=auth("staff")
    )
    assert over.status_code == 409 and over.get_json()["code"] == "insufficient_points"
    for bad in ({"points": 0, "reason": "x"}, {"points": 5}, {"points": 5, "reason": ""}):
        assert (
            client.post(f"/v1/members/{member['id']}/adjustments", json=bad, headers=auth("staff")).status_code == 422
        )
    assert (
        client.post(
            f"/v1/members/{member['id']}/adjustments", json={"points": 5, "reason": "x"}, headers=auth("storefront")
        ).status_code
        == 403
    )


def test_a_coupon_is_accepted_once(client, auth, member):
    reward = client.post(
        "/v1/rewards", json={"name": "Cup", "kind": "gift", "points_cost": 10}, headers=auth()
    ).get_json()
    code = redeem(client, auth, member_id=member["id"], reward_id=reward["id"], capture=True).get_json()["coupon_code"]
    first = client.post(f"/v1/coupons/{code.lower()}/use", headers=auth("pos"))
    assert first.status_code == 200 and first.get_json()["used_at"]
    again = client.post(f"/v1/coupons/{code}/use", headers=auth("pos"))
    assert again.status_code == 409 and again.get_json()["code"] == "coupon_unusable"
    assert client.post("/v1/coupons/NOPE/use", headers=auth("pos")).status_code == 404
    with time_machine.travel(utcnow() + timedelta(days=91), tick=False):
        other = redeem(client, auth, member_id=member["id"], reward_id=reward["id"], capture=True).get_json()
    with time_machine.travel(utcnow() + timedelta(days=200), tick=False):
        late = client.post(f"/v1/coupons/{other['coupon_code']}/use", headers=auth("pos"))
        assert late.status_code == 409 and late.get_json()["reason"] == "expired"


def test_every_entry_names_its_actor(client, auth, member):
    entries = ledger(client, auth, member["id"])
    assert all(e["actor"] for e in entries)
