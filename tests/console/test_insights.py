"""The Insights page: the figures of GET /v1/insights/summary as SVG charts and tables."""

from __future__ import annotations

import re
from datetime import timedelta

from loyalty.scheduler import run_job
from tests.clock import NOW, today
from tests.console.conftest import ZH, english_leftovers
from tests.factories import create_member, order_payload


def order(client, auth, member_id, order_id, amount, days_ago):
    payload = order_payload(member_id, order_id, amount, placed_at=(NOW - timedelta(days=days_ago)).isoformat())
    assert client.post("/v1/orders", json=payload, headers=auth("storefront")).status_code == 201


def shop(client, auth, db, config):
    """Five buyers (one big), two referral sign-ups (one with a wrong code), one complaint."""
    client.patch("/v1/program", json={"referral": {"referrer_points": 100}}, headers=auth())
    buyers = [create_member(client, auth) for _ in range(5)]
    for i, member in enumerate(buyers):
        order(client, auth, member["id"], f"s-{i}", "1000" if i == 0 else "100", 20)
    code = client.get(f"/v1/members/{buyers[0]['id']}/referral", headers=auth("staff")).get_json()["code"]
    create_member(client, auth, referral_code=code)
    create_member(client, auth, referral_code="ZZZZZZZZ")
    assert (
        client.post(
            f"/v1/members/{buyers[1]['id']}/interactions",
            json={"kind": "complaint", "content": "x"},
            headers=auth("staff"),
        ).status_code
        == 201
    )
    run_job("insights.refresh", db=db, config=config, as_of=today())
    return client.get("/v1/insights/summary", headers=auth("staff")).get_json()


def table(html: str, table_id: str) -> list[list[str]]:
    """The text of each row's cells (th and td) of the table with this id."""
    body = re.search(rf'<table class="list" id="{table_id}">(.*?)</table>', html, re.DOTALL)
    assert body, f"no table {table_id}"
    rows = re.findall(r"<tr>(.*?)</tr>", body.group(1), re.DOTALL)
    return [
        [re.sub(r"<[^>]+>|\s+", " ", cell).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.DOTALL)]
        for row in rows
    ]


def figure(text: str) -> str:
    """A shown figure without grouping, currency or percent signs: '¥1,000.00' -> '1000.00'."""
    return re.sub(r"[^\d.]", "", text)


def test_the_page_shows_the_summarys_figures(console, client, auth, db, config):
    summary = shop(client, auth, db, config)
    html = console.text("/console/insights", headers={"Accept-Language": "en"})
    pareto = dict(table(html, "pareto"))
    assert figure(pareto["Buyers in the period"]) == str(summary["top_20_percent"]["buyers"]) == "5"
    assert figure(pareto["Spend of the top 20%"]) == summary["top_20_percent"]["spend"] == "1000.00"
    assert figure(pareto["All spend"]) == summary["top_20_percent"]["total_spend"] == "1400.00"
    assert pareto["Their share"] == "71.4%"  # 0.7143 of the API
    liability = dict(table(html, "liability"))
    assert figure(liability["Points outstanding"]) == str(summary["points_liability"]["points"]) == "1400"
    assert figure(liability["Their value"]) == summary["points_liability"]["value"] == "14.00"
    funnel = dict(row for row in table(html, "funnel"))
    for label, key in (
        ("Invited", "invited"),
        ("Pending", "pending"),
        ("Qualified", "qualified"),
        ("Rejected", "rejected"),
        ("Points rewarded", "rewarded_points"),
    ):
        assert figure(funnel[label]) == str(summary["referral_funnel"][key]), label
    assert figure(funnel["— unknown code"]) == "1"
    grid = table(html, "tier-stage")
    stages = grid[0][1:-1]
    assert stages == ["prospect", "new", "active", "at risk", "lapsed"]
    shown = {(row[0], stage): int(figure(cell)) for row in grid[1:-1] for stage, cell in zip(stages, row[1:-1])}
    expected = {
        (row["tier"], row["stage"].replace("_", " ")): row["members"] for row in summary["members_by_tier_and_stage"]
    }
    tier_names = {t["code"]: t["name"] for t in client.get("/v1/tiers", headers=auth()).get_json()["tiers"]}
    assert {(tier_names.get(t, "No tier"), s): n for (t, s), n in expected.items()} == {
        key: n for key, n in shown.items() if n
    }
    assert grid[-1][0] == "Total" and figure(grid[-1][-1]) == "7"
    care = table(html, "care")
    assert [(row[0], row[1], figure(row[2])) for row in care[1:]] == [
        (row["kind"].replace("_", " "), row["channel"], str(row["touches"])) for row in summary["care_outcomes"]
    ]
    assert care[1][0] == "complaint callback"


def test_the_charts_are_svg_drawn_on_the_server_without_inline_style(console, client, auth, db, config):
    shop(client, auth, db, config)
    html = console.text("/console/insights", headers={"Accept-Language": "en"})
    assert html.count('<svg class="chart" role="img"') == 5
    assert 'aria-label="Referral funnel"' in html and 'aria-label="Members by stage"' in html
    assert "style=" not in html and "<script>" not in html
    # the funnel's columns: invited 2 is the tallest, the pending and rejected one half of it
    funnel = re.search(r'aria-label="Referral funnel".*?</svg>', html, re.DOTALL).group(0)
    heights = [
        float(h)
        for h in re.findall(r'<rect class="bar[^"]*" x="[\d.]+" y="[\d.]+" width="[\d.]+" height="([\d.]+)"', funnel)
    ]
    assert heights == [176, 88, 0, 88]


def test_a_period_narrows_what_is_counted(console, client, auth, db, config):
    shop(client, auth, db, config)
    later = console.text("/console/insights?from=2026-11-01&to=2026-11-30", headers={"Accept-Language": "en"})
    assert figure(dict(table(later, "pareto"))["All spend"]) == "0.00"  # the orders were 20 days before NOW
    api = client.get(
        "/v1/insights/summary?from=2026-10-01T00:00:00%2B08:00&to=2026-11-30T00:00:00%2B08:00", headers=auth("staff")
    ).get_json()
    page = console.text("/console/insights?from=2026-10-01&to=2026-11-29", headers={"Accept-Language": "en"})
    assert figure(dict(table(page, "pareto"))["All spend"]) == api["top_20_percent"]["total_spend"] == "1400.00"
    assert figure(dict(table(page, "funnel"))["Invited"]) == str(api["referral_funnel"]["invited"])


def test_a_wrong_period_is_refused_with_the_reason(console):
    response = console.get("/console/insights?from=2026-12-01&to=2026-11-01", headers={"Accept-Language": "en"})
    assert response.status_code == 422
    assert "The end must be on or after the start." in response.get_data(as_text=True)
    bad = console.get("/console/insights?from=yesterday", headers={"Accept-Language": "en"})
    assert bad.status_code == 422 and "Enter a date such as" in bad.get_data(as_text=True)


def test_staff_and_admin_see_it_and_signed_out_visitors_are_sent_to_sign_in(console, admin_console, anonymous):
    assert "Insights" in console.text("/console/insights", headers={"Accept-Language": "en"})
    assert "Insights" in admin_console.text("/console/insights", headers={"Accept-Language": "en"})
    assert anonymous.get("/console/insights").status_code == 303


def test_in_chinese_without_english_leftovers(console, client, auth, db, config):
    shop(client, auth, db, config)
    html = console.text("/console/insights", headers=ZH)
    assert "推荐" in html and "积分" in html
    tiers = {word for t in client.get("/v1/tiers", headers=auth()).get_json()["tiers"] for word in t["name"].split()}
    assert english_leftovers(html, allowed={"test", "staff"} | tiers) == []
