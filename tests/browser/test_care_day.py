"""The care desk's morning in a browser: Today's lists, a callback claimed and its outcome recorded,
a complaint resolved with goodwill points, all from the member page; then the same at tablet width."""

from __future__ import annotations

import json
import re

from playwright.sync_api import expect

from tests.api.test_tiers import LADDER
from tests.console.conftest import english_leftovers
from tests.factories import create_member, ledger, post_order

# The test's own data, which stays as typed on a Chinese page.
DATA_WORDS = {
    "Lin",
    "Mei",
    "Zhou",
    "The",
    "tea",
    "arrived",
    "broken",
    "vip",
    "lover",
    "test",
    "staff",
    "Regular",
    "Silver",
    "Gold",
    "regular",
    "silver",
    "gold",
    "free",
    "gift",
    "wrapping",
}


def complaint(client, auth, member_id: str, content: str) -> dict:
    response = client.post(
        f"/v1/members/{member_id}/interactions",
        json={"kind": "complaint", "channel": "phone", "content": content},
        headers=auth("staff"),
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def a_morning(client, auth) -> dict:
    """Lin Mei, a regular whose tea arrived broken yesterday: an open complaint and its callback."""
    assert client.put("/v1/tiers", json={"tiers": LADDER}, headers=auth()).status_code == 200
    lin = create_member(
        client,
        auth,
        name="Lin Mei",
        phone="+86 139 0000 1234",
        tags=["vip"],
        consent={"email": True, "sms": True, "phone": True, "marketing": True},
    )
    post_order(client, auth, lin["id"], "o-lin-1", "1680.00", days_ago=60)
    post_order(client, auth, lin["id"], "o-lin-2", "680.00", days_ago=2)
    create_member(client, auth, name="Zhou Bo")
    complaint(client, auth, lin["id"], "The tea arrived broken")
    return lin


def flash(page, text):
    """The message a page shows after a form went through (role status)."""
    return page.get_by_role("status").filter(has_text=text)


def section(page, heading: str):
    return page.get_by_role("region", name=heading)


def action(page, summary: str):
    """One of the member page's action panels (a <details>), opened."""
    panel = page.locator("details").filter(has=page.locator("summary", has_text=summary))
    expect(panel).to_have_count(1)
    panel.locator("summary").click()
    return panel


def test_a_callback_and_a_complaint_from_today_to_done(console_tab, client, auth):
    lin = a_morning(client, auth)
    console_tab.sign_in(auth.key("staff"))
    page = console_tab.page

    calls = section(page, "Calls due")
    expect(calls.get_by_role("row", name=re.compile("Lin Mei"))).to_contain_text("The tea arrived broken")
    expect(section(page, "Open complaints").get_by_role("link", name="Lin Mei")).to_be_visible()
    console_tab.screenshot("today")

    calls.get_by_role("button", name="Claim").click()
    expect(flash(page, "The callback is yours now.")).to_be_visible()
    expect(section(page, "Calls due").get_by_role("row", name=re.compile("Lin Mei"))).to_contain_text("you")

    section(page, "Calls due").get_by_role("link", name="Lin Mei").click()
    expect(page).to_have_url(console_tab.url(f"/console/members/{lin['id']}"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Lin Mei")
    console_tab.screenshot("member")

    panel = action(page, "Callback due")
    panel.get_by_label("Outcome").select_option(label="reached")
    panel.get_by_label("Score (1–5, optional)").fill("4")
    panel.get_by_label("Notes").fill("Sorry given; a new tin goes out today")
    panel.get_by_role("button", name="Record outcome").click()
    expect(flash(page, "Outcome recorded.")).to_be_visible()
    expect(page.locator("summary", has_text="Callback due")).to_have_count(0)

    panel = action(page, "Resolve the complaint")
    expect(panel.locator("blockquote")).to_have_text("The tea arrived broken")
    panel.get_by_label("How it was resolved").fill("Replacement tin sent")
    panel.get_by_label("Goodwill points (optional)").fill("200")
    panel.get_by_role("button", name="Resolve complaint").click()
    expect(flash(page, "Complaint resolved.")).to_be_visible()
    expect(page.locator("summary", has_text="Resolve the complaint")).to_have_count(0)
    console_tab.screenshot("member-after-care")

    # What the browser did went through the services: the API sees it.
    bonuses = [(e["points"], e["source"]["type"]) for e in ledger(client, auth, lin["id"]) if e["kind"] == "bonus"]
    assert bonuses == [(200, "interaction")]
    assert client.get("/v1/callbacks", headers=auth("staff")).get_json()["data"] == []
    log = client.get(f"/v1/members/{lin['id']}/interactions", headers=auth("staff")).get_json()["data"]
    logged_calls = [i for i in log if i["kind"] == "call"]
    assert len(logged_calls) == 1 and logged_calls[0]["score"] == 4, logged_calls

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Today").click()
    expect(section(page, "Calls due")).to_contain_text("No calls are due. Nice work.")
    expect(section(page, "Open complaints")).to_contain_text("No complaint is open.")


def test_the_care_pages_fit_a_tablet_held_upright(tablet_tab, client, auth):
    lin = a_morning(client, auth)
    tablet_tab.sign_in(auth.key("staff"))
    page = tablet_tab.page
    expect(section(page, "Calls due")).to_contain_text("Lin Mei")
    tablet_tab.no_horizontal_scroll()
    tablet_tab.screenshot("today-768")
    tablet_tab.goto(f"/console/members?q={lin['member_number']}")
    tablet_tab.no_horizontal_scroll()
    page.get_by_role("link", name="Lin Mei").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Lin Mei")
    action(page, "Callback due")
    tablet_tab.no_horizontal_scroll()
    tablet_tab.screenshot("member-768")


def test_the_same_care_work_in_chinese(console_tab, client, auth, zh):
    lin = a_morning(client, auth)
    data_words = DATA_WORDS | set(re.findall(r"[A-Za-z]+", json.dumps(lin)))  # id, email, city, order ids
    console_tab.sign_in(auth.key("staff"))
    page = console_tab.page
    page.get_by_role("button", name="中文").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(zh("Today"))
    calls = section(page, zh("Calls due"))
    expect(calls.get_by_role("row", name=re.compile("Lin Mei"))).to_be_visible()
    leftovers = english_leftovers(page.content(), allowed=data_words)
    assert not leftovers, leftovers
    console_tab.screenshot("today-zh")

    calls.get_by_role("link", name="Lin Mei").click()
    expect(page).to_have_url(console_tab.url(f"/console/members/{lin['id']}"))
    leftovers = english_leftovers(page.content(), allowed=data_words | {"lin"})
    assert not leftovers, leftovers
    console_tab.screenshot("member-zh")
    panel = action(page, zh.prefix("Callback due %(when)s"))
    panel.get_by_label(zh("Outcome"), exact=True).select_option(label=zh("no answer"))
    panel.get_by_role("button", name=zh("Record outcome")).click()
    expect(flash(page, zh("Outcome recorded."))).to_be_visible()

    panel = action(page, zh.prefix("Resolve the complaint of %(when)s"))
    panel.get_by_label(zh("How it was resolved")).fill("已补寄新茶")
    panel.get_by_label(zh("Goodwill points (optional)")).fill("100")
    panel.get_by_role("button", name=zh("Resolve complaint")).click()
    expect(flash(page, zh("Complaint resolved."))).to_be_visible()
    assert [e["points"] for e in ledger(client, auth, lin["id"]) if e["kind"] == "bonus"] == [100]
    # The unanswered call is on the member's record; resolving the complaint closed its callback.
    log = client.get(f"/v1/members/{lin['id']}/interactions", headers=auth("staff")).get_json()["data"]
    assert sorted(i["kind"] for i in log) == ["call", "complaint"], log
    assert [i["resolved_at"] is not None for i in log if i["kind"] == "complaint"] == [True]
    assert client.get("/v1/callbacks", headers=auth("staff")).get_json()["data"] == []
