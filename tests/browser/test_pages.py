"""Every main page of the console opens cleanly in a real browser at tablet width (768 px): no
JavaScript error, no CSP violation, no failed request, nothing wider than the screen. A screenshot
of each is kept (var/screenshots/<database>/)."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.test_campaigns_day import job
from tests.factories import create_member, post_order

SETTINGS = ("Program", "Tier ladder", "Care rules and templates", "Rewards", "Webhooks", "API keys", "Audit log")


def a_shop(client, auth, db, config) -> dict:
    members = [
        create_member(client, auth, name=name, consent={"sms": True, "marketing": True})
        for name in ("Lin Mei", "Zhou Bo", "Wang Fang")
    ]
    for number, member in enumerate(members):
        post_order(client, auth, member["id"], f"o-{number}", f"{(number + 1) * 150}.00", days_ago=20 * number + 5)
    job(db, config, "insights.refresh")
    return members[0]


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def test_every_main_page_fits_a_tablet_and_runs_clean(tablet_tab, client, auth, db, config):
    member = a_shop(client, auth, db, config)
    tablet_tab.sign_in(auth.key("admin"))
    page = tablet_tab.page
    nav = page.get_by_role("navigation", name="Main")
    for name in ("Today", "Members", "Campaigns", "Insights", "Settings"):
        nav.get_by_role("link", name=name).click()
        expect(nav.get_by_role("link", name=name)).to_have_attribute("aria-current", "page")
        expect(page.get_by_role("heading", level=1)).to_have_text(name)
        tablet_tab.no_horizontal_scroll()
        tablet_tab.screenshot(f"{slug(name)}-768")

    for name in SETTINGS:
        tablet_tab.goto("/console/settings")
        page.get_by_role("main").get_by_role("link", name=name, exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        expect(page).not_to_have_url(re.compile(r"/console/settings$"))
        tablet_tab.no_horizontal_scroll()
        tablet_tab.screenshot(f"settings-{slug(name)}-768")

    tablet_tab.goto(f"/console/members/{member['id']}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Lin Mei")
    tablet_tab.no_horizontal_scroll()
