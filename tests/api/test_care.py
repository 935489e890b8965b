"""Care touches: every occasion planned exactly once, every suppression reason, callbacks from
complaint to outcome — the real jobs, with the clock moved."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import insert, select

from loyalty.care.models import Touch
from loyalty.care.touch_writes import update_touches
from loyalty.core.ids import new_id
from loyalty.scheduler import run_job
from loyalty.webhooks.models import OutboxEvent
from tests.clock import now
from tests.factories import create_member, ledger, order_payload

SHANGHAI = ZoneInfo("Asia/Shanghai")
ALL_IN = {"email": True, "sms": True, "phone": True, "push": True, "marketing": True}


def rule(client, auth, kind, **fields):
    response = client.put(f"/v1/care/rules/{kind}", json={"enabled": True, **fields}, headers=auth())
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def plan(db, config, day: date) -> dict:
    with time_machine.travel(
        datetime.combine(day, datetime.min.time(), tzinfo=SHANGHAI) + timedelta(hours=1), tick=False
    ):
        return run_job("care.plan", db=db, config=config, as_of=day)


def dispatch(db, config, at: datetime) -> dict:
    with time_machine.travel(at, tick=False):
        return run_job("care.dispatch", db=db, config=config, as_of=at.date())


def touches(db, **filters):
    with db.unit_of_work() as session:
        query = select(Touch).order_by(Touch.due_at, Touch.id)
        for name, value in filters.items():
            query = query.where(getattr(Touch, name) == value)
        return list(session.scalars(query))


def local(day: date, hour: int, zone=SHANGHAI) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=zone) + timedelta(hours=hour)


def post_order_at(client, auth, member_id, order_id, amount, placed: datetime):
    response = client.post(
        "/v1/orders",
        json=order_payload(member_id, order_id, amount, placed_at=placed.isoformat()),
        headers=auth("storefront"),
    )
    assert response.status_code == 201, response.get_json()


# --- planning: each occasion once ---------------------------------------------------------------


def test_birthday_planned_once_days_before_and_sent_with_a_yearly_gift(client, auth, db, config):
    client.patch("/v1/program", json={"birthday_bonus": 300}, headers=auth())
    rule(
        client,
        auth,
        "birthday",
        days_before=3,
        channel="sms",
        template="{{ name }}: happy birthday, {{ gift_points }} points for you",
    )
    member = create_member(client, auth, name="Lin", birthday="1990-12-01", consent=ALL_IN)
    assert plan(db, config, date(2026, 11, 27))["birthday"] == 1  # due the next day: planned a day ahead
    assert plan(db, config, date(2026, 11, 28))["birthday"] == 0
    assert plan(db, config, date(2026, 11, 28))["birthday"] == 0
    [touch] = touches(db, kind="birthday")
    assert touch.occasion == "2026" and touch.due_at == local(date(2026, 11, 28), 10)
    assert dispatch(db, config, local(date(2026, 11, 28), 9)).get("sent", 0) == 0  # not yet due
    counts = dispatch(db, config, local(date(2026, 11, 28), 10, SHANGHAI) + timedelta(minutes=1))
    assert counts["sent"] == 1, counts
    [touch] = touches(db, kind="birthday")
    assert touch.status == "sent" and touch.message == "Lin: happy birthday, 300 points for you"
    gifts = [e for e in ledger(client, auth, member["id"]) if e["source"]["type"] == "birthday"]
    assert [(g["points"], g["source"]["id"]) for g in gifts] == [(300, "2026")]
    with db.unit_of_work() as session:
        [event] = session.scalars(select(OutboxEvent).where(OutboxEvent.type == "touch.due")).all()
        assert event.data["to"] == member["phone"] and event.data["message"].startswith("Lin")
    assert plan(db, config, date(2027, 11, 27))["birthday"] == 1  # next year, a new occasion


def test_29_february_is_celebrated_on_28_february_in_common_years(client, auth, db, config):
    rule(client, auth, "birthday", days_before=0)
    create_member(client, auth, birthday="2000-02-29", consent=ALL_IN)
    assert plan(db, config, date(2027, 2, 27))["birthday"] == 1
    [touch] = touches(db, kind="birthday")
    assert touch.due_at == local(date(2027, 2, 28), 10) and touch.occasion == "2027"
    assert plan(db, config, date(2028, 2, 29))["birthday"] == 1  # a leap year: the day itself
    assert touches(db, kind="birthday")[-1].due_at == local(date(2028, 2, 29), 10)


def test_a_birthday_falls_in_the_members_own_time_zone(client, auth, db, config):
    rule(client, auth, "birthday", days_before=0)
    create_member(client, auth, birthday="1985-06-10", timezone="America/New_York", consent=ALL_IN)
    plan(db, config, date(2026, 6, 10))
    [touch] = touches(db, kind="birthday")
    assert touch.due_at == local(date(2026, 6, 10), 10, ZoneInfo("America/New_York"))


def test_holidays_from_the_calendar_and_custom_dates_once_per_member(client, auth, db, config):
    rule(client, auth, "holiday", days_before=1, custom_dates=[{"date": "12-12", "name": "Shop day"}])
    members = [create_member(client, auth, consent=ALL_IN) for _ in range(3)]
    blocked = create_member(client, auth)
    client.patch(f"/v1/members/{blocked['id']}", json={"status": "blocked"}, headers=auth("staff"))
    assert plan(db, config, date(2026, 9, 30))["holiday"] == 3  # National Day, 1 October
    assert plan(db, config, date(2026, 9, 30))["holiday"] == 0
    assert plan(db, config, date(2026, 10, 1))["holiday"] == 0  # the week of it is one occasion
    assert {t.occasion for t in touches(db, kind="holiday")} == {"2026-10-01:National Day"}
    assert plan(db, config, date(2026, 12, 11))["holiday"] == 3
    assert {m["id"] for m in members} == {t.member_id for t in touches(db, occasion="2026-12-12:Shop day")}


def test_anniversary_of_enrolment(client, auth, db, config):
    rule(client, auth, "anniversary", template="{{ years }} year(s) with us")
    with time_machine.travel(datetime(2025, 3, 15, 12, tzinfo=UTC), tick=False):
        member = create_member(client, auth, consent=ALL_IN)
    assert plan(db, config, date(2026, 3, 14))["anniversary"] == 1
    assert plan(db, config, date(2026, 3, 15))["anniversary"] == 0
    [touch] = touches(db, kind="anniversary")
    assert touch.occasion == "1" and touch.member_id == member["id"]
    dispatch(db, config, local(date(2026, 3, 15), 11))
    assert touches(db, kind="anniversary")[0].message == "1 year(s) with us"


def test_follow_up_call_after_the_first_order_only(client, auth, db, config):
    rule(client, auth, "follow_up", days_after=7)
    member = create_member(client, auth, consent=ALL_IN)
    post_order_at(client, auth, member["id"], "first", "50", local(date(2026, 5, 1), 15))
    post_order_at(client, auth, member["id"], "second", "50", local(date(2026, 5, 2), 15))
    assert plan(db, config, date(2026, 5, 8))["follow_up"] == 1
    assert plan(db, config, date(2026, 5, 9))["follow_up"] == 0
    [touch] = touches(db, kind="follow_up")
    assert touch.occasion == "first_order" and touch.source == "order:first" and touch.channel == "phone"
    dispatch(db, config, local(date(2026, 5, 8), 11))
    body = client.get("/v1/callbacks", headers=auth("staff")).get_json()
    assert [c["id"] for c in body["data"]] == [touch.id] and body["data"][0]["status"] == "callback"


def test_win_back_after_twice_the_usual_interval_once_per_lapse(client, auth, db, config):
    rule(client, auth, "win_back")
    steady = create_member(client, auth, consent=ALL_IN)
    for i, day in enumerate((date(2026, 1, 1), date(2026, 1, 11), date(2026, 1, 21))):
        post_order_at(client, auth, steady["id"], f"w-{i}", "20", local(day, 12))
    assert plan(db, config, date(2026, 2, 9))["win_back"] == 0  # 19 days: not yet twice 10
    assert plan(db, config, date(2026, 2, 11))["win_back"] == 1
    assert plan(db, config, date(2026, 2, 20))["win_back"] == 0
    post_order_at(client, auth, steady["id"], "w-back", "20", local(date(2026, 3, 1), 12))
    assert plan(db, config, date(2026, 6, 1))["win_back"] == 1  # a new lapse, a new occasion
    occasions = [t.occasion for t in touches(db, kind="win_back")]
    assert occasions == ["lapsed:2026-01-21", "lapsed:2026-03-01"]


def test_win_back_after_a_set_number_of_days(client, auth, db, config):
    rule(client, auth, "win_back", inactive_days=60)
    once = create_member(client, auth, consent=ALL_IN)
    post_order_at(client, auth, once["id"], "only", "20", local(date(2026, 1, 1), 12))
    assert plan(db, config, date(2026, 2, 20))["win_back"] == 0
    assert plan(db, config, date(2026, 3, 5))["win_back"] == 1


# --- dispatch: every suppression reason -----------------------------------------------------------


def _planned(client, auth, db, config, kind="birthday", **member_fields):
    rule(client, auth, "birthday", days_before=0, channel="sms")
    member = create_member(client, auth, birthday="1990-07-01", **member_fields)
    plan(db, config, date(2026, 7, 1))
    return member


@pytest.mark.parametrize(
    "consent, reason",
    [
        ({"sms": False, "marketing": True}, "no_consent"),
        ({"sms": True, "marketing": False}, "no_marketing_consent"),
    ],
)
def test_consent_is_needed_for_the_channel_and_for_marketing(client, auth, db, config, consent, reason):
    _planned(client, auth, db, config, consent=consent)
    assert dispatch(db, config, local(date(2026, 7, 1), 11))[reason] == 1
    [touch] = touches(db, kind="birthday")
    assert (touch.status, touch.reason) == ("suppressed", reason)


def test_blocked_erased_and_disabled(client, auth, db, config):
    rule(client, auth, "birthday", days_before=0)
    blocked = create_member(client, auth, birthday="1990-07-01", consent=ALL_IN)
    erased = create_member(client, auth, birthday="1990-07-01", consent=ALL_IN)
    plan(db, config, date(2026, 7, 1))
    client.patch(f"/v1/members/{blocked['id']}", json={"status": "blocked"}, headers=auth("staff"))
    client.delete(f"/v1/members/{erased['id']}", headers=auth("staff"))
    counts = dispatch(db, config, local(date(2026, 7, 1), 11))
    # the erased member's greeting was dropped by the erasure itself, so dispatch never sees it
    assert counts["member_blocked"] == 1 and counts.get("member_gone", 0) == 0, counts
    assert [(t.status, t.reason) for t in touches(db, member_id=erased["id"])] == [("suppressed", "member_erased")]
    rule(client, auth, "anniversary", enabled=True)
    live = create_member(client, auth, birthday="1990-07-02", consent=ALL_IN)
    plan(db, config, date(2026, 7, 2))
    client.put("/v1/care/rules/birthday", json={"enabled": False}, headers=auth())
    assert dispatch(db, config, local(date(2026, 7, 2), 11))["rule_disabled"] == 1
    assert touches(db, member_id=live["id"])[0].reason == "rule_disabled"


def test_quiet_hours_hold_a_touch_until_morning_in_the_members_time(client, auth, db, config):
    client.patch("/v1/program", json={"care": {"quiet_start": "21:00", "quiet_end": "09:00"}}, headers=auth())
    _planned(client, auth, db, config, consent=ALL_IN)
    late = local(date(2026, 7, 1), 23)
    with db.unit_of_work() as session:
        session.execute(Touch.__table__.update().values(due_at=late - timedelta(minutes=5)))
    assert dispatch(db, config, late)["deferred"] == 1
    [touch] = touches(db, kind="birthday")
    assert (touch.status, touch.reason, touch.due_at) == ("planned", "quiet_hours", local(date(2026, 7, 2), 9))
    assert dispatch(db, config, local(date(2026, 7, 2), 8)).get("sent", 0) == 0
    assert dispatch(db, config, local(date(2026, 7, 2), 9) + timedelta(minutes=1))["sent"] == 1


def test_the_weekly_cap_of_promotional_touches(client, auth, db, config):
    client.patch("/v1/program", json={"care": {"weekly_cap": 1}}, headers=auth())
    rule(client, auth, "birthday", days_before=0)
    rule(client, auth, "holiday", days_before=0, custom_dates=[{"date": "07-01", "name": "Tea day"}])
    member = create_member(client, auth, birthday="1990-07-01", consent=ALL_IN)
    plan(db, config, date(2026, 7, 1))
    counts = dispatch(db, config, local(date(2026, 7, 1), 11))
    assert counts["sent"] == 1 and counts["weekly_cap"] == 1, counts
    client.post(
        f"/v1/members/{member['id']}/interactions", json={"kind": "complaint", "content": "late"}, headers=auth("staff")
    )
    assert len(client.get("/v1/callbacks", headers=auth("staff")).get_json()["data"]) == 1  # service isn't capped


def test_a_bad_template_is_refused_when_saved(client, auth):
    for template in (
        "{{ name ",
        "{{ nonsense }}",
        "{{ ''.__class__.__mro__ }}",
        "{% for x in range(10**9) %}",
        "{% for i in range(99999) %}{% for j in range(99999) %}x{% endfor %}{% endfor %}",
        "{{ [1]*99999999 }}",
        "{{ 'x' * 100000000 }}",
        "{{ name|center(10000000) }}",
        "{% include '/etc/passwd' %}",
        "{% extends 'x' %}",
        "{{ 1/0 }}",
        "{{ points + 'a' }}",
        "{{ 9**9**9 }}",
        "{{ lipsum() }}",
        "   ",
        "{% if name > 1 %}x{% endif %}",
        "{% set x = 1 %}{{ x }}",
        "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}",
    ):
        response = client.put("/v1/care/rules/birthday", json={"template": template}, headers=auth())
        assert response.status_code == 422 and "template" in response.get_json()["errors"], template
    assert client.put("/v1/care/rules/complaint_callback", json={"channel": "sms"}, headers=auth()).status_code == 422
    assert client.put("/v1/care/rules/birthday", json={"inactive_days": 5}, headers=auth()).status_code == 422
    assert (
        client.put(
            "/v1/care/rules/holiday", json={"custom_dates": [{"date": "02-30", "name": "x"}]}, headers=auth()
        ).status_code
        == 422
    )
    assert client.put("/v1/care/rules/nothing", json={}, headers=auth()).status_code == 404
    assert client.put("/v1/care/rules/birthday", json={"enabled": True}, headers=auth("staff")).status_code == 403
    kinds = [r["kind"] for r in client.get("/v1/care/rules", headers=auth("staff")).get_json()["data"]]
    assert {"birthday", "holiday", "anniversary", "follow_up", "complaint_callback", "win_back"} <= set(kinds)


# --- callbacks: complaint to outcome ---------------------------------------------------------------


def test_a_complaint_opens_a_callback_that_staff_close_with_an_outcome(client, auth, db):
    member = create_member(client, auth)
    complaint = client.post(
        f"/v1/members/{member['id']}/interactions",
        json={"kind": "complaint", "channel": "phone", "content": "The tea arrived broken", "assignee": "amy"},
        headers=auth("staff"),
    )
    assert complaint.status_code == 201, complaint.get_json()
    queue = client.get("/v1/callbacks?assignee=amy", headers=auth("staff")).get_json()["data"]
    assert len(queue) == 1 and queue[0]["kind"] == "complaint_callback"
    touch_id = queue[0]["id"]
    url = f"/v1/care/touches/{touch_id}/outcome"
    no_answer = client.post(url, json={"outcome": "no_answer"}, headers=auth("staff")).get_json()
    assert no_answer["status"] == "callback" and no_answer["attempts"] == 1
    later = (now() + timedelta(days=1)).replace(microsecond=0)
    again = client.post(
        url, json={"outcome": "call_back_later", "callback_at": later.isoformat()}, headers=auth("staff")
    ).get_json()
    assert datetime.fromisoformat(again["due_at"]) == later
    soon = quote((now() + timedelta(hours=2)).isoformat())
    assert client.get(f"/v1/callbacks?due_before={soon}", headers=auth("staff")).get_json()["data"] == []
    assert client.post(url, json={"outcome": "call_back_later"}, headers=auth("staff")).status_code == 422
    done = client.post(
        url, json={"outcome": "reached", "score": 4, "notes": "replacement sent"}, headers=auth("staff")
    ).get_json()
    assert (done["status"], done["outcome"], done["score"]) == ("done", "reached", 4)
    assert client.post(url, json={"outcome": "reached"}, headers=auth("staff")).status_code == 409
    assert client.get("/v1/callbacks", headers=auth("staff")).get_json()["data"] == []
    log = client.get(f"/v1/members/{member['id']}/interactions", headers=auth("staff")).get_json()["data"]
    assert [i["kind"] for i in log] == ["call", "call", "call", "complaint"]
    resolved = client.post(
        f"/v1/interactions/{complaint.get_json()['id']}/resolve",
        json={"resolution": "replaced", "goodwill_points": 200},
        headers=auth("staff"),
    )
    assert resolved.status_code == 200 and resolved.get_json()["resolved_at"]
    assert [(e["points"], e["source"]["type"]) for e in ledger(client, auth, member["id"]) if e["kind"] == "bonus"] == [
        (200, "interaction")
    ]
    assert (
        client.post(
            f"/v1/interactions/{complaint.get_json()['id']}/resolve",
            json={"resolution": "again", "goodwill_points": 200},
            headers=auth("staff"),
        ).status_code
        == 409
    )


def test_interaction_input_is_checked(client, auth):
    member = create_member(client, auth)
    url = f"/v1/members/{member['id']}/interactions"
    for body in (
        {"kind": "rant", "content": "x"},
        {"kind": "note"},
        {"kind": "note", "content": "x", "score": 9},
        {"kind": "note", "content": ""},
    ):
        assert client.post(url, json=body, headers=auth("staff")).status_code == 422, body
    assert (
        client.post(
            "/v1/members/mbr_nobody/interactions", json={"kind": "note", "content": "x"}, headers=auth("staff")
        ).status_code
        == 404
    )
    assert client.post(url, json={"kind": "note", "content": "x"}, headers=auth("storefront")).status_code == 403
    assert (
        client.post(
            "/v1/care/touches/tch_nothing/outcome", json={"outcome": "reached"}, headers=auth("staff")
        ).status_code
        == 404
    )


def test_the_timeline_shows_orders_ledger_tiers_touches_and_interactions(client, auth, db, config):
    from tests.api.test_tiers import LADDER

    client.put("/v1/tiers", json={"tiers": LADDER}, headers=auth())
    member = create_member(client, auth)
    post_order_at(client, auth, member["id"], "tl-1", "3000", now() - timedelta(days=1))
    client.post(
        f"/v1/members/{member['id']}/interactions", json={"kind": "complaint", "content": "slow"}, headers=auth("staff")
    )
    seen, cursor = [], None
    while True:
        url = f"/v1/members/{member['id']}/timeline?limit=2" + (f"&cursor={cursor}" if cursor else "")
        body = client.get(url, headers=auth("staff")).get_json()
        seen += body["data"]
        cursor = body["next_cursor"]
        if not cursor:
            break
    kinds = {item["type"] for item in seen}
    assert {
        "member.enrolled",
        "order.placed",
        "points.earn",
        "tier.changed",
        "interaction.complaint",
        "touch.callback",
    } <= kinds, kinds
    assert len({item["id"] for item in seen}) == len(seen)
    ats = [item["at"] for item in seen]
    assert [datetime.fromisoformat(a) for a in ats] == sorted((datetime.fromisoformat(a) for a in ats), reverse=True)


def test_a_rule_changes_only_what_is_sent(client, auth):
    rule(
        client,
        auth,
        "holiday",
        days_before=2,
        template="Happy {{ occasion_name }}",
        custom_dates=[{"date": "05-20", "name": "Tea day"}],
    )
    changed = client.put("/v1/care/rules/holiday", json={"channel": "sms"}, headers=auth()).get_json()
    assert (changed["enabled"], changed["days_before"], changed["template"], changed["channel"]) == (
        True,
        2,
        "Happy {{ occasion_name }}",
        "sms",
    )
    assert changed["custom_dates"] == [{"date": "05-20", "name": "Tea day"}]


def test_no_address_for_the_channel_is_a_suppression(client, auth, db, config):
    rule(client, auth, "birthday", days_before=0, channel="email")
    create_member(client, auth, birthday="1990-07-01", email=None, consent=ALL_IN)
    plan(db, config, date(2026, 7, 1))
    assert dispatch(db, config, local(date(2026, 7, 1), 11))["no_address"] == 1


def test_a_message_that_fails_to_render_fails_alone(client, auth, db, config, monkeypatch):
    from loyalty.care import dispatch as dispatch_module
    from loyalty.care import templates

    rule(client, auth, "birthday", days_before=0, template="Hi {{ name }}")
    create_member(client, auth, name="Bad", birthday="1990-07-01", consent=ALL_IN)
    create_member(client, auth, name="Good", birthday="1990-07-01", consent=ALL_IN)
    plan(db, config, date(2026, 7, 1))
    real = templates.render

    def flaky(template, context):
        if context.get("name") == "Bad":
            raise templates.TemplateFailed("boom")
        return real(template, context)

    monkeypatch.setattr(dispatch_module.templates, "render", flaky)
    counts = dispatch(db, config, local(date(2026, 7, 1), 11))
    assert counts["sent"] == 1 and counts["failed"] == 1, counts
    assert {t.status for t in touches(db, kind="birthday")} == {"sent", "failed"}


def test_a_birthday_reward_gives_a_coupon_the_message_can_name_until_stock_runs_out(client, auth, db, config):
    reward = client.post(
        "/v1/rewards", json={"name": "Cake", "kind": "gift", "points_cost": 1, "stock": 1}, headers=auth()
    ).get_json()
    rule(client, auth, "birthday", days_before=0, reward_id=reward["id"], template="{{ name }}: {{ coupon }}")
    create_member(client, auth, name="A", birthday="1990-07-01", consent=ALL_IN)
    create_member(client, auth, name="B", birthday="1990-07-01", consent=ALL_IN)
    plan(db, config, date(2026, 7, 1))
    dispatch(db, config, local(date(2026, 7, 1), 11))
    sent = sorted(touches(db, kind="birthday"), key=lambda t: t.message)
    with_coupon = [t for t in sent if len(t.message.split(": ")[1]) == 12]
    without = [t for t in sent if t.message.endswith(": ")]
    assert len(with_coupon) == 1 and len(without) == 1 and without[0].reason == "gift_unavailable"


def test_resolving_a_complaint_closes_its_callback_and_uses_the_rule_template(client, auth):
    rule(client, auth, "complaint_callback", template="请回电 {{ name }}")
    member = create_member(client, auth, name="周")
    complaint = client.post(
        f"/v1/members/{member['id']}/interactions", json={"kind": "complaint", "content": "x"}, headers=auth("staff")
    ).get_json()
    [callback] = client.get("/v1/callbacks", headers=auth("staff")).get_json()["data"]
    assert callback["message"] == "请回电 周"
    client.post(f"/v1/interactions/{complaint['id']}/resolve", json={"resolution": "sorted"}, headers=auth("staff"))
    assert client.get("/v1/callbacks", headers=auth("staff")).get_json()["data"] == []
    note = client.post(
        f"/v1/members/{member['id']}/interactions", json={"kind": "note", "content": "x"}, headers=auth("staff")
    ).get_json()
    assert (
        client.post(
            f"/v1/interactions/{note['id']}/resolve", json={"resolution": "x"}, headers=auth("staff")
        ).status_code
        == 409
    )


def test_an_erased_member_gets_no_interactions(client, auth):
    member = create_member(client, auth)
    client.delete(f"/v1/members/{member['id']}", headers=auth("staff"))
    response = client.post(
        f"/v1/members/{member['id']}/interactions", json={"kind": "complaint", "content": "x"}, headers=auth("staff")
    )
    assert response.status_code == 409 and response.get_json()["code"] == "member_erased"


def test_two_first_orders_at_the_same_instant_make_one_follow_up(client, auth, db, config):
    rule(client, auth, "follow_up", days_after=7)
    member = create_member(client, auth, consent=ALL_IN)
    at = local(date(2026, 5, 1), 15)
    post_order_at(client, auth, member["id"], "twin-a", "50", at)
    post_order_at(client, auth, member["id"], "twin-b", "50", at)
    assert plan(db, config, date(2026, 5, 8))["follow_up"] == 1


# --- a win-back is checked again before it goes out ---------------------------------------------------


def test_a_win_back_for_a_member_who_ordered_since_it_was_planned_is_suppressed(client, auth, db, config):
    rule(client, auth, "win_back", inactive_days=30, gift_points=100)
    back = create_member(client, auth, consent=ALL_IN)
    away = create_member(client, auth, consent=ALL_IN)
    for member in (back, away):
        post_order_at(client, auth, member["id"], f"old-{member['id']}", "20", local(date(2026, 1, 1), 12))
    assert plan(db, config, date(2026, 2, 11))["win_back"] == 2
    assert {t.source for t in touches(db, kind="win_back")} == {
        f"last_order:{local(date(2026, 1, 1), 12).astimezone(UTC).isoformat()}"
    }
    post_order_at(client, auth, back["id"], "came-back", "35", local(date(2026, 2, 11), 9))  # before it is sent
    counts = dispatch(db, config, local(date(2026, 2, 11), 11))
    assert counts["no_longer_lapsed"] == 1 and counts["sent"] == 1, counts
    by_member = {t.member_id: t for t in touches(db, kind="win_back")}
    assert (by_member[back["id"]].status, by_member[back["id"]].reason) == ("suppressed", "no_longer_lapsed")
    assert by_member[away["id"]].status == "sent"
    gifts = {
        m["id"]: [e for e in ledger(client, auth, m["id"]) if e["source"]["type"] == "touch"] for m in (back, away)
    }
    assert gifts[back["id"]] == [] and [e["points"] for e in gifts[away["id"]]] == [100]  # no gift for coming back
    listed = client.get(f"/v1/care/touches?member_id={back['id']}", headers=auth("staff")).get_json()["data"]
    assert [t["reason"] for t in listed] == ["no_longer_lapsed"]


def test_an_order_placed_before_the_lapse_but_posted_late_does_not_count_as_coming_back(client, auth, db, config):
    rule(client, auth, "win_back", inactive_days=30)
    member = create_member(client, auth, consent=ALL_IN)
    post_order_at(client, auth, member["id"], "last", "20", local(date(2026, 1, 10), 12))
    assert plan(db, config, date(2026, 2, 11))["win_back"] == 1
    post_order_at(client, auth, member["id"], "imported", "20", local(date(2026, 1, 5), 12))  # older, synced late
    assert dispatch(db, config, local(date(2026, 2, 11), 11))["sent"] == 1


# --- callbacks are due in the member's working hours -------------------------------------------------


def _complaint(client, auth, member_id, content="The tea arrived broken"):
    response = client.post(
        f"/v1/members/{member_id}/interactions", json={"kind": "complaint", "content": content}, headers=auth("staff")
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _callback(client, auth, member_id):
    queue = client.get("/v1/callbacks?limit=500", headers=auth("staff")).get_json()["data"]
    return next(c for c in queue if c["member_id"] == member_id)


def test_a_no_answer_at_1_59_is_called_again_when_the_members_night_ends(client, auth, db):
    member = create_member(client, auth)  # quiet hours 21:00-09:00 (the program's default), Shanghai
    _complaint(client, auth, member["id"])
    url = f"/v1/care/touches/{_callback(client, auth, member['id'])['id']}/outcome"
    with time_machine.travel(local(date(2026, 11, 19), 1) + timedelta(minutes=59), tick=False):
        retry = client.post(url, json={"outcome": "no_answer"}, headers=auth("staff")).get_json()
    assert datetime.fromisoformat(retry["due_at"]) == local(date(2026, 11, 19), 9)  # not 05:59
    with time_machine.travel(local(date(2026, 11, 19), 15), tick=False):  # 19:00: still in working hours
        afternoon = client.post(url, json={"outcome": "no_answer"}, headers=auth("staff")).get_json()
    assert datetime.fromisoformat(afternoon["due_at"]) == local(date(2026, 11, 19), 19)


def test_a_callback_time_chosen_inside_the_members_night_is_refused(client, auth, db):
    member = create_member(client, auth)
    _complaint(client, auth, member["id"])
    callback = _callback(client, auth, member["id"])
    url = f"/v1/care/touches/{callback['id']}/outcome"
    for outcome in ("call_back_later", "no_answer"):
        late = local(date(2026, 11, 18), 23) + timedelta(minutes=30)
        response = client.post(url, json={"outcome": outcome, "callback_at": late.isoformat()}, headers=auth("staff"))
        assert response.status_code == 422, response.get_json()
        message = response.get_json()["errors"]["callback_at"][0]
        assert "23:30" in message and "09:00-21:00" in message and "2026-11-19T09:00:00+08:00" in message, message
    unchanged = _callback(client, auth, member["id"])
    assert (unchanged["attempts"], unchanged["due_at"]) == (0, callback["due_at"])  # nothing written
    evening = local(date(2026, 11, 18), 20) + timedelta(minutes=45)
    kept = client.post(
        url, json={"outcome": "call_back_later", "callback_at": evening.isoformat()}, headers=auth("staff")
    ).get_json()
    assert datetime.fromisoformat(kept["due_at"]) == evening


def test_a_complaint_logged_at_night_is_called_back_in_the_morning_in_the_members_zone(client, auth, db):
    here = create_member(client, auth)
    with time_machine.travel(local(date(2026, 11, 18), 23), tick=False):
        _complaint(client, auth, here["id"])
    assert datetime.fromisoformat(_callback(client, auth, here["id"])["due_at"]) == local(date(2026, 11, 19), 9)
    new_york = ZoneInfo("America/New_York")
    there = create_member(client, auth, timezone="America/New_York")
    _complaint(client, auth, there["id"])  # 10:00 in Shanghai is 21:00 the evening before in New York
    assert datetime.fromisoformat(_callback(client, auth, there["id"])["due_at"]) == local(
        date(2026, 11, 18), 9, new_york
    )


def test_a_follow_up_call_planned_inside_quiet_hours_is_due_when_they_end(client, auth, db, config):
    client.patch("/v1/program", json={"care": {"send_at": "07:00"}}, headers=auth())
    rule(client, auth, "follow_up", days_after=7)
    member = create_member(client, auth, consent=ALL_IN)
    post_order_at(client, auth, member["id"], "first", "50", local(date(2026, 5, 1), 15))
    plan(db, config, date(2026, 5, 8))
    assert dispatch(db, config, local(date(2026, 5, 8), 7) + timedelta(minutes=1))["callbacks"] == 1
    [touch] = touches(db, kind="follow_up")
    assert (touch.status, touch.due_at) == ("callback", local(date(2026, 5, 8), 9))


# --- the callback queue is enough to dial from -------------------------------------------------------


def test_the_callback_queue_carries_who_to_call_and_why_in_one_query(client, auth, db, config):
    from sqlalchemy import event

    from tests.api.test_tiers import LADDER

    client.put("/v1/tiers", json={"tiers": LADDER}, headers=auth())
    rule(client, auth, "follow_up", days_after=7)
    lin = create_member(client, auth, name="林美", phone="+86 139 0000 1234", consent=ALL_IN)
    post_order_at(client, auth, lin["id"], "web-1", "50", local(date(2026, 5, 1), 15))
    plan(db, config, date(2026, 5, 8))
    dispatch(db, config, local(date(2026, 5, 8), 11))
    _complaint(client, auth, lin["id"], "The tea arrived broken")
    gone = create_member(client, auth, name="Gone Soon")
    _complaint(client, auth, gone["id"], "Gone Soon's parcel went to 12 Elm St")
    client.delete(f"/v1/members/{gone['id']}", headers=auth("staff"))
    for _ in range(3):
        _complaint(client, auth, create_member(client, auth)["id"])

    statements = []

    def record(connection, cursor, statement, *rest):
        statements.append(statement.lower())

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        body = client.get("/v1/callbacks", headers=auth("staff")).get_json()
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    reads = [s for s in statements if any(t in s for t in ("touches", "members", "interactions", "tiers"))]
    assert len(reads) == 1, reads  # members, tiers and complaints joined: no query per callback
    assert len(body["data"]) == 5  # the erased member's callback left the list with them
    follow_up = next(c for c in body["data"] if c["kind"] == "follow_up")
    assert follow_up["member"] == {
        "id": lin["id"],
        "member_number": lin["member_number"],
        "name": "林美",
        "phone": "+8613900001234",
        "tier": "regular",
        "tier_name": "Regular",
        "timezone": "Asia/Shanghai",
        "erased": False,
    }
    assert follow_up["about"] == "follow-up on the first order web-1"
    complaint = next(c for c in body["data"] if c["kind"] == "complaint_callback" and c["member_id"] == lin["id"])
    assert complaint["about"] == "complaint: The tea arrived broken"
    assert not [c for c in body["data"] if c["member_id"] == gone["id"]]
    assert "Gone Soon" not in str(body) and "Elm" not in str(body)


def test_a_batch_all_deferred_for_the_night_does_not_end_the_run(client, auth, db, config, monkeypatch):
    """Night in Shanghai, afternoon in London: the Shanghai touches come first and are all deferred;
    the London member's touch is still sent in the same run (one touch a batch here)."""
    from loyalty.care import dispatch as care_dispatch

    monkeypatch.setattr(care_dispatch, "BATCH", 1)
    client.patch("/v1/program", json={"care": {"quiet_start": "21:00", "quiet_end": "09:00"}}, headers=auth())
    rule(client, auth, "birthday", days_before=0)
    night = [create_member(client, auth, birthday="1990-07-01", consent=ALL_IN) for _ in range(2)]
    day = create_member(client, auth, birthday="1990-07-01", consent=ALL_IN, timezone="Europe/London")
    plan(db, config, date(2026, 7, 1))
    late = local(date(2026, 7, 1), 23)  # 16:00 in London
    with db.unit_of_work() as session:
        for minutes, member in ((30, night[0]), (20, night[1]), (10, day)):
            session.execute(
                Touch.__table__.update()
                .where(Touch.member_id == member["id"])
                .values(due_at=late - timedelta(minutes=minutes))
            )
    assert len(touches(db, kind="birthday")) == 3
    counts = dispatch(db, config, late)
    assert (counts["deferred"], counts["sent"]) == (2, 1), counts
    assert [t.status for t in touches(db, member_id=day["id"])] == ["sent"]


# --- dispatch: a batch decided whole, then written with a few statements ---------------------------

DAY = date(2026, 7, 1)
LATE = local(DAY, 23)  # 23:00 in Shanghai, 16:00 in London


def _due_before(db, minutes: int = 5) -> None:
    with db.unit_of_work() as session:
        session.execute(Touch.__table__.update().values(due_at=LATE - timedelta(minutes=minutes)))


def test_deferred_sent_suppressed_and_capped_touches_in_one_batch(client, auth, db, config):
    client.patch(
        "/v1/program", json={"care": {"quiet_start": "21:00", "quiet_end": "09:00", "weekly_cap": 1}}, headers=auth()
    )
    rule(client, auth, "birthday", days_before=0, channel="sms", template="Happy birthday, {{ name }}")
    rule(client, auth, "holiday", days_before=0, channel="sms", custom_dates=[{"date": "07-01", "name": "Tea day"}])
    london = {"timezone": "Europe/London", "birthday": "1990-07-01"}
    asleep = create_member(client, auth, name="Asleep", birthday="1990-07-01", consent=ALL_IN)
    awake = create_member(client, auth, name="Awake", consent=ALL_IN, **london)
    silent = create_member(client, auth, name="Silent", consent={**ALL_IN, "sms": False}, **london)
    plan(db, config, DAY)
    _due_before(db)
    counts = dispatch(db, config, LATE)
    # each member has a birthday and a holiday touch: two deferred, one of Awake's sent and the
    # other over the cap of one a week, both of Silent's without consent
    assert counts == {"deferred": 2, "sent": 1, "weekly_cap": 1, "no_consent": 2, "looked_at": 6}, counts
    morning = local(date(2026, 7, 2), 9)
    assert {(t.status, t.reason, t.due_at) for t in touches(db, member_id=asleep["id"])} == {
        ("planned", "quiet_hours", morning)
    }
    [sent] = touches(db, member_id=awake["id"], status="sent")
    [capped] = touches(db, member_id=awake["id"], status="suppressed")
    assert capped.reason == "weekly_cap" and capped.message is None and capped.sent_at is None
    assert sent.sent_at == LATE and sent.reason is None
    assert sent.message and (sent.kind != "birthday" or sent.message == "Happy birthday, Awake")
    assert {(t.status, t.reason) for t in touches(db, member_id=silent["id"])} == {("suppressed", "no_consent")}
    with db.unit_of_work() as session:
        [event] = session.scalars(select(OutboxEvent).where(OutboxEvent.type == "touch.due")).all()
        assert event.member_id == awake["id"] and event.occurred_at == LATE
        assert event.data == {
            "touch_id": sent.id,
            "member_id": awake["id"],
            "kind": sent.kind,
            "occasion": sent.occasion,
            "channel": "sms",
            "message": sent.message,
            "to": awake["phone"],
            "locale": awake["locale"],
            "campaign_id": None,
            "coupon_code": None,
        }
    # in the morning the deferred two go; the cap still holds Asleep to one of them
    assert dispatch(db, config, morning + timedelta(minutes=1)) == {"sent": 1, "weekly_cap": 1, "looked_at": 2}


def test_a_message_that_reads_no_member_field_is_made_once_a_batch(client, auth, db, config, monkeypatch):
    from loyalty.care import dispatch as dispatch_module
    from loyalty.care import templates

    rule(client, auth, "birthday", days_before=0, template="Tea day at {{ program }}")
    for name in ("Ann", "Bo", "Cy"):
        create_member(client, auth, name=name, birthday="1990-07-01", consent=ALL_IN)
    plan(db, config, DAY)
    made = []
    real = templates.render
    monkeypatch.setattr(dispatch_module.templates, "render", lambda t, c: made.append(t) or real(t, c))
    assert dispatch(db, config, local(DAY, 11))["sent"] == 3
    assert made == ["Tea day at {{ program }}"]
    assert len({t.message for t in touches(db, kind="birthday")}) == 1


def test_a_template_that_reads_the_name_is_made_for_each_member(client, auth, db, config):
    rule(client, auth, "birthday", days_before=0, template="Hi {{ name }} from {{ program }}")
    for name in ("Ann", "Bo"):
        create_member(client, auth, name=name, birthday="1990-07-01", consent=ALL_IN)
    plan(db, config, DAY)
    assert dispatch(db, config, local(DAY, 11))["sent"] == 2
    assert sorted(t.message.split(" ")[1] for t in touches(db, kind="birthday")) == ["Ann", "Bo"]


def test_touches_due_at_one_instant_are_each_sent_once_across_batches(client, auth, db, config, monkeypatch):
    """A campaign's fan-out is due at one instant: batches smaller than it split the tie, and every
    touch still goes exactly once."""
    from loyalty.care import dispatch as dispatch_module

    monkeypatch.setattr(dispatch_module, "BATCH", 2)
    rule(client, auth, "birthday", days_before=0)
    members = [create_member(client, auth, birthday="1990-07-01", consent=ALL_IN) for _ in range(5)]
    plan(db, config, DAY)
    with db.unit_of_work() as session:
        session.execute(Touch.__table__.update().values(due_at=local(DAY, 10)))
    assert dispatch(db, config, local(DAY, 11)) == {"sent": 5, "looked_at": 5}
    with db.unit_of_work() as session:
        about = session.scalars(select(OutboxEvent.member_id).where(OutboxEvent.type == "touch.due")).all()
    assert sorted(about) == sorted(m["id"] for m in members)
    assert {t.status for t in touches(db, kind="birthday")} == {"sent"}


def _touch(session, member_id: str) -> str:
    touch_id = new_id("tch")
    session.execute(
        insert(Touch),
        {
            "id": touch_id,
            "member_id": member_id,
            "kind": "birthday",
            "occasion": touch_id,
            "channel": "sms",
            "due_at": now(),
            "status": "planned",
            "attempts": 0,
            "created_at": now(),
        },
    )
    return touch_id


def test_update_touches_sets_typed_values_and_refreshes_touches_the_session_holds(client, auth, db):
    later = datetime(2026, 7, 2, 1, 0, tzinfo=UTC)
    member = create_member(client, auth)
    with db.unit_of_work() as session:
        ids = [_touch(session, member["id"]) for _ in range(3)]
    with db.unit_of_work() as session:
        held = session.get(Touch, ids[0])
        assert held is not None and held.status == "planned"
        update_touches(
            session,
            [
                {"id": ids[0], "status": "sent", "reason": None, "sent_at": later, "message": 'Hi "you", é'},
                {"id": ids[1], "status": "sent", "reason": "gift_unavailable", "sent_at": later, "message": ""},
            ],
        )
        update_touches(session, [{"id": ids[2], "due_at": later + timedelta(hours=8), "reason": "quiet_hours"}])
        assert (held.status, held.message, held.sent_at) == ("sent", 'Hi "you", é', later)  # read again
    with db.unit_of_work() as session:
        got = {t.id: t for t in session.scalars(select(Touch).where(Touch.id.in_(ids)))}
    assert (got[ids[1]].reason, got[ids[1]].message) == ("gift_unavailable", "")
    assert (got[ids[2]].status, got[ids[2]].due_at, got[ids[2]].reason) == (
        "planned",
        later + timedelta(hours=8),
        "quiet_hours",
    )


def _count_lot_reads(monkeypatch) -> list[int]:
    from loyalty.care import dispatch as dispatch_module

    counted: list[int] = []
    real = dispatch_module.available_points
    monkeypatch.setattr(dispatch_module, "available_points", lambda *a, **k: counted.append(1) or real(*a, **k))
    return counted


def test_a_message_can_say_the_members_points(client, auth, db, config, monkeypatch):
    counted = _count_lot_reads(monkeypatch)
    rule(client, auth, "birthday", days_before=0, template="Hi {{ name }}, {{ points }} points ({{ points_value }})")
    rich = create_member(client, auth, name="Ann", birthday="1990-07-01", consent=ALL_IN)
    create_member(client, auth, name="Bo", birthday="1990-07-01", consent=ALL_IN)
    with time_machine.travel(local(DAY, 9) - timedelta(days=1), tick=False):
        adjusted = client.post(
            f"/v1/members/{rich['id']}/adjustments", json={"points": 420, "reason": "thanks"}, headers=auth("staff")
        )
    assert adjusted.status_code == 201, adjusted.get_json()
    plan(db, config, DAY)
    assert dispatch(db, config, local(DAY, 11))["sent"] == 2
    assert sorted(t.message for t in touches(db, kind="birthday")) == [
        "Hi Ann, 420 points (4.20)",
        "Hi Bo, 0 points (0.00)",
    ]
    assert counted == [1]  # once for the batch


def test_a_batch_whose_messages_say_no_points_counts_nobodys_lots(client, auth, db, config, monkeypatch):
    counted = _count_lot_reads(monkeypatch)
    rule(client, auth, "birthday", days_before=0, template="Hi {{ name }}, {{ gift_points }} points for you")
    create_member(client, auth, name="Ann", birthday="1990-07-01", consent=ALL_IN)
    plan(db, config, DAY)
    assert dispatch(db, config, local(DAY, 11))["sent"] == 1
    assert counted == []
