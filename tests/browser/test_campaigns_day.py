"""A win-back campaign from the browser: build a segment with its live count, draft a campaign with
its live message preview, see who it would reach, launch it, and read who came back."""

from __future__ import annotations

import re
from datetime import timedelta

import time_machine
from playwright.sync_api import expect

from loyalty.scheduler import run_job
from tests.clock import now, today
from tests.console.conftest import english_leftovers
from tests.factories import create_member, ledger, order_payload

OPT_IN = {"sms": True, "marketing": True}


def order(client, auth, member_id: str, order_id: str, amount: str, days_ago: float) -> None:
    payload = order_payload(member_id, order_id, amount, placed_at=(now() - timedelta(days=days_ago)).isoformat())
    response = client.post("/v1/orders", json=payload, headers=auth("storefront"))
    assert response.status_code == 201, response.get_json()


def job(db, config, name: str):
    at = now()
    with time_machine.travel(at, tick=False):
        return run_job(name, db=db, config=config, as_of=at.date())


def regulars_who_drifted(client, auth, db, config) -> dict:
    """Two VIPs who last ordered half a year ago (one never agreed to marketing), one who orders still."""
    lin = create_member(client, auth, name="Lin Mei", tags=["vip"], consent=OPT_IN)
    wang = create_member(client, auth, name="Wang Fang", tags=["vip"], consent={"sms": True, "marketing": False})
    zhou = create_member(client, auth, name="Zhou Bo", tags=["vip"], consent=OPT_IN)
    order(client, auth, lin["id"], "lin-1", "900.00", days_ago=200)
    order(client, auth, wang["id"], "wang-1", "700.00", days_ago=150)
    order(client, auth, zhou["id"], "zhou-1", "800.00", days_ago=10)
    job(db, config, "insights.refresh")
    return {"lin": lin, "wang": wang, "zhou": zhou}


def figure(page, key: str):
    return page.locator(f"#campaign-results [data-key='{key}']")


def test_build_a_segment_launch_a_campaign_and_read_its_results(
    console_tab, client, auth, db, config, pinned_clock, zh
):
    people = regulars_who_drifted(client, auth, db, config)
    console_tab.sign_in(auth.key("staff"))
    page = console_tab.page

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Campaigns").click()
    page.get_by_role("link", name="New segment").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New segment")
    page.get_by_label("Name", exact=True).fill("VIPs gone quiet")
    live = page.locator("#segment-live")
    with page.expect_response(re.compile(r"/console/segments/count\?")):  # the count follows the filters
        page.get_by_label("Tags").fill("vip")
    expect(live.locator("#segment-count")).to_have_text("3")
    with page.expect_response(re.compile(r"/console/segments/count\?")):
        page.get_by_label("No order since").fill((today() - timedelta(days=90)).isoformat())
    expect(live.locator("#segment-count")).to_have_text("2")
    expect(live.get_by_role("link", name="Lin Mei")).to_be_visible()
    expect(live.get_by_role("link", name="Zhou Bo")).to_have_count(0)
    console_tab.screenshot("segment-builder")
    page.get_by_role("button", name="Save segment").click()
    expect(page.get_by_role("status").filter(has_text="Segment saved.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("VIPs gone quiet")
    expect(page.locator("#segment-count")).to_have_text("2")

    page.get_by_role("link", name="New campaign for this segment").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New campaign")
    expect(page.get_by_label("Segment")).to_have_value(re.compile("^seg_"))
    page.get_by_label("Name").fill("We miss you")
    page.get_by_label("Message").fill("{{ name }}, we miss you: {{ gift_points }} points are yours")
    page.get_by_label("Gift points").fill("300")
    expect(page.locator("#message-text")).to_have_text("Lin Mei, we miss you: 300 points are yours")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("status").filter(has_text="Draft campaign saved.")).to_be_visible()
    preview = page.locator("#campaign-preview")
    expect(preview.locator("[data-key='count']")).to_have_text("2")
    expect(preview.locator("[data-key='would_send']")).to_have_text("1")
    expect(preview.locator("[data-key='suppressed:no_marketing_consent']")).to_have_text("1")
    console_tab.screenshot("campaign-draft")

    page.get_by_role("button", name="Launch").click()
    expect(page.locator("#campaign-status")).to_have_text("running")
    campaign_id = page.url.rstrip("/").rsplit("/", 1)[-1]
    assert client.get(f"/v1/campaigns/{campaign_id}", headers=auth("staff")).get_json()["status"] == "running"

    # The scheduler sends it; the page shows it gone out; twenty minutes later Lin Mei orders again.
    # (The console signs out after 30 idle minutes, so the steps keep the page in use.)
    pinned_clock.shift(timedelta(minutes=20))
    job(db, config, "campaigns.run")
    job(db, config, "care.dispatch")
    job(db, config, "campaigns.run")
    page.reload()
    expect(figure(page, "sent")).to_have_text("1")
    expect(figure(page, "converted")).to_have_text("0")
    pinned_clock.shift(timedelta(minutes=20))
    order(client, auth, people["lin"]["id"], "lin-back", "300.00", days_ago=0)

    page.reload()
    expect(figure(page, "targeted")).to_have_text("2")
    expect(figure(page, "sent")).to_have_text("1")
    expect(figure(page, "suppressed:no_marketing_consent")).to_have_text("1")
    expect(figure(page, "converted")).to_have_text("1")
    results = client.get(f"/v1/campaigns/{campaign_id}", headers=auth("staff")).get_json()["results"]
    expect(figure(page, "points_spent")).to_have_text(f"{results['points_spent']:,}")  # the page shows the API's figure
    expect(page.locator("#results-chart")).to_be_visible()
    console_tab.screenshot("campaign-results")
    assert [e["points"] for e in ledger(client, auth, people["lin"]["id"]) if e["source"]["type"] == "touch"] == [300]

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Campaigns").click()
    expect(page.get_by_role("table").get_by_role("row", name=re.compile("We miss you"))).to_be_visible()

    # The same results for a colleague who reads Chinese: nothing left in English but the data.
    page.get_by_role("link", name="We miss you").click()
    # On the campaign's page before switching: under load the switch could land on the list still.
    expect(page.get_by_role("heading", level=1)).to_contain_text("We miss you")
    page.get_by_role("button", name="中文").click()
    expect(page.get_by_role("heading", name=zh("Results"))).to_be_visible()
    expect(figure(page, "converted")).to_have_text("1")
    data = {
        "We",
        "miss",
        "you",
        "VIPs",
        "gone",
        "quiet",
        "name",
        "gift",
        "points",
        "are",
        "yours",
        "test",
        "staff",
        "Lin",
        "Mei",
    }
    leftovers = english_leftovers(page.content(), allowed=data)
    assert not leftovers, leftovers
    console_tab.screenshot("campaign-results-zh")
