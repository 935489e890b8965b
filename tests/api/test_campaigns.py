"""A win-back campaign end to end through the API: find, preview, launch, measure who came back."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from loyalty.campaigns import preview, rules, segments, service
from loyalty.campaigns.filters import compile_filters
from loyalty.campaigns.models import Campaign
from loyalty.care.models import Touch
from loyalty.scheduler import run_job
from loyalty.webhooks.models import OutboxEvent
from tests.clock import NOW, now, today
from tests.factories import create_member, ledger, order_payload

OPT_IN = {"sms": True, "marketing": True}


def order(client, auth, member_id, order_id, amount, at):
    payload = order_payload(member_id, order_id, amount, placed_at=at.isoformat())
    assert client.post("/v1/orders", json=payload, headers=auth("storefront")).status_code == 201


def job(db, config, name, at):
    with time_machine.travel(at, tick=False):
        return run_job(name, db=db, config=config, as_of=at.date())


def test_win_back_last_years_top_spenders_and_read_who_came_back(client, auth, db, config):
    staff = auth("staff")
    gone_a = create_member(client, auth, name="A", consent=OPT_IN)
    gone_b = create_member(client, auth, name="B", consent={"sms": True, "marketing": False})
    here = create_member(client, auth, name="C", consent=OPT_IN)
    small = create_member(client, auth, name="D", consent=OPT_IN)
    order(client, auth, gone_a["id"], "a-1", "9000", NOW - timedelta(days=200))
    order(client, auth, gone_b["id"], "b-1", "7000", NOW - timedelta(days=150))
    order(client, auth, here["id"], "c-1", "8000", NOW - timedelta(days=10))
    order(client, auth, small["id"], "d-1", "20", NOW - timedelta(days=200))
    job(db, config, "insights.refresh", NOW)

    cutoff = (today() - timedelta(days=90)).isoformat()
    found = client.post(
        "/v1/segments",
        json={"name": "gone whales", "filters": {"spend_12m_min": "5000", "last_order_before": cutoff}},
        headers=staff,
    ).get_json()
    assert found["members"] == 2
    campaign = client.post(
        "/v1/campaigns",
        json={
            "name": "We miss you",
            "segment_id": found["id"],
            "channel": "sms",
            "gift_points": 500,
            "send_rate": 1,
            "template": "{{ name }}, we miss you: {{ gift_points }} points are yours",
        },
        headers=staff,
    )
    assert campaign.status_code == 201, campaign.get_json()
    campaign_id = campaign.get_json()["id"]
    assert campaign.get_json()["status"] == "draft" and campaign.get_json()["starts_at"] is None
    preview = client.post(f"/v1/campaigns/{campaign_id}/preview", headers=staff).get_json()
    assert (preview["count"], preview["would_send"], preview["suppressed"]) == (2, 1, {"no_marketing_consent": 1})
    assert {s["member_id"] for s in preview["sample"]} == {gone_a["id"], gone_b["id"]}

    launched = client.post(f"/v1/campaigns/{campaign_id}/launch", headers=staff).get_json()
    assert launched["status"] == "running" and launched["starts_at"] == launched["launched_at"]
    assert client.post(f"/v1/campaigns/{campaign_id}/launch", headers=staff).status_code == 409
    at = NOW + timedelta(hours=1)
    assert job(db, config, "campaigns.run", at)["touches"] == 1  # the send rate: one a minute
    assert client.post(f"/v1/campaigns/{campaign_id}/pause", headers=staff).get_json()["status"] == "paused"
    assert job(db, config, "care.dispatch", at).get("sent", 0) == 0  # paused: nothing goes out
    assert job(db, config, "campaigns.run", at + timedelta(minutes=1))["touches"] == 0
    client.post(f"/v1/campaigns/{campaign_id}/resume", headers=staff)
    assert job(db, config, "campaigns.run", at + timedelta(minutes=2))["touches"] == 1
    dispatched = job(db, config, "care.dispatch", at + timedelta(minutes=3))
    assert dispatched["sent"] == 1 and dispatched["no_marketing_consent"] == 1, dispatched
    finished = job(db, config, "campaigns.run", at + timedelta(minutes=4))
    assert finished["finished"] == 1

    with time_machine.travel(at + timedelta(days=3), tick=False):
        order(client, auth, gone_a["id"], "a-back", "300", at + timedelta(days=3))  # A came back
        body = client.get(f"/v1/campaigns/{campaign_id}", headers=staff).get_json()
    assert body["status"] == "finished"
    assert body["results"] == {
        "targeted": 2,
        "sent": 1,
        "failed": 0,
        "suppressed": 1,
        "suppressed_by_reason": {"no_marketing_consent": 1},
        "waiting": 0,
        "responded": 0,
        "converted": 1,
        "points_spent": 1000,
        "held_out": 0,
        "converted_held_out": 0,
        "conversion_rate": "1",
        "conversion_rate_held_out": None,
        "lift": None,
        "relative_lift": None,
    }
    assert [e["points"] for e in ledger(client, auth, gone_a["id"]) if e["source"]["type"] == "touch"] == [500]
    summary = client.get("/v1/insights/summary", headers=staff).get_json()["campaigns"]
    assert [(c["id"], c["targeted"], c["converted"]) for c in summary] == [(campaign_id, 2, 1)]
    with db.unit_of_work() as session:
        [event] = session.scalars(select(OutboxEvent).where(OutboxEvent.type == "campaign.finished")).all()
        assert event.data["campaign_id"] == campaign_id and event.data["targeted"] == 2


def test_campaign_input_is_checked(client, auth):
    staff = auth("staff")
    seg = client.post("/v1/segments", json={"name": "all", "filters": {}}, headers=staff).get_json()
    for body, field in (
        ({"segment_id": "seg_none"}, "segment_id"),
        ({"template": "{{ 1/0 }}"}, "template"),
        ({"channel": "pigeon"}, "channel"),
        ({"send_rate": 0}, "send_rate"),
        ({"reward_id": "rwd_none"}, "reward_id"),
    ):
        payload = {"name": "x", "segment_id": seg["id"], "channel": "sms", "template": "Hi {{ name }}", **body}
        response = client.post("/v1/campaigns", json=payload, headers=staff)
        assert response.status_code == 422 and field in response.get_json()["errors"], (body, response.get_json())
    assert client.post("/v1/campaigns/cmp_none/launch", headers=staff).status_code == 404
    assert client.get("/v1/campaigns", headers=auth("storefront")).status_code == 403


def test_a_draft_can_be_changed_or_deleted_and_a_launched_campaign_cannot(client, auth):
    staff = auth("staff")
    first, second = (
        client.post("/v1/segments", json={"name": n, "filters": {}}, headers=staff).get_json()
        for n in ("first", "second")
    )
    draft = client.post(
        "/v1/campaigns",
        json={"name": "x", "segment_id": first["id"], "channel": "sms", "template": "Hi {{ name }}"},
        headers=staff,
    ).get_json()
    assert draft["holdout_percent"] == 0
    url = f"/v1/campaigns/{draft['id']}"
    changed = client.patch(
        url,
        json={"name": "Autumn", "segment_id": second["id"], "holdout_percent": 20, "starts_at": None},
        headers=staff,
    )
    assert changed.status_code == 200, changed.get_json()
    body = changed.get_json()
    assert (body["name"], body["segment_id"], body["holdout_percent"], body["template"], body["status"]) == (
        "Autumn",
        second["id"],
        20,
        "Hi {{ name }}",
        "draft",
    )
    for patch, field in (
        ({"holdout_percent": 51}, "holdout_percent"),
        ({"holdout_percent": -1}, "holdout_percent"),
        ({"segment_id": "seg_none"}, "segment_id"),
        ({"template": "{{ 1/0 }}"}, "template"),
        ({"name": ""}, "name"),
        ({"send_rate": 0}, "send_rate"),
        ({"reward_id": "rwd_x"}, "reward_id"),
    ):
        refused = client.patch(url, json={"conversion_days": 30, **patch}, headers=staff)
        assert refused.status_code == 422 and field in refused.get_json()["errors"], (patch, refused.get_json())
    assert client.get(url, headers=staff).get_json()["conversion_days"] == 14  # nothing written
    assert client.patch("/v1/campaigns/cmp_none", json={"name": "x"}, headers=staff).status_code == 404
    created = client.post(
        "/v1/campaigns",
        json={"name": "x", "segment_id": first["id"], "channel": "sms", "template": "Hi", "holdout_percent": 60},
        headers=staff,
    )
    assert created.status_code == 422 and "holdout_percent" in created.get_json()["errors"]

    doomed = client.post(
        "/v1/campaigns",
        json={"name": "y", "segment_id": first["id"], "channel": "sms", "template": "Hi"},
        headers=staff,
    ).get_json()
    assert client.delete(f"/v1/campaigns/{doomed['id']}", headers=staff).status_code == 204
    assert client.get(f"/v1/campaigns/{doomed['id']}", headers=staff).status_code == 404
    assert client.delete(f"/v1/campaigns/{doomed['id']}", headers=staff).status_code == 404

    client.post(f"{url}/launch", headers=staff)
    for refused in (client.patch(url, json={"name": "late"}, headers=staff), client.delete(url, headers=staff)):
        assert refused.status_code == 409 and refused.get_json()["code"] == "conflict", refused.get_json()
        assert refused.get_json()["campaign_status"] == "running"
    assert client.get(url, headers=staff).get_json()["name"] == "Autumn"


def test_a_hold_out_is_not_contacted_and_the_results_compare_against_it(client, auth, db, config):
    from decimal import Decimal
    from fractions import Fraction

    from loyalty.campaigns.rules import held_out

    staff = auth("staff")
    members = [create_member(client, auth, consent=OPT_IN) for _ in range(30)]
    silent = create_member(client, auth, consent={"sms": False})  # held back by consent, in or out of the hold-out
    everyone = client.post("/v1/segments", json={"name": "all", "filters": {}}, headers=staff).get_json()
    campaign = client.post(
        "/v1/campaigns",
        json={
            "name": "Test and learn",
            "segment_id": everyone["id"],
            "channel": "sms",
            "template": "Hi {{ name }}",
            "gift_points": 10,
            "holdout_percent": 50,
        },
        headers=staff,
    ).get_json()
    out = {m["id"] for m in members if held_out(campaign["id"], m["id"], 50)}
    contacted = [m["id"] for m in members if m["id"] not in out]
    assert 0 < len(out) < 30
    preview = client.post(f"/v1/campaigns/{campaign['id']}/preview", headers=staff).get_json()
    assert (preview["count"], preview["suppressed"], preview["held_out"], preview["would_send"]) == (
        31,
        {"no_consent": 1},
        len(out),
        len(contacted),
    )

    client.post(f"/v1/campaigns/{campaign['id']}/launch", headers=staff)
    at = NOW + timedelta(hours=1)
    assert job(db, config, "campaigns.run", at)["touches"] == 31
    dispatched = job(db, config, "care.dispatch", at)
    assert (dispatched["sent"], dispatched["held_out"], dispatched["no_consent"]) == (len(contacted), len(out), 1)
    assert job(db, config, "campaigns.run", at + timedelta(minutes=1))["finished"] == 1
    assert job(db, config, "care.dispatch", at + timedelta(minutes=2)) == {}  # nothing left, nothing twice
    touches = client.get(f"/v1/care/touches?campaign_id={campaign['id']}&limit=500", headers=staff).get_json()["data"]
    assert {t["member_id"] for t in touches if t["status"] == "held_out"} == out
    assert all(t["held_out"] == (t["member_id"] in out) for t in touches if t["status"] != "suppressed")
    with db.unit_of_work() as session:
        sent_to = {
            e.data["member_id"] for e in session.scalars(select(OutboxEvent).where(OutboxEvent.type == "touch.due"))
        }
    assert sent_to == set(contacted)
    assert all(not [e for e in ledger(client, auth, m) if e["source"]["type"] == "touch"] for m in out)  # no gift

    buyers = contacted[:3] + sorted(out)[:1]
    with time_machine.travel(at + timedelta(days=2), tick=False):
        for i, member_id in enumerate(buyers):
            order(client, auth, member_id, f"after-{i}", "50", at + timedelta(days=2))
        results = client.get(f"/v1/campaigns/{campaign['id']}", headers=staff).get_json()["results"]
    assert (results["targeted"], results["sent"], results["held_out"], results["suppressed"]) == (
        31,
        len(contacted),
        len(out),
        1,
    )
    assert (results["converted"], results["converted_held_out"]) == (3, 1)
    # gifts don't depend on the message getting through, but the hold-out gets none
    assert results["points_spent"] == 10 * (len(contacted) + (not held_out(campaign["id"], silent["id"], 50)))
    rate, held_rate = (
        (Decimal(3) / len(contacted)).quantize(Decimal("0.0001")),
        (Decimal(1) / len(out)).quantize(Decimal("0.0001")),
    )
    assert (Decimal(results["conversion_rate"]), Decimal(results["conversion_rate_held_out"])) == (rate, held_rate)
    exact = Fraction(3, len(contacted)) - Fraction(1, len(out))  # lifts from exact rates, rounded once
    assert Decimal(results["lift"]) == (Decimal(exact.numerator) / exact.denominator).quantize(Decimal("0.0001"))
    relative = exact / Fraction(1, len(out))
    assert Decimal(results["relative_lift"]) == (Decimal(relative.numerator) / relative.denominator).quantize(
        Decimal("0.0001")
    )


# A fan-out walks the segment a page at a time: a run plans its whole send rate across pages from the
# cursor, one touch per member ever, hold-out marked, and holds no page after it.


@pytest.fixture
def campaign(client, auth, db):
    """A running campaign over 7 members, 5 touches a run, a third held out."""
    staff = auth("staff")
    members = sorted(create_member(client, auth)["id"] for _ in range(7))
    everyone = client.post("/v1/segments", json={"name": "all", "filters": {}}, headers=staff).get_json()
    created = client.post(
        "/v1/campaigns",
        json={
            "name": "Paged",
            "segment_id": everyone["id"],
            "channel": "sms",
            "template": "Hi {{ name }}",
            "send_rate": 5,
            "holdout_percent": 33,
        },
        headers=staff,
    ).get_json()
    assert client.post(f"/v1/campaigns/{created['id']}/launch", headers=staff).status_code == 200
    return created["id"], members


def _fan_out(db, campaign_id, page):
    with db.unit_of_work() as session:
        campaign = session.get(Campaign, campaign_id)
        made = service.fan_out(session, campaign, now=now(), page=page)
        assert set(session.identity_map.values()) == {campaign}  # no page stays behind
        return made, campaign.cursor, campaign.fanned_out


def _touches(db, campaign_id) -> dict[str, bool]:
    with db.unit_of_work() as session:
        rows = session.execute(select(Touch.member_id, Touch.held_out).where(Touch.campaign_id == campaign_id))
        return {member: held for member, held in rows}


@pytest.mark.parametrize("window", [1, 3, preview.WINDOW])
@pytest.mark.parametrize("page", [2, 5, 5000])
def test_a_run_plans_its_send_rate_across_pages_from_the_cursor(db, campaign, page, window, monkeypatch):
    monkeypatch.setattr(preview, "WINDOW", window)  # pages read across windows of members, or within one
    campaign_id, members = campaign
    assert _fan_out(db, campaign_id, page) == (5, members[4], False)
    assert _fan_out(db, campaign_id, page) == (2, members[6], False)  # the segment ends: the next run says so
    assert _fan_out(db, campaign_id, page) == (0, members[6], True)
    assert _touches(db, campaign_id) == {m: rules.held_out(campaign_id, m, 33) for m in members}


def test_a_member_is_planned_once_ever_even_if_the_cursor_went_back(db, campaign):
    campaign_id, members = campaign
    assert _fan_out(db, campaign_id, 2)[0] == 5
    with db.unit_of_work() as session:
        session.get(Campaign, campaign_id).cursor = ""
    assert _fan_out(db, campaign_id, 2) == (0, members[4], False)  # walked 5 again, planned none
    assert _fan_out(db, campaign_id, 2) == (2, members[6], False)
    assert len(_touches(db, campaign_id)) == 7


def test_the_job_marks_a_full_send_rate_fanned_this_minute(db, config, campaign):
    campaign_id, members = campaign
    at = now() + timedelta(minutes=1)
    with time_machine.travel(at, tick=False):
        assert run_job("campaigns.run", db=db, config=config, as_of=at.date())["touches"] == 5
        assert run_job("campaigns.run", db=db, config=config, as_of=at.date())["touches"] == 0
    with db.unit_of_work() as session:
        assert session.get(Campaign, campaign_id).fanned_at == at
    later = at + timedelta(minutes=1)
    with time_machine.travel(later, tick=False):
        assert run_job("campaigns.run", db=db, config=config, as_of=later.date())["touches"] == 2
    assert len(_touches(db, campaign_id)) == 7


# A segment is read a window of members at a time (preview.segment_page): whatever the windows, a
# page is the segment's next members in id order, as the one open-ended query would give them —
# a sparse segment, the cursor anywhere, windows smaller and larger than the page, erased and merged
# member rows among the windows' members.


@pytest.mark.parametrize("window", [1, 2, 3, 50])
def test_a_page_read_by_windows_is_the_segments_next_members(client, auth, db, monkeypatch, window):
    staff = auth("staff")
    made = [create_member(client, auth, consent={"sms": n % 3 == 0})["id"] for n in range(14)]
    assert client.delete(f"/v1/members/{made[3]}", headers=staff).status_code in (200, 204)  # erased
    merged = client.post(f"/v1/members/{made[1]}/merge", json={"member_id": made[6]}, headers=staff)
    assert merged.status_code == 200
    filters = {"consent": {"sms": True}}
    with db.unit_of_work() as session:
        everyone = sorted(session.scalars(compile_filters(segments.loaded(filters), now=now())))
    assert len(everyone) == 3  # of 14 members, one of the five opted in erased and one merged away
    monkeypatch.setattr(preview, "WINDOW", window)
    with db.unit_of_work() as session:
        for after in ["", *sorted(made)]:
            for limit in (1, 2, 3, 100):
                expected = [m for m in everyone if m > after][:limit]
                assert preview.segment_page(session, filters, after=after, limit=limit, now=now()) == expected
