"""Today (/console): calls due (mine and unassigned; claim one), open complaints against the 24-hour
promise, birthdays this week, members drifting away since yesterday — each a link to the member."""

from __future__ import annotations

import re
from datetime import date, timedelta

import time_machine

from loyalty.console.today import week_days
from loyalty.scheduler import run_job
from tests.clock import NOW, today
from tests.console.conftest import ZH, english_leftovers
from tests.factories import create_member, order_payload

EN = {"Accept-Language": "en"}


def complain(client, auth, member_id, text="The tea arrived broken", **extra):
    response = client.post(
        f"/v1/members/{member_id}/interactions",
        json={"kind": "complaint", "channel": "phone", "content": text, **extra},
        headers=auth("staff"),
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def queue(client, auth, **query):
    return client.get("/v1/callbacks", query_string=query, headers=auth("staff")).get_json()["data"]


def audit(client, auth, action):
    entries = client.get("/v1/audit-log", query_string={"limit": 200}, headers=auth()).get_json()["data"]
    return [e for e in entries if e["action"] == action]


def order(client, auth, member_id, order_id, days_ago):
    payload = order_payload(member_id, order_id, "80", placed_at=(NOW - timedelta(days=days_ago)).isoformat())
    assert client.post("/v1/orders", json=payload, headers=auth("storefront")).status_code == 201


def section(html: str, name: str) -> str:
    start = html.index(f'id="today-{name}"')
    end = html.find("<section", start)
    return html[start : end if end > 0 else len(html)]


def rows(part: str) -> dict[str, str]:
    """Each table row's member name -> the row's html."""
    found = {}
    for row in re.findall(r"<tr>.*?</tr>", part, re.DOTALL):
        name = re.search(r'<a href="/console/members/[^"]+">([^<]+)</a>', row)
        if name:
            found[name.group(1)] = row
    return found


def a_day(client, auth, db, config) -> dict[str, dict]:
    """Ann complained just now, Bob 30 hours ago; Cara's callback is Amy's, Dan's the signed-in
    key's by name; Fay's birthday is today, Ann's in two days, Eve's in a week; Gus turned at risk
    and Hal lapsed in the last day, Ian has been at risk for days."""
    people = {
        "ann": create_member(client, auth, name="Ann Lee", birthday="1990-11-20"),
        "bob": create_member(client, auth, name="Bob Wu"),
        "cara": create_member(client, auth, name="Cara Xu"),
        "dan": create_member(client, auth, name="Dan Ma"),
        "eve": create_member(client, auth, name="Eve Qi", birthday="1985-11-25"),
        "fay": create_member(client, auth, name="Fay Hu", birthday="2000-11-18"),
        "gus": create_member(client, auth, name="Gus Li"),
        "hal": create_member(client, auth, name="Hal Yu"),
        "ian": create_member(client, auth, name="Ian Fu"),
    }
    complain(client, auth, people["ann"]["id"])
    with time_machine.travel(NOW - timedelta(hours=30)):
        complain(client, auth, people["bob"]["id"], "Wrong size")
    complain(client, auth, people["cara"]["id"], "Rude clerk", assignee="amy")
    complain(client, auth, people["dan"]["id"], "Missing lid", assignee="test staff")
    # One order each: the usual interval is 90 days, at risk past 135, lapsed past 180.
    order(client, auth, people["gus"]["id"], "g-1", 135.5)
    order(client, auth, people["hal"]["id"], "h-1", 180.5)
    order(client, auth, people["ian"]["id"], "i-1", 140)
    run_job("insights.refresh", db=db, config=config, as_of=today())
    return people


def test_today_shows_calls_complaints_birthdays_and_drifters_each_linked_to_the_member(
    console, client, auth, db, config
):
    people = a_day(client, auth, db, config)
    html = console.text("/console", headers=EN)

    calls = rows(section(html, "callbacks"))
    assert set(calls) == {"Ann Lee", "Bob Wu", "Dan Ma"}  # Cara's is Amy's
    assert "you" in calls["Dan Ma"] and "Claim" not in calls["Dan Ma"]
    assert (
        "unassigned" in calls["Ann Lee"]
        and "Claim" in calls["Ann Lee"]
        and "The tea arrived broken" in calls["Ann Lee"]
    )

    complaints = rows(section(html, "complaints"))
    assert list(complaints) == ["Bob Wu", "Ann Lee", "Cara Xu", "Dan Ma"]  # oldest first
    assert "late by 6 hours" in complaints["Bob Wu"] and "30 hours" in complaints["Bob Wu"]
    assert "24 hours left" in complaints["Ann Lee"]

    birthdays = rows(section(html, "birthdays"))
    assert list(birthdays) == ["Fay Hu", "Ann Lee"]  # by day; Eve's is a week away
    assert "today" in birthdays["Fay Hu"] and "36" in birthdays["Ann Lee"]

    drifters = rows(section(html, "stages"))
    assert set(drifters) == {"Gus Li", "Hal Yu"}  # Ian has been at risk for days
    assert "at risk" in drifters["Gus Li"] and "lapsed" in drifters["Hal Yu"]

    for key in ("ann", "bob", "fay", "gus"):
        assert f'href="/console/members/{people[key]["id"]}"' in html
        assert console.get(f"/console/members/{people[key]['id']}").status_code == 200


def test_claiming_a_callback_makes_it_mine_through_the_service_and_is_audited(console, admin_console, client, auth):
    ann = create_member(client, auth, name="Ann Lee")
    complain(client, auth, ann["id"])
    touch = queue(client, auth)[0]
    assert touch["assignee"] is None

    refused = console.post(f"/console/callbacks/{touch['id']}/claim", data={"next": "/console"}, csrf=False)
    assert refused.status_code == 400 and queue(client, auth)[0]["assignee"] is None
    assert audit(client, auth, "console.claim_callback") == []

    claimed = console.post(f"/console/callbacks/{touch['id']}/claim", data={"next": "/console"})
    assert claimed.status_code == 303 and claimed.headers["Location"] == "/console"
    assignee = queue(client, auth)[0]["assignee"]
    assert assignee.startswith("key:") and queue(client, auth, assignee=assignee)[0]["id"] == touch["id"]
    [entry] = audit(client, auth, "console.claim_callback")
    assert entry["actor"]["name"] == "test staff"
    page = console.text("/console", headers=EN)
    assert "The callback is yours now." in page and "you" in rows(section(page, "callbacks"))["Ann Lee"]

    # Someone else's now: not on the admin's Today, and claiming it is a conflict that changes nothing.
    assert "Ann Lee" not in rows(section(admin_console.text("/console", headers=EN), "callbacks"))
    taken = admin_console.post(f"/console/callbacks/{touch['id']}/claim")
    assert taken.status_code == 409 and queue(client, auth)[0]["assignee"] == assignee
    assert len(audit(client, auth, "console.claim_callback")) == 1
    # A foreign `next` is not followed.
    again = console.post(f"/console/callbacks/{touch['id']}/claim", data={"next": "https://evil.example/"})
    assert again.status_code == 303 and again.headers["Location"] == "/console"
    assert console.post("/console/callbacks/tch_nope/claim").status_code == 404


def test_each_list_is_capped_on_today_and_paged_in_full(console, client, auth):
    for n in range(11):
        create_member(client, auth, name=f"Birthday {n:02d}", birthday="1991-11-19")
    html = console.text("/console", headers=EN)
    assert len(rows(section(html, "birthdays"))) == 8
    assert 'href="/console/today/birthdays"' in section(html, "birthdays")
    assert 'href="/console/today/callbacks"' not in html  # nothing more to see there

    seen, url = [], "/console/today/birthdays?limit=4"
    while url:
        page = console.text(url, headers=EN)
        seen += list(rows(page))
        found = re.search(r'href="(/console/today/birthdays\?[^"]+)" rel="next"', page)
        url = found.group(1).replace("&amp;", "&") if found else None
    assert seen == [f"Birthday {n:02d}" for n in range(11)]
    for name in ("callbacks", "complaints", "stages"):
        assert "<h1>" in console.text(f"/console/today/{name}", headers=EN)
    assert console.get("/console/today/nonsense").status_code == 404
    assert console.get("/console/today/birthdays?cursor=garbage").status_code == 400


def test_today_in_chinese_has_no_english_left(console, client, auth, db, config):
    a_day(client, auth, db, config)
    html = console.text("/console", headers=ZH)
    assert "今日" in html and "待回电" in html
    data = {
        "Ann",
        "Lee",
        "Bob",
        "Cara",
        "Dan",
        "Gus",
        "Hal",
        "Fay",
        "Xu",
        "Ma",
        "Wu",
        "Hu",
        "Li",
        "Yu",
        "tea",
        "arrived",
        "broken",
        "Wrong",
        "size",
        "Rude",
        "clerk",
        "Missing",
        "lid",
        "test",
        "staff",
        "The",
    }
    assert english_leftovers(html, allowed=data) == []
    for name in ("callbacks", "complaints", "birthdays", "stages"):
        assert english_leftovers(console.text(f"/console/today/{name}", headers=ZH), allowed=data) == []


def test_today_refuses_the_signed_out(anonymous, client, auth):
    ann = create_member(client, auth, name="Ann Lee")
    complain(client, auth, ann["id"])
    assert "Ann Lee" not in anonymous.text("/console")  # the sign-in form instead
    assert anonymous.get("/console/today/callbacks").status_code == 303
    touch = queue(client, auth)[0]
    assert anonymous.post(f"/console/callbacks/{touch['id']}/claim").status_code in (303, 400)
    assert queue(client, auth)[0]["assignee"] is None


def test_a_29_february_birthday_is_on_the_28th_in_common_years():
    week = week_days(date(2027, 2, 25))
    assert week[3] == {"02-28", "02-29"} and week[4] == {"03-01"}
    assert week_days(date(2028, 2, 25))[3] == {"02-28"} and week_days(date(2028, 2, 25))[4] == {"02-29"}
    assert week_days(date(2026, 12, 29))[3] == {"01-01"}
