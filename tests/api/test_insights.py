"""insights.refresh and what it shows: stages from each member's own rhythm, RFM quintiles, the summary."""

from __future__ import annotations

from datetime import timedelta

from loyalty.scheduler import run_job
from tests.clock import NOW, today
from tests.factories import create_member, order_payload


def order(client, auth, member_id, order_id, amount, days_ago):
    payload = order_payload(member_id, order_id, amount, placed_at=(NOW - timedelta(days=days_ago)).isoformat())
    assert client.post("/v1/orders", json=payload, headers=auth("storefront")).status_code == 201


def insights(client, auth, member_id):
    response = client.get(f"/v1/members/{member_id}/insights", headers=auth("staff"))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_stages_rfm_and_churn_from_each_members_rhythm(client, auth, db, config):
    people = {name: create_member(client, auth) for name in ("prospect", "new", "active", "at_risk", "lapsed", "big")}
    assert insights(client, auth, people["new"]["id"])["refreshed_at"] is None
    order(client, auth, people["new"]["id"], "n-1", "50", 10)
    for i, days in enumerate((125, 95, 65, 35, 5)):
        order(client, auth, people["active"]["id"], f"a-{i}", "80", days)
    for i, days in enumerate((150, 140, 130, 120, 110, 100)):
        order(client, auth, people["at_risk"]["id"], f"r-{i}", "60", days - 84)  # last 16 days ago, every 10
    for i, days in enumerate((150, 140, 130)):
        order(client, auth, people["lapsed"]["id"], f"l-{i}", "40", days - 100)  # last 30 days ago, every 10
    order(client, auth, people["big"]["id"], "b-1", "5000", 200)
    order(client, auth, people["big"]["id"], "b-2", "5000", 100)
    counts = run_job("insights.refresh", db=db, config=config, as_of=today())
    assert counts["members"] == 6, counts
    stages = {name: insights(client, auth, m["id"])["stage"] for name, m in people.items()}
    assert stages == {
        "prospect": "prospect",
        "new": "new",
        "active": "active",
        "at_risk": "at_risk",
        "lapsed": "lapsed",
        "big": "active",
    }, stages
    lapsed = insights(client, auth, people["lapsed"]["id"])
    assert lapsed["churn_risk"] == "1" and lapsed["orders_total"] == 3
    assert insights(client, auth, people["active"]["id"])["churn_risk"] == "0.083"
    prospect = insights(client, auth, people["prospect"]["id"])
    assert prospect["r_score"] is None and prospect["churn_risk"] == "0"
    scores = {name: insights(client, auth, m["id"]) for name, m in people.items() if name != "prospect"}
    assert scores["active"]["r_score"] == 5 and scores["big"]["r_score"] == 1  # most and least recent
    assert scores["big"]["m_score"] == 5 and scores["active"]["f_score"] >= scores["new"]["f_score"]
    assert all(1 <= s[k] <= 5 for s in scores.values() for k in ("r_score", "f_score", "m_score"))
    again = run_job("insights.refresh", db=db, config=config, as_of=today())
    assert again == counts  # running twice changes nothing


def test_the_summary(client, auth, db, config):
    client.patch("/v1/program", json={"referral": {"referrer_points": 100}}, headers=auth())
    buyers = [create_member(client, auth) for _ in range(5)]
    for i, member in enumerate(buyers):
        order(client, auth, member["id"], f"s-{i}", "1000" if i == 0 else "100", 20)
    code = client.get(f"/v1/members/{buyers[0]['id']}/referral", headers=auth("staff")).get_json()["code"]
    create_member(client, auth, referral_code=code)
    create_member(client, auth, referral_code="ZZZZZZZZ")
    client.post(
        f"/v1/members/{buyers[1]['id']}/interactions", json={"kind": "complaint", "content": "x"}, headers=auth("staff")
    )
    run_job("insights.refresh", db=db, config=config, as_of=today())
    body = client.get("/v1/insights/summary", headers=auth("staff")).get_json()
    assert body["top_20_percent"] == {"buyers": 5, "spend": "1000.00", "total_spend": "1400.00", "share": "0.7143"}
    assert body["points_liability"] == {"points": 1400, "value": "14.00"}
    assert body["referral_funnel"]["invited"] == 2 and body["referral_funnel"]["pending"] == 1
    assert body["referral_funnel"]["rejected_by_reason"] == {"unknown_code": 1}
    stages = {(row["stage"]): row["members"] for row in body["members_by_tier_and_stage"]}
    assert stages == {"new": 5, "prospect": 2}
    assert body["care_outcomes"][0]["kind"] == "complaint_callback"
    assert (
        client.get(
            "/v1/insights/summary?from=2026-12-01T00:00:00Z&to=2026-01-01T00:00:00Z", headers=auth("staff")
        ).status_code
        == 422
    )
    assert client.get("/v1/insights/summary", headers=auth("storefront")).status_code == 403


def test_members_enrolled_since_the_last_refresh_have_one_stage_everywhere(client, auth, db, config):
    old = create_member(client, auth)
    order(client, auth, old["id"], "o-1", "100", 200)
    run_job("insights.refresh", db=db, config=config, as_of=today())
    quiet = create_member(client, auth)  # enrolled since, no orders: a prospect
    buyer = create_member(client, auth)  # enrolled since, ordered since: figured now, by the same rules
    order(client, auth, buyer["id"], "b-1", "80", 3)
    prospect = insights(client, auth, quiet["id"])
    assert (prospect["stage"], prospect["refreshed_at"], prospect["orders_total"]) == ("prospect", None, 0)
    fresh = insights(client, auth, buyer["id"])
    assert (fresh["stage"], fresh["refreshed_at"], fresh["orders_total"], fresh["spend_total"]) == (
        "new",
        None,
        1,
        "80.00",
    )
    assert fresh["r_score"] is None and fresh["churn_risk"] == "0.017"  # 3 days of a 90-day rhythm, doubled
    summary = client.get("/v1/insights/summary", headers=auth("staff")).get_json()["members_by_tier_and_stage"]
    stages = {row["stage"]: row["members"] for row in summary}
    assert stages == {"lapsed": 1, "prospect": 1, "new": 1}, summary  # no `unknown`
    for member in (old, quiet, buyer):
        assert insights(client, auth, member["id"])["stage"] in stages
