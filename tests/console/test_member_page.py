"""The member page (/console/members/<id>): profile and consent, tier and the bar to the next one,
points and what expires soon, referrals, RFM and stage, the timeline paged — in one request with a
bounded number of queries; unknown, merged and erased members."""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import event

from loyalty.scheduler import run_job
from tests.api.test_tiers import LADDER
from tests.clock import NOW, today
from tests.console.conftest import ZH, english_leftovers
from tests.factories import create_member, order_payload

TERMS = {
    "referrer_points": 500,
    "referee_points": 200,
    "min_order_amount": "100",
    "link_template": "https://tea.example/join?ref={code}",
}
EN = {"Accept-Language": "en"}
# The test's own data, allowed to stay Latin on a Chinese page.
DATA = {
    "Ann",
    "Lee",
    "Bo",
    "Friend",
    "tea",
    "lover",
    "Shanghai",
    "member",
    "example",
    "com",
    "ext",
    "Regular",
    "Silver",
    "Gold",
    "The",
    "arrived",
    "broken",
    "London",
    "Europe",
    "test",
    "staff",
    "regular",
    "silver",
    "gold",
}  # the ladder's codes, which the actions panel's tier floor form lists


def order(client, auth, member_id, order_id, amount="100.00", days_ago=3):
    payload = order_payload(member_id, order_id, amount, placed_at=(NOW - timedelta(days=days_ago)).isoformat())
    response = client.post("/v1/orders", json=payload, headers=auth("storefront"))
    assert response.status_code == 201, response.get_json()


@contextmanager
def counted(db):
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def ann_with_history(client, auth, db, config) -> dict:
    assert (
        client.patch(
            "/v1/program", json={"referral": TERMS, "expiry_months": 1, "pending_days": 0}, headers=auth()
        ).status_code
        == 200
    )
    assert client.put("/v1/tiers", json={"tiers": LADDER}, headers=auth()).status_code == 200
    ann = create_member(
        client, auth, name="Ann Lee", timezone="Europe/London", consent={"email": True, "sms": False, "marketing": True}
    )
    order(client, auth, ann["id"], "o-1", "1500.00", days_ago=45)
    code = client.get(f"/v1/members/{ann['id']}/referral", headers=auth("staff")).get_json()["code"]
    create_member(client, auth, name="Bo Friend", referral_code=code)
    client.post(
        f"/v1/members/{ann['id']}/interactions",
        json={"kind": "complaint", "content": "The tea arrived broken"},
        headers=auth("staff"),
    )
    run_job("insights.refresh", db=db, config=config, as_of=today())
    return {**ann, "code": code}


def part(html: str, heading_id: str) -> str:
    start = html.index(f'id="{heading_id}"')
    return html[start : html.find("</section>", start)]


def test_the_member_page_shows_who_they_are_their_tier_points_referrals_rfm_and_timeline(
    console, client, auth, db, config
):
    ann = ann_with_history(client, auth, db, config)
    html = console.text(f"/console/members/{ann['id']}", headers=EN)
    assert "<h1>Ann Lee</h1>" in html and ann["member_number"] in html

    profile = part(html, "profile-title")
    assert "member" in ann["email"] and ann["email"] in profile and "Europe/London" in profile
    assert "email: yes" in profile and "SMS: no" in profile and "marketing: yes" in profile
    assert "Nov 18, 2026, 2:00:" in profile  # enrolled at 02:00 UTC: 02:00 in London, not 10:00 in Shanghai

    tier = part(html, "tier-title")
    assert "Regular" in tier and '<progress id="tier-progress" value="1500.00" max="2000.00">' in tier
    assert "CN¥500.00 more to reach Silver" in tier and "CN¥1,500.00" in tier

    balance = client.get(f"/v1/members/{ann['id']}/balance", headers=auth("staff")).get_json()
    points = part(html, "points-title")
    assert f"{balance['available']:,}" in points and balance["expiring_soon"]
    assert f"{balance['expiring_soon'][0]['points']:,} points on Nov 30, 2026" in points

    referrals = part(html, "referral-title")
    assert ann["code"] in referrals and "1 in all: 0 qualified, 1 pending, 0 rejected" in referrals
    friend = client.get("/v1/members", query_string={"q": "Bo Friend"}, headers=auth("staff")).get_json()["data"][0]
    assert f'<a href="/console/members/{friend["id"]}">Bo Friend</a>' in referrals and "pending" in referrals

    insight = client.get(f"/v1/members/{ann['id']}/insights", headers=auth("staff")).get_json()
    rfm = part(html, "rfm-title")
    assert insight["r_score"] and f"<td>{insight['r_score']}</td>" in rfm and "<dd>new</dd>" in rfm

    timeline = part(html, "timeline-title")
    for label in ("Joined the program", "Order", "Points earned", "Complaint", "Callback to make"):
        assert f"<strong>{label}</strong>" in timeline, label
    assert "o-1" in timeline and "+1,500" in timeline
    assert "1 open callback, due" in html and "1 open complaint, logged" in html
    assert 'id="member-actions-title"' in html  # the actions panel sits on the page


def test_the_timeline_pages_with_load_more_and_without_javascript(console, client, auth):
    ann = create_member(client, auth, name="Ann Lee")
    for n in range(14):
        order(client, auth, ann["id"], f"o-{n:02d}", "50.00", days_ago=n + 1)
    expected = client.get(f"/v1/members/{ann['id']}/timeline?limit=500", headers=auth("staff")).get_json()["data"]
    assert len(expected) > 20

    html = console.text(f"/console/members/{ann['id']}", headers=EN)
    seen = re.findall(r'<time datetime="([^"]+)"', html)
    assert len(seen) == 20
    more = re.search(r'hx-get="(/console/members/[^"]+/timeline\?cursor=[^"]+)"', html)
    plain = re.search(r'<a href="(/console/members/[^"#]+\?cursor=[^"#]+)#timeline"', html)
    assert more and plain
    fragment = console.text(more.group(1), headers={**EN, "HX-Request": "true"})
    assert "<html" not in fragment and "<li" in fragment
    seen += re.findall(r'<time datetime="([^"]+)"', fragment)
    assert len(seen) == len(expected) and "Load more" not in fragment
    assert [s.replace("+00:00", "") for s in seen] == [e["at"].replace("Z", "").replace("+00:00", "") for e in expected]
    # Without htmx: the link opens the member page at that point of the timeline.
    rest = console.text(plain.group(1).replace("&amp;", "&"), headers=EN)
    assert len(re.findall(r"<time datetime=", rest)) == len(expected) - 20
    assert console.get(f"/console/members/{ann['id']}/timeline?cursor=nonsense").status_code == 400


def test_the_page_is_one_request_with_a_bounded_number_of_queries(console, client, auth, db):
    assert client.put("/v1/tiers", json={"tiers": LADDER}, headers=auth()).status_code == 200
    few = create_member(client, auth, name="Few Orders")
    many = create_member(client, auth, name="Many Orders")
    order(client, auth, few["id"], "f-1")
    for n in range(30):
        order(client, auth, many["id"], f"m-{n:02d}", "400.00", days_ago=n + 1)
        client.post(
            f"/v1/members/{many['id']}/interactions",
            json={"kind": "note", "content": f"note {n}"},
            headers=auth("staff"),
        )
    console.text(f"/console/members/{few['id']}")  # warm the per-process caches (program, ladder)
    with counted(db) as small:
        console.text(f"/console/members/{few['id']}")
    with counted(db) as large:
        console.text(f"/console/members/{many['id']}")
    assert len(large) <= len(small) + 2 and len(large) < 60, (len(small), len(large))


def test_unknown_merged_and_erased_members(console, client, auth):
    missing = console.get("/console/members/mbr_nobody", headers=EN)
    assert missing.status_code == 404 and "No member has this id." in missing.get_data(as_text=True)

    survivor = create_member(client, auth, name="Ann Lee")
    duplicate = create_member(client, auth, name="Ann Lee (old card)")
    assert (
        client.post(
            f"/v1/members/{survivor['id']}/merge", json={"member_id": duplicate["id"]}, headers=auth("staff")
        ).status_code
        == 200
    )
    moved = console.get(f"/console/members/{duplicate['id']}")
    assert moved.status_code == 303 and moved.headers["Location"] == f"/console/members/{survivor['id']}"
    assert "merged into this one" in console.text(moved.headers["Location"], headers=EN)

    gone = create_member(client, auth, name="Cy Gone", email="cy@example.com", phone="+8613912345678")
    assert client.delete(f"/v1/members/{gone['id']}", headers=auth("staff")).status_code == 204
    html = console.text(f"/console/members/{gone['id']}", headers=EN)
    assert "Erased member" in html and "erased on" in html
    for personal in ("Cy Gone", "cy@example.com", "+8613912345678", gone["member_number"]):
        assert personal not in html
    assert console.get(f"/console/members/{gone['id']}/timeline").status_code == 303


def test_the_member_page_in_chinese_has_no_english_left(console, client, auth, db, config):
    ann = ann_with_history(client, auth, db, config)
    html = console.text(f"/console/members/{ann['id']}", headers=ZH)
    assert "资料" in html and "动态记录" in html
    assert english_leftovers(html.replace(ann["code"], ""), allowed=DATA) == []
    missing = console.get("/console/members/mbr_nobody", headers=ZH)
    assert missing.status_code == 404 and english_leftovers(missing.get_data(as_text=True), allowed=DATA) == []
    assert client.delete(f"/v1/members/{ann['id']}", headers=auth("staff")).status_code == 204
    erased = console.text(f"/console/members/{ann['id']}", headers=ZH)
    assert "已删除资料的会员" in erased and english_leftovers(erased.replace(ann["id"], ""), allowed=DATA) == []


def test_the_member_page_refuses_the_signed_out(anonymous, client, auth):
    ann = create_member(client, auth, name="Ann Lee")
    for path in (f"/console/members/{ann['id']}", f"/console/members/{ann['id']}/timeline"):
        response = anonymous.get(path)
        assert response.status_code == 303 and response.headers["Location"].startswith("/console/sign-in")
