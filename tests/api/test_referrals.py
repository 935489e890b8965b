"""Referrals from code to reward, every refusal, and qualification that rewards once."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from loyalty.scheduler import run_job
from loyalty.webhooks.models import OutboxEvent
from tests.clock import now, today
from tests.factories import create_member, ledger, post_order

TERMS = {
    "referrer_points": 500,
    "referee_points": 200,
    "min_order_amount": "100",
    "link_template": "https://tea.example/join?ref={code}",
}


@pytest.fixture
def referrer(client, auth):
    assert client.patch("/v1/program", json={"referral": TERMS}, headers=auth()).status_code == 200
    return create_member(client, auth, email="lin.mei@gmail.com", phone="+8613900000001", external_id="shop-1")


def code_of(client, auth, member_id):
    response = client.get(f"/v1/members/{member_id}/referral", headers=auth("storefront"))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def sign_up(client, auth, code, **fields):
    fields.setdefault("email", "wang@example.com")
    fields.setdefault("phone", "+8613900000002")
    fields.setdefault("external_id", "shop-2")
    return create_member(client, auth, referral_code=code, **fields)


def qualify(db, config, *, days_later=15):
    """The job as of `days_later` days from now: past the 14-day return window of today's orders."""
    with time_machine.travel(now() + timedelta(days=days_later), tick=False):
        return run_job("referrals.qualify", db=db, config=config, as_of=today())


def referrals(client, auth, **filters):
    query = "&".join(f"{k}={v}" for k, v in filters.items())
    response = client.get(f"/v1/referrals?{query}", headers=auth("staff"))
    assert response.status_code == 200, response.get_json()
    return response.get_json()["data"]


def bonuses(client, auth, member_id):
    return [(e["points"], e["source"]["type"]) for e in ledger(client, auth, member_id) if e["kind"] == "bonus"]


def test_from_code_to_reward_once(client, auth, referrer, db, config):
    mine = code_of(client, auth, referrer["id"])
    code = mine["code"]
    assert len(code) == 8 and mine["link"] == f"https://tea.example/join?ref={code}" and mine["invited"] == 0
    friend = sign_up(client, auth, f"{code[:4].lower()}-{code[4:].lower()}")
    assert friend["referral"]["status"] == "pending" and friend["referral"]["reason"] is None
    assert friend["referred_by_code"] == friend["referral_code"] == code  # as typed, normalised
    post_order(client, auth, friend["id"], "first", "150", days_ago=0)
    assert qualify(db, config)["qualified"] == 1
    assert bonuses(client, auth, referrer["id"]) == [(500, "referral")]
    assert bonuses(client, auth, friend["id"]) == [(200, "referral")]
    assert qualify(db, config)["qualified"] == 0
    assert bonuses(client, auth, referrer["id"]) == [(500, "referral")]
    stats = code_of(client, auth, referrer["id"])
    assert (stats["invited"], stats["pending"], stats["qualified"], stats["rewarded_points"]) == (1, 0, 1, 500)
    [row] = referrals(client, auth, referrer_id=referrer["id"])
    assert (row["referee_id"], row["status"], row["order_id"], row["referee_points"]) == (
        friend["id"],
        "qualified",
        "first",
        200,
    )
    with db.unit_of_work() as session:
        [event] = session.scalars(select(OutboxEvent).where(OutboxEvent.type == "referral.qualified")).all()
        assert event.data["referrer_id"] == referrer["id"] and event.data["referrer_points"] == 500


def test_waits_for_the_return_window_then_qualifies(client, auth, referrer, db, config):
    friend = sign_up(client, auth, code_of(client, auth, referrer["id"])["code"])
    post_order(client, auth, friend["id"], "fresh", "150", days_ago=0)
    assert qualify(db, config, days_later=13)["qualified"] == 0
    assert referrals(client, auth, referee_id=friend["id"])[0]["status"] == "pending"
    assert qualify(db, config, days_later=15)["qualified"] == 1


def test_a_small_first_order_waits_for_one_that_meets_the_minimum(client, auth, referrer, db, config):
    friend = sign_up(client, auth, code_of(client, auth, referrer["id"])["code"])
    post_order(client, auth, friend["id"], "small", "30", days_ago=0)
    qualify(db, config)
    assert referrals(client, auth, referee_id=friend["id"])[0]["status"] == "pending"
    post_order(client, auth, friend["id"], "big", "120", days_ago=0)
    qualify(db, config)
    assert referrals(client, auth, referee_id=friend["id"])[0]["order_id"] == "big"


def test_an_unknown_code_still_enrols_and_says_why(client, auth, referrer):
    friend = sign_up(client, auth, "ZZZZ-ZZZZ")
    assert friend["referral"] == {"id": friend["referral"]["id"], "status": "rejected", "reason": "unknown_code"}
    [row] = referrals(client, auth, status="rejected")
    assert row["referrer_id"] is None and row["referee_id"] == friend["id"] and row["code"] == "ZZZZZZZZ"
    odd = create_member(
        client, auth, referral_code="not a code!", email="x@example.com", phone="+8613900000009", external_id="x"
    )
    assert odd["referral"]["reason"] == "unknown_code"


@pytest.mark.parametrize(
    "fields",
    [
        {"email": "linmei+2@gmail.com"},
        {"email": "l.inmei@googlemail.com"},
        {"phone": "+86 139 0000 0001"},
        {"external_id": "shop-1"},
    ],
)
def test_self_referral_is_refused_at_sign_up(client, auth, referrer, fields):
    code = code_of(client, auth, referrer["id"])["code"]
    other = {"email": "x@example.com", "phone": "+8613900000007", "external_id": "x"}
    if "phone" in fields or "external_id" in fields:  # the same phone or id is a duplicate member: 409
        response = client.post("/v1/members", json={**other, **fields, "referral_code": code}, headers=auth("staff"))
        assert response.status_code == 409
        return
    friend = create_member(client, auth, referral_code=code, **{**other, **fields})
    assert friend["referral"]["reason"] == "self_referral"


@pytest.mark.parametrize("status, reason", [("blocked", "referrer_blocked"), ("suspended", "referrer_suspended")])
def test_an_inactive_referrer_is_refused_at_sign_up_and_at_qualification(
    client, auth, referrer, db, config, status, reason
):
    code = code_of(client, auth, referrer["id"])["code"]
    early = sign_up(client, auth, code)
    post_order(client, auth, early["id"], "early-1", "150", days_ago=0)
    client.patch(f"/v1/members/{referrer['id']}", json={"status": status}, headers=auth("staff"))
    late = sign_up(client, auth, code, email="late@example.com", phone="+8613900000003", external_id="late")
    assert late["referral"]["reason"] == reason
    qualify(db, config)
    assert referrals(client, auth, referee_id=early["id"])[0]["reason"] == reason
    assert bonuses(client, auth, referrer["id"]) == []


def test_a_referee_who_had_ordered_before_is_not_new(client, auth, referrer, db, config):
    friend = sign_up(client, auth, code_of(client, auth, referrer["id"])["code"])
    placed = (now() - timedelta(days=90)).isoformat()
    post_order(client, auth, friend["id"], "imported", "300", placed_at=placed)
    qualify(db, config)
    row = referrals(client, auth, referee_id=friend["id"])[0]
    assert (row["status"], row["reason"]) == ("rejected", "referee_had_ordered")


def test_a_referee_merged_into_an_older_member_was_already_one(client, auth, referrer, db, config):
    older = create_member(client, auth, email="old@example.com", phone="+8613900000004", external_id="old")
    friend = sign_up(client, auth, code_of(client, auth, referrer["id"])["code"])
    client.post(f"/v1/members/{older['id']}/merge", json={"member_id": friend["id"]}, headers=auth("staff"))
    row = referrals(client, auth, referrer_id=referrer["id"])[0]
    assert (row["status"], row["reason"]) == ("rejected", "referee_already_member")


def test_a_fully_refunded_first_order_never_qualifies(client, auth, referrer, db, config):
    friend = sign_up(client, auth, code_of(client, auth, referrer["id"])["code"])
    post_order(client, auth, friend["id"], "returned", "150", days_ago=0)
    client.post("/v1/orders/returned/refunds", json={"refund_id": "r-1", "amount": "150"}, headers=auth("storefront"))
    post_order(client, auth, friend["id"], "second", "150", days_ago=0)
    qualify(db, config)
    row = referrals(client, auth, referee_id=friend["id"])[0]
    assert (row["status"], row["reason"], row["order_id"]) == ("rejected", "order_refunded", "returned")


def test_a_refund_after_qualification_leaves_the_rewards(client, auth, referrer, db, config):
    friend = sign_up(client, auth, code_of(client, auth, referrer["id"])["code"])
    post_order(client, auth, friend["id"], "kept", "150", days_ago=0)
    qualify(db, config)
    client.post("/v1/orders/kept/refunds", json={"refund_id": "r-2", "amount": "150"}, headers=auth("storefront"))
    assert bonuses(client, auth, referrer["id"]) == [(500, "referral")]
    assert referrals(client, auth, referee_id=friend["id"])[0]["status"] == "qualified"


def test_monthly_and_total_caps(client, auth, referrer, db, config):
    client.patch("/v1/program", json={"referral": {"monthly_cap": 1, "total_cap": 2}}, headers=auth())
    code = code_of(client, auth, referrer["id"])["code"]
    friends = [
        sign_up(client, auth, code, email=f"f{i}@example.com", phone=f"+861390000010{i}", external_id=f"f{i}")
        for i in range(3)
    ]
    for i, friend in enumerate(friends):
        post_order(client, auth, friend["id"], f"cap-{i}", "150", days_ago=0)
    counts = qualify(db, config)
    assert (counts["qualified"], counts["rejected"]) == (1, 2)
    assert sorted(r["reason"] or "" for r in referrals(client, auth, referrer_id=referrer["id"])) == [
        "",
        "monthly_cap_reached",
        "monthly_cap_reached",
    ]
    client.patch("/v1/program", json={"referral": {"monthly_cap": None, "total_cap": 1}}, headers=auth())
    late = sign_up(client, auth, code, email="late@example.com", phone="+8613900000199", external_id="late")
    post_order(client, auth, late["id"], "cap-late", "150", days_ago=0)
    qualify(db, config)
    assert referrals(client, auth, referee_id=late["id"])[0]["reason"] == "total_cap_reached"
    assert code_of(client, auth, referrer["id"])["rewarded_points"] == 500


def test_referral_endpoints_check_their_input(client, auth, referrer):
    assert client.get("/v1/referrals?status=maybe", headers=auth("staff")).status_code == 422
    assert client.get("/v1/referrals?cursor=nonsense", headers=auth("staff")).status_code == 400
    assert client.get("/v1/members/mbr_nobody/referral", headers=auth("staff")).status_code == 404
    assert client.get("/v1/referrals", headers=auth("pos")).status_code == 403
    bad = client.patch("/v1/program", json={"referral": {"link_template": "javascript:alert(1)"}}, headers=auth())
    assert bad.status_code == 422 and "referral.link_template" in bad.get_json()["errors"]


def test_codes_are_unique_and_stable(client, auth, referrer):
    codes = {code_of(client, auth, create_member(client, auth)["id"])["code"] for _ in range(20)}
    assert len(codes) == 20
    assert code_of(client, auth, referrer["id"])["code"] == code_of(client, auth, referrer["id"])["code"]


def test_an_erased_referrer_earns_nothing_more(client, auth, referrer, db, config):
    code = code_of(client, auth, referrer["id"])["code"]
    client.delete(f"/v1/members/{referrer['id']}", headers=auth("staff"))
    friend = sign_up(client, auth, code)
    assert friend["referral"]["reason"] == "referrer_gone"


def test_an_order_placed_at_the_sign_up_itself_is_the_first_order(client, auth, referrer, db, config):
    friend = sign_up(client, auth, code_of(client, auth, referrer["id"])["code"])
    placed = (now() - timedelta(seconds=2)).isoformat()  # the till's clock, a moment earlier
    post_order(client, auth, friend["id"], "at-checkout", "150", placed_at=placed)
    assert qualify(db, config)["qualified"] == 1
