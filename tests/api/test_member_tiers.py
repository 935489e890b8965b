"""Grading: upgrade with the order, retention, one-step downgrades, floors, refunds never downgrade."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import time_machine
from sqlalchemy import select

from loyalty.scheduler import run_job
from loyalty.tiers.models import TierChange
from loyalty.webhooks.models import OutboxEvent
from tests.api.test_tiers import LADDER
from tests.clock import now, today
from tests.factories import create_member, order_payload, post_order

DAY = timedelta(days=1)


def _ladder(client, auth, ladder=LADDER):
    assert client.put("/v1/tiers", json={"tiers": ladder}, headers=auth()).status_code == 200


def _tier(client, auth, member_id):
    response = client.get(f"/v1/members/{member_id}/tier", headers=auth("staff"))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _evaluate(db, config, day: date) -> dict:
    return run_job("tiers.evaluate", db=db, config=config, as_of=day)


def _changes(db, member_id):
    with db.unit_of_work() as session:
        return [
            (c.from_code, c.to_code, c.reason)
            for c in session.scalars(
                select(TierChange).where(TierChange.member_id == member_id).order_by(TierChange.id)
            )
        ]


def test_the_qualifying_order_upgrades_at_once_and_the_multiplier_applies_from_the_next(client, auth, db):
    _ladder(client, auth)
    member = create_member(client, auth)
    first = post_order(client, auth, member["id"], "o-1", "1500")
    assert first["tier"] == "regular" and first["points_earned"] == 1500
    second = post_order(client, auth, member["id"], "o-2", "600")
    assert second["tier"] == "silver" and second["points_earned"] == 600  # earned at the old multiplier
    assert post_order(client, auth, member["id"], "o-3", "100")["points_earned"] == 120
    assert client.get(f"/v1/members/{member['id']}", headers=auth("staff")).get_json()["tier"] == "silver"
    assert client.get("/v1/orders/o-2", headers=auth("storefront")).get_json()["tier"] == "silver"
    assert _changes(db, member["id"]) == [("regular", "silver", "qualified")]
    with db.unit_of_work() as session:
        events = session.scalars(select(OutboxEvent).where(OutboxEvent.type == "tier.changed")).all()
        assert [(e.data["member_id"], e.data["from"], e.data["to"]) for e in events] == [
            (member["id"], "regular", "silver")
        ]
    body = _tier(client, auth, member["id"])
    assert body["tier"] == "silver" and body["next_tier"] == "gold" and body["to_next"] == "5800.00"
    assert body["qualifying_value"] == "2200.00" and body["discount_percent"] == "3"
    assert datetime.fromisoformat(body["kept_until"]) - datetime.fromisoformat(body["since"]) >= timedelta(days=365)
    assert body["history"][0]["source"] == "order:o-2"


def test_a_big_order_climbs_several_rungs_at_once_and_a_replay_changes_nothing(client, auth, db):
    _ladder(client, auth)
    member = create_member(client, auth)
    payload = order_payload(member["id"], "big", "9000")
    for _ in range(2):
        response = client.post("/v1/orders", json=payload, headers=auth("storefront"))
        assert response.status_code in (200, 201) and response.get_json()["tier"] == "gold"
    assert _changes(db, member["id"]) == [("regular", "gold", "qualified")]


def test_refunds_never_downgrade_not_even_at_the_next_review_inside_retention(client, auth, db, config):
    _ladder(client, auth)
    member = create_member(client, auth)
    post_order(client, auth, member["id"], "o-1", "3000", days_ago=1)
    response = client.post(
        "/v1/orders/o-1/refunds", json={"refund_id": "r-1", "amount": "3000"}, headers=auth("storefront")
    )
    assert response.status_code == 201, response.get_json()
    assert _tier(client, auth, member["id"])["tier"] == "silver"
    _evaluate(db, config, today())
    body = _tier(client, auth, member["id"])
    assert body["tier"] == "silver" and body["qualifying_value"] == "0.00"


def test_after_retention_a_member_who_no_longer_qualifies_goes_down_one_step_per_period(client, auth, db, config):
    _ladder(client, auth)
    member = create_member(client, auth)
    post_order(client, auth, member["id"], "o-1", "9000", days_ago=1)
    start = now()
    with time_machine.travel(start + 366 * DAY, tick=False):
        counts = _evaluate(db, config, today())
        assert counts["retention_ended"] == 1, counts
        assert _tier(client, auth, member["id"])["tier"] == "silver"  # one step, though only regular is reached
        again = _evaluate(db, config, today())
        assert again["retention_ended"] == 0 and _tier(client, auth, member["id"])["tier"] == "silver"
    with time_machine.travel(start + 500 * DAY, tick=False):
        _evaluate(db, config, today())
        assert _tier(client, auth, member["id"])["tier"] == "silver"  # kept a period after stepping down
    with time_machine.travel(start + 733 * DAY, tick=False):
        _evaluate(db, config, today())
        body = _tier(client, auth, member["id"])
        assert body["tier"] == "regular" and body["kept_until"] is None
    assert _changes(db, member["id"]) == [
        ("regular", "gold", "qualified"),
        ("gold", "silver", "retention_ended"),
        ("silver", "regular", "retention_ended"),
    ]


def test_a_member_still_qualifying_at_the_review_keeps_the_tier_another_period(client, auth, db, config):
    _ladder(client, auth)
    member = create_member(client, auth)
    post_order(client, auth, member["id"], "o-1", "2500", days_ago=1)
    start = now()
    with time_machine.travel(start + 300 * DAY, tick=False):
        post_order(client, auth, member["id"], "o-2", "2100", days_ago=1)
    with time_machine.travel(start + 366 * DAY, tick=False):
        counts = _evaluate(db, config, today())
        assert counts["renewed"] == 1 and counts["retention_ended"] == 0, counts
        body = _tier(client, auth, member["id"])
        assert body["tier"] == "silver"
        assert datetime.fromisoformat(body["kept_until"]) > now() + 360 * DAY
    assert _changes(db, member["id"]) == [("regular", "silver", "qualified")]


def test_a_staff_floor_lifts_the_tier_until_its_end_date_then_the_earned_tier_returns(client, auth, db, config):
    _ladder(client, auth)
    member = create_member(client, auth)
    until = today() + timedelta(days=30)
    response = client.post(
        f"/v1/members/{member['id']}/tier",
        json={"tier": "gold", "until": until.isoformat(), "reason": "service recovery"},
        headers=auth("staff"),
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["tier"] == "gold" and body["earned_tier"] == "regular"
    assert body["floor"]["reason"] == "service recovery" and body["kept_until"] == body["floor"]["until"]
    assert post_order(client, auth, member["id"], "o-1", "100")["points_earned"] == 150  # gold's multiplier
    _evaluate(db, config, today())
    assert _tier(client, auth, member["id"])["tier"] == "gold"
    with time_machine.travel(now() + 32 * DAY, tick=False):
        counts = _evaluate(db, config, today())
        assert counts["floor_ended"] == 1, counts
        body = _tier(client, auth, member["id"])
        assert body["tier"] == "regular" and body["floor"] is None
    assert [c[2] for c in _changes(db, member["id"])] == ["floor_set", "floor_ended"]


def test_a_floor_never_lowers_what_the_member_earned(client, auth, db):
    _ladder(client, auth)
    member = create_member(client, auth)
    post_order(client, auth, member["id"], "o-1", "9000")
    response = client.post(
        f"/v1/members/{member['id']}/tier",
        json={"tier": "silver", "until": (today() + timedelta(days=9)).isoformat(), "reason": "mistake"},
        headers=auth("staff"),
    )
    assert response.status_code == 200 and response.get_json()["tier"] == "gold"
    cleared = client.post(
        f"/v1/members/{member['id']}/tier", json={"tier": None, "reason": "undo"}, headers=auth("staff")
    )
    assert cleared.status_code == 200 and cleared.get_json()["floor"] is None
    assert cleared.get_json()["tier"] == "gold"


def test_floor_input_is_checked_and_staff_only(client, auth):
    _ladder(client, auth)
    member = create_member(client, auth)
    url = f"/v1/members/{member['id']}/tier"
    tomorrow = (today() + DAY).isoformat()
    for payload, field in (
        ({"tier": "platinum", "until": tomorrow, "reason": "x"}, "tier"),
        ({"tier": "gold", "until": "2001-01-01", "reason": "x"}, "until"),
        ({"tier": "gold", "reason": "x"}, "until"),
        ({"tier": "gold", "until": tomorrow, "reason": ""}, "reason"),
        ({"tier": "gold", "until": tomorrow}, "reason"),
    ):
        response = client.post(url, json=payload, headers=auth("staff"))
        assert response.status_code == 422 and field in response.get_json()["errors"], (payload, response.get_json())
    assert (
        client.post(
            url, json={"tier": "gold", "until": tomorrow, "reason": "x"}, headers=auth("storefront")
        ).status_code
        == 403
    )
    assert (
        client.post(
            "/v1/members/mbr_nobody/tier",
            json={"tier": "gold", "until": tomorrow, "reason": "x"},
            headers=auth("staff"),
        ).status_code
        == 404
    )
    assert _tier(client, auth, member["id"])["tier"] == "regular"


def test_a_lowered_ladder_upgrades_at_the_nightly_review_not_at_once(client, auth, db, config):
    _ladder(client, auth)
    member = create_member(client, auth)
    post_order(client, auth, member["id"], "o-1", "1000")
    cheaper = [dict(t) for t in LADDER]
    cheaper[1]["threshold"] = "900"
    _ladder(client, auth, cheaper)
    assert _tier(client, auth, member["id"])["tier"] == "regular"
    assert _evaluate(db, config, today())["qualified"] == 1
    assert _tier(client, auth, member["id"])["tier"] == "silver"


def test_orders_and_points_metrics(client, auth):
    ladder = [
        {"code": "regular", "name": "Regular", "rank": 0, "threshold": "0"},
        {"code": "silver", "name": "Silver", "rank": 1, "threshold": "3"},
    ]
    assert client.patch("/v1/program", json={"tier_metric": "orders_12m"}, headers=auth()).status_code == 200
    _ladder(client, auth, ladder)
    member = create_member(client, auth)
    post_order(client, auth, member["id"], "o-1", "10")
    post_order(client, auth, member["id"], "o-2", "10")
    assert _tier(client, auth, member["id"])["to_next"] == "1"
    assert post_order(client, auth, member["id"], "o-3", "10")["tier"] == "silver"
    assert client.patch("/v1/program", json={"tier_metric": "points_12m"}, headers=auth()).status_code == 200
    other = create_member(client, auth, email="p@example.com", phone="+8613900000001", external_id="p-1")
    assert post_order(client, auth, other["id"], "p-1", "2")["tier"] == "regular"
    assert post_order(client, auth, other["id"], "p-2", "1")["tier"] == "silver"


def test_merging_moves_history_and_qualification_to_the_survivor(client, auth, db):
    _ladder(client, auth)
    survivor = create_member(client, auth)
    other = create_member(client, auth, email="o@example.com", phone="+8613900000002", external_id="o-1")
    post_order(client, auth, survivor["id"], "s-1", "1500")
    post_order(client, auth, other["id"], "m-1", "2500")
    assert _tier(client, auth, other["id"])["tier"] == "silver"
    response = client.post(
        f"/v1/members/{survivor['id']}/merge", json={"member_id": other["id"]}, headers=auth("staff")
    )
    assert response.status_code == 200, response.get_json()
    body = _tier(client, auth, survivor["id"])
    assert body["tier"] == "silver" and body["qualifying_value"] == "4000.00"
    assert ("regular", "silver", "qualified") in _changes(db, survivor["id"])


def test_without_a_ladder_a_member_holds_no_tier(client, auth):
    member = create_member(client, auth)
    body = _tier(client, auth, member["id"])
    assert body["tier"] is None and body["next_tier"] is None and body["history"] == []


def test_tier_changes_are_on_the_member_timeline_and_page_with_the_rest(client, auth):
    _ladder(client, auth)
    member = create_member(client, auth)
    post_order(client, auth, member["id"], "t-1", "2500")
    client.patch(f"/v1/members/{member['id']}", json={"city": "Suzhou"}, headers=auth("staff"))
    client.post(
        f"/v1/members/{member['id']}/tier",
        json={"tier": "gold", "until": today().isoformat(), "reason": "vip event"},
        headers=auth("staff"),
    )
    seen, cursor = [], None
    while True:
        url = f"/v1/members/{member['id']}/timeline?limit=1" + (f"&cursor={cursor}" if cursor else "")
        body = client.get(url, headers=auth("staff")).get_json()
        seen += body["data"]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert len({item["id"] for item in seen}) == len(seen)
    tiers = [item["data"] for item in seen if item["type"] == "tier.changed"]
    assert [(t["from"], t["to"], t["reason"]) for t in tiers] == [
        ("silver", "gold", "floor_set"),
        ("regular", "silver", "qualified"),
    ]
    assert {"member.enrolled", "member.updated"} <= {item["type"] for item in seen}


def test_a_review_as_of_a_past_date_leaves_later_members_and_newer_tiers_alone(client, auth, db, config):
    _ladder(client, auth)
    member = create_member(client, auth)
    placed = datetime(2024, 6, 1, tzinfo=UTC).isoformat()
    post_order(client, auth, member["id"], "old-big", "50000", placed_at=placed)  # imported history
    post_order(client, auth, member["id"], "recent", "9000")
    assert _tier(client, auth, member["id"])["tier"] == "gold"
    counts = _evaluate(db, config, date(2024, 6, 30))
    assert counts["members"] == 0 and counts.get("qualified", 0) == 0
    body = _tier(client, auth, member["id"])
    assert body["tier"] == "gold" and datetime.fromisoformat(body["since"]).year == now().year


def test_an_erased_member_gets_no_floor(client, auth):
    _ladder(client, auth)
    member = create_member(client, auth)
    assert client.delete(f"/v1/members/{member['id']}", headers=auth("staff")).status_code == 204
    response = client.post(
        f"/v1/members/{member['id']}/tier",
        json={"tier": "gold", "until": today().isoformat(), "reason": "x"},
        headers=auth("staff"),
    )
    assert response.status_code == 409 and response.get_json()["code"] == "member_erased"


def test_kept_until_is_the_later_of_the_earned_retention_and_a_floor_on_the_same_tier(client, auth):
    _ladder(client, auth)
    member = create_member(client, auth)
    post_order(client, auth, member["id"], "o-1", "9000")
    until = today() + timedelta(days=800)
    body = client.post(
        f"/v1/members/{member['id']}/tier",
        json={"tier": "gold", "until": until.isoformat(), "reason": "ambassador"},
        headers=auth("staff"),
    ).get_json()
    assert body["kept_until"] == body["floor"]["until"]
    assert datetime.fromisoformat(body["kept_until"]).date() >= until


def test_pos_keys_use_the_pos_lookup_not_the_tier_details(client, auth):
    member = create_member(client, auth)
    assert client.get(f"/v1/members/{member['id']}/tier", headers=auth("pos")).status_code == 403


def test_points_metric_counts_only_the_earn_share_of_a_refund(client, auth):
    assert (
        client.patch(
            "/v1/program", json={"tier_metric": "points_12m", "first_order_bonus": 200}, headers=auth()
        ).status_code
        == 200
    )
    _ladder(client, auth)
    member = create_member(client, auth)
    post_order(client, auth, member["id"], "p-1", "1500")
    refund = client.post(
        "/v1/orders/p-1/refunds", json={"refund_id": "pr-1", "amount": "1000"}, headers=auth("storefront")
    )
    assert refund.status_code == 201 and refund.get_json()["points_reversed"] == 1133
    assert _tier(client, auth, member["id"])["qualifying_value"] == "500"  # 1500 - 1000, the bonus never counted


def test_the_ladder_as_read_can_be_written_back_and_may_change_the_metric(client, auth):
    _ladder(client, auth)
    body = client.get("/v1/tiers", headers=auth()).get_json()
    assert client.put("/v1/tiers", json=body, headers=auth()).status_code == 200
    body["tier_metric"] = "orders_12m"
    for tier, threshold in zip(body["tiers"], ["0", "5", "20"]):
        tier["threshold"] = threshold
    assert client.put("/v1/tiers", json=body, headers=auth()).get_json()["tier_metric"] == "orders_12m"
    assert client.get("/v1/program", headers=auth()).get_json()["tier_metric"] == "orders_12m"
