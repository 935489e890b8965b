"""Settings pages for the program's rules (admin): program, tier ladder, care rules and templates,
rewards, webhooks with their delivery log and replay. Every save goes through the API's schema and
service, shows through the API, is audited under the admin key's name, and writes nothing when refused."""

from __future__ import annotations

import re
from decimal import Decimal
from html import unescape

import pytest

from tests.api.test_tiers import LADDER
from tests.api.test_webhooks import Receiver, deliver
from tests.console.conftest import ZH, english_leftovers
from tests.factories import create_member, post_order

PAGES = ["program", "tiers", "care", "rewards", "webhooks"]
# The test's own data and the service's codes that stay as they are on a Chinese page.
OWN = {
    "test",
    "admin",
    "Loyalty",
    "program",
    "Regular",
    "Silver",
    "Gold",
    "regular",
    "silver",
    "gold",
    "Asia",
    "Shanghai",
    "gift_card",
    "name",
    "member_number",
    "tier",
    "tier_name",
    "city",
    "points",
    "points_value",
    "currency",
    "kind",
    "occasion",
    "occasion_name",
    "date",
    "gift_points",
    "years",
    "coupon",
    "Demo",
    "Tea",
    "House",
    "happy",
    "birthday",
    "from",
    "are",
    "waiting",
    "for",
    "you",
    "wishes",
    "year",
    "with",
    "today",
    "Thank",
    "Call",
    "how",
    "their",
    "first",
    "purchase",
    "back",
    "about",
    "complaint",
    "within",
    "hours",
    "miss",
    "Come",
    "something",
    "new",
    "news",
    "Mid",
    "Autumn",
    "Festival",
    "it's",
    "Points",
    "You",
    "Free",
    "tea",
    "https",
    "hook",
    "localhost",
}
# Codes an admin types as they are: template fields and filters, date patterns, examples of codes and links.
OWN |= {
    "ISO",
    "gift",
    "card",
    "code",
    "example",
    "join",
    "ref",
    "shop",
    "YYYY",
    "capitalize",
    "default",
    "lower",
    "title",
    "trim",
    "upper",
    "member",
    "number",
    "value",
}


def audit(client, auth, action: str) -> list[dict]:
    entries = client.get("/v1/audit-log", headers=auth()).get_json()["data"]
    return [e for e in entries if e["action"] == action]


def visible(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", html))


@pytest.mark.parametrize("name", PAGES)
def test_staff_get_403_and_admin_see_each_page_in_both_languages(name, console, admin_console):
    assert console.get(f"/console/settings/{name}").status_code == 403
    assert console.post(f"/console/settings/{name}", data={}).status_code == 403
    english = admin_console.text(f"/console/settings/{name}")
    assert 'name="csrf_token"' in english
    chinese = admin_console.text(f"/console/settings/{name}", headers=ZH)
    assert english_leftovers(chinese, allowed=OWN) == []


# ---- Program -------------------------------------------------------------------------------------


def program_form(admin_console) -> dict:
    """Every field of the program form as the page fills it."""
    html = admin_console.text("/console/settings/program")
    fields = {
        unescape(n): unescape(v)
        for n, v in re.findall(r'<input id="[^"]*" name="([^"]+)" type="[^"]+" value="([^"]*)"', html)
    }
    for name, value in re.findall(r'<textarea id="[^"]*" name="([^"]+)"[^>]*>([^<]*)</textarea>', html):
        fields[name] = unescape(value)
    fields["tier_metric"] = re.search(r'name="tier_metric".*?<option value="([^"]+)" selected', html, re.DOTALL).group(
        1
    )
    return fields


def test_program_saves_through_the_service_and_is_audited(admin_console, client, auth):
    html = admin_console.text("/console/settings/program")
    assert "Program settings" in html and 'value="CNY"' in html
    form = program_form(admin_console)
    form.update(
        {
            "name": "Tea Club",
            "signup_bonus": "50",
            "referral.monthly_cap": "3",
            "referral.total_cap": "",
            "care.weekly_cap": "4",
            "care.quiet_start": "22:00",
            "exchange_rates": "USD 7.10\nHKD=0.91",
            "pos_pending_days": "3",
            "excluded_categories": "gift_card, deposit",
        }
    )
    response = admin_console.post("/console/settings/program", data=form)
    assert response.status_code == 303, visible(response.get_data(as_text=True))[:2000]
    program = client.get("/v1/program", headers=auth()).get_json()
    assert program["name"] == "Tea Club" and program["signup_bonus"] == 50 and program["pos_pending_days"] == 3
    assert program["referral"]["monthly_cap"] == 3 and program["referral"]["total_cap"] is None
    assert program["care"]["weekly_cap"] == 4 and program["care"]["quiet_start"] == "22:00"
    assert {code: Decimal(rate) for code, rate in program["exchange_rates"].items()} == {
        "USD": Decimal("7.10"),
        "HKD": Decimal("0.91"),
    }
    assert program["excluded_categories"] == ["gift_card", "deposit"]
    [entry] = audit(client, auth, "console.settings_program")
    assert entry["actor"]["name"] == "test admin"
    page = admin_console.text("/console/settings/program")
    assert "The program settings were saved." in page and 'value="Tea Club"' in page


@pytest.mark.parametrize(
    "field, value",
    [
        ("signup_bonus", "lots"),
        ("referral.monthly_cap", "-1"),
        ("care.quiet_end", "25:00"),
        ("currency", "XXQ"),
        ("exchange_rates", "USD seven"),
    ],
)
def test_an_invalid_program_is_refused_in_place_and_nothing_is_written(admin_console, client, auth, field, value):
    before = client.get("/v1/program", headers=auth()).get_json()
    form = {**program_form(admin_console), "name": "Changed", field: value}
    response = admin_console.post("/console/settings/program", data=form)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    field_id = "f-" + field.replace(".", "-")
    assert re.search(rf'id="{field_id}"[^>]*aria-invalid="true"', html), field
    assert re.search(rf'id="{field_id}-error"><p class="field-error"', html) or field == "exchange_rates"
    assert 'value="Changed"' in html  # the form comes back as typed
    assert client.get("/v1/program", headers=auth()).get_json() == before
    assert audit(client, auth, "console.settings_program") == []


def test_program_without_csrf_is_refused(admin_console, client, auth):
    form = {**program_form(admin_console), "name": "No token"}
    assert admin_console.post("/console/settings/program", data=form, csrf=False).status_code == 400
    assert client.get("/v1/program", headers=auth()).get_json()["name"] != "No token"


# ---- Tier ladder ---------------------------------------------------------------------------------


def ladder_form(tiers: list[dict], rows: int | None = None, metric: str = "spend_12m") -> dict:
    form = {"rows": str(rows or len(tiers)), "tier_metric": metric}
    for index, tier in enumerate(tiers):
        for column, value in tier.items():
            form[f"tiers-{index}-{column}"] = value
    return form


def test_the_ladder_is_saved_like_put_tiers(admin_console, client, auth):
    html = admin_console.text("/console/settings/tiers")
    assert 'name="tiers-0-code"' in html and 'name="tiers-1-code"' in html  # empty rows for new tiers
    form = ladder_form([*LADDER, {}], rows=5)  # one more empty row: ignored
    response = admin_console.post("/console/settings/tiers", data=form)
    assert response.status_code == 303, visible(response.get_data(as_text=True))[:2000]
    ladder = client.get("/v1/tiers", headers=auth()).get_json()
    assert [t["code"] for t in ladder["tiers"]] == ["regular", "silver", "gold"]
    assert ladder["tiers"][2]["earn_multiplier"] == "1.5" and ladder["tiers"][2]["benefits"] == "free gift wrapping"
    page = admin_console.text("/console/settings/tiers")
    assert 'value="silver"' in page and 'name="tiers-4-code"' in page
    assert [e["actor"]["name"] for e in audit(client, auth, "console.settings_tiers")] == ["test admin"]
    # Remove a tier and change the metric, through the same form.
    form = ladder_form(LADDER, metric="orders_12m")
    form.update({"tiers-1-remove": "on", "tiers-2-threshold": "20"})
    assert admin_console.post("/console/settings/tiers", data=form).status_code == 303
    ladder = client.get("/v1/tiers", headers=auth()).get_json()
    assert [t["code"] for t in ladder["tiers"]] == ["regular", "gold"] and ladder["tier_metric"] == "orders_12m"


@pytest.mark.parametrize(
    "change, field",
    [
        ({"tiers-1-threshold": "abc"}, "tiers-1-threshold"),  # the schema refuses it
        ({"tiers-2-threshold": "1000"}, "tiers-2-threshold"),  # the ladder rules refuse it (below silver)
        ({"tiers-1-code": "Silver!"}, "tiers-1-code"),
        ({"tiers-0-threshold": "5"}, "tiers-0-threshold"),
    ],
)
def test_an_invalid_ladder_is_refused_next_to_the_field(admin_console, client, auth, change, field):
    client.put("/v1/tiers", json={"tiers": LADDER[:1]}, headers=auth())
    form = {**ladder_form(LADDER), **change}
    response = admin_console.post("/console/settings/tiers", data=form)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    cell = re.search(rf'name="{field}".*?</td>', html, re.DOTALL).group(0)
    assert 'class="field-error"' in cell and 'aria-invalid="true"' in cell
    assert [t["code"] for t in client.get("/v1/tiers", headers=auth()).get_json()["tiers"]] == ["regular"]
    assert audit(client, auth, "console.settings_tiers") == []


def test_a_removed_row_maps_errors_to_the_right_row(admin_console, client, auth):
    form = ladder_form(LADDER)
    form.update({"tiers-0-remove": "on"})  # silver (row 1) becomes the lowest: its threshold must be 0
    response = admin_console.post("/console/settings/tiers", data=form)
    assert response.status_code == 422
    cell = re.search(r'name="tiers-1-threshold".*?</td>', response.get_data(as_text=True), re.DOTALL).group(0)
    assert "threshold must be 0" in cell
    assert client.get("/v1/tiers", headers=auth()).get_json()["tiers"] == []


def test_the_ladder_without_csrf_is_refused(admin_console, client, auth):
    assert admin_console.post("/console/settings/tiers", data=ladder_form(LADDER), csrf=False).status_code == 400
    assert client.get("/v1/tiers", headers=auth()).get_json()["tiers"] == []


# ---- Care rules and templates --------------------------------------------------------------------


def rule(client, auth, kind: str) -> dict:
    return next(r for r in client.get("/v1/care/rules", headers=auth()).get_json()["data"] if r["kind"] == kind)


def test_care_rules_show_with_their_previews_and_save_like_put_rules(admin_console, client, auth):
    html = admin_console.text("/console/settings/care")
    for kind in ("birthday", "holiday", "win_back", "complaint_callback"):
        assert f'id="care-{kind}"' in html
    # The default birthday template, rendered for the sample member with this program's name.
    assert "林美, happy birthday from Loyalty program! 300 points are waiting for you." in unescape(html)
    assert "林美, Loyalty program wishes you a happy Mid-Autumn Festival." in unescape(html)
    assert 'min="0" max="60"' in html  # attributes of the fields come through as attributes
    form = {
        "kind": "holiday",
        "enabled": "on",
        "channel": "sms",
        "days_before": "2",
        "gift_points": "20",
        "reward_id": "",
        "template": "{{ name|upper }}, happy {{ occasion_name }}!",
        "custom_dates": "08-08 Shop birthday\n2026-12-24 Christmas Eve",
    }
    response = admin_console.post("/console/settings/care", data=form)
    assert response.status_code == 303, visible(response.get_data(as_text=True))[:2000]
    assert response.headers["Location"].endswith("#care-holiday")
    saved = rule(client, auth, "holiday")
    assert saved["enabled"] is True and saved["channel"] == "sms" and saved["days_before"] == 2
    assert saved["gift_points"] == 20 and saved["template"] == form["template"]
    assert saved["custom_dates"] == [
        {"date": "08-08", "name": "Shop birthday"},
        {"date": "2026-12-24", "name": "Christmas Eve"},
    ]
    assert [e["actor"]["name"] for e in audit(client, auth, "console.settings_care")] == ["test admin"]
    page = unescape(admin_console.text("/console/settings/care"))
    assert "08-08 Shop birthday" in page and "林美, happy birthday" in page


def test_win_back_and_its_gift_reward(admin_console, client, auth):
    reward = client.post(
        "/v1/rewards", json={"name": "Free tea", "kind": "free_item", "points_cost": 100}, headers=auth()
    ).get_json()
    assert f'<option value="{reward["id"]}"' in admin_console.text("/console/settings/care")
    form = {
        "kind": "win_back",
        "channel": "email",
        "inactive_days": "90",
        "gift_points": "0",
        "reward_id": reward["id"],
        "template": "{{ name }}, we miss you.",
    }
    assert admin_console.post("/console/settings/care", data=form).status_code == 303
    saved = rule(client, auth, "win_back")
    assert saved["enabled"] is False and saved["inactive_days"] == 90 and saved["reward_id"] == reward["id"]


@pytest.mark.parametrize(
    "template, message",
    [
        ("Hello {{ nme }}", "Unknown field `nme`"),
        ("Hello {{ name ", "Syntax error on line 1"),
        ("{% for x in name %}{{ x }}{% endfor %}", "is not allowed"),
    ],
)
def test_a_broken_template_is_shown_in_place_and_nothing_is_written(admin_console, client, auth, template, message):
    before = rule(client, auth, "birthday")
    form = {
        "kind": "birthday",
        "enabled": "on",
        "channel": "sms",
        "days_before": "3",
        "gift_points": "0",
        "template": template,
    }
    response = admin_console.post("/console/settings/care", data=form)
    assert response.status_code == 422
    section = re.search(r'id="care-birthday".*?</section>', response.get_data(as_text=True), re.DOTALL).group(0)
    field = re.search(r'id="f-birthday-template".*?</textarea>\s*(.*?)</div>', section, re.DOTALL)
    assert 'aria-invalid="true"' in field.group(0) and message in unescape(field.group(1))
    assert rule(client, auth, "birthday") == before
    assert audit(client, auth, "console.settings_care") == []


def test_rules_the_service_refuses_come_back_in_place(admin_console, client, auth):
    response = admin_console.post(
        "/console/settings/care",
        data={"kind": "complaint_callback", "enabled": "on", "channel": "sms", "template": "Call {{ name }}."},
    )
    assert response.status_code == 422
    section = re.search(r'id="care-complaint_callback".*?</section>', response.get_data(as_text=True), re.DOTALL).group(
        0
    )
    assert "the channel is phone" in section
    response = admin_console.post(
        "/console/settings/care",
        data={
            "kind": "holiday",
            "channel": "email",
            "template": "Hi",
            "custom_dates": "13-45 Nonsense",
            "days_before": "1",
        },
    )
    assert response.status_code == 422 and "a real day" in response.get_data(as_text=True)
    assert response.status_code == 422
    assert admin_console.post("/console/settings/care", data={"kind": "nonsense"}).status_code == 422
    assert rule(client, auth, "complaint_callback")["channel"] == "phone"
    assert rule(client, auth, "holiday")["custom_dates"] == []


def test_the_live_preview_renders_or_names_the_error(admin_console, console):
    url = "/console/settings/care/preview"
    html = admin_console.text(
        url,
        query_string={"kind": "birthday", "template": "Hi {{ name }}, {{ points }} points"},
        headers={"HX-Request": "true"},
    )
    assert "Hi 林美, 1280 points" in unescape(html) and "<html" not in html
    broken = admin_console.text(
        url, query_string={"kind": "birthday", "template": "Hi {{ nobody }}"}, headers={"HX-Request": "true"}
    )
    assert "Unknown field `nobody`" in unescape(broken) and 'class="field-error"' in broken
    chinese = admin_console.text(url, query_string={"kind": "birthday", "template": "{{ name }}"}, headers=ZH)
    assert "示例会员" in chinese and english_leftovers(chinese) == []
    assert console.get(url, query_string={"template": "x"}).status_code == 403


def test_care_without_csrf_is_refused(admin_console, client, auth):
    response = admin_console.post(
        "/console/settings/care", data={"kind": "birthday", "enabled": "on", "template": "Hi {{ name }}"}, csrf=False
    )
    assert response.status_code == 400 and rule(client, auth, "birthday")["enabled"] is False


# ---- Rewards -------------------------------------------------------------------------------------

REWARD = {
    "name": "Free tea",
    "description": "A pot of jasmine",
    "kind": "amount_off",
    "value": "10",
    "points_cost": "500",
    "stock": "",
    "min_tier": "",
    "valid_from": "",
    "valid_until": "2026-12-31T20:00",
    "coupon_valid_days": "30",
    "active": "on",
}


def rewards(client, auth) -> list[dict]:
    return client.get("/v1/rewards", headers=auth()).get_json()["data"]


def test_a_reward_is_added_listed_and_changed(admin_console, client, auth):
    assert "No rewards yet." in admin_console.text("/console/settings/rewards")
    response = admin_console.post("/console/settings/rewards", data=REWARD)
    assert response.status_code == 303, visible(response.get_data(as_text=True))[:2000]
    [reward] = rewards(client, auth)
    assert reward["name"] == "Free tea" and reward["value"] == "10.00" and reward["points_cost"] == 500
    assert reward["stock"] is None and reward["coupon_valid_days"] == 30 and reward["active"] is True
    assert reward["valid_until"] == "2026-12-31T12:00:00+00:00"  # 20:00 in Shanghai, the program's zone
    page = admin_console.text("/console/settings/rewards")
    assert "Free tea" in page and f"/console/settings/rewards/{reward['id']}" in page
    edit = admin_console.text(f"/console/settings/rewards/{reward['id']}")
    assert 'value="2026-12-31T20:00"' in edit and 'value="Free tea"' in edit
    client.put("/v1/tiers", json={"tiers": LADDER}, headers=auth())
    changed = {**REWARD, "name": "Free green tea", "stock": "7", "min_tier": "silver", "active": ""}
    del changed["active"]
    assert admin_console.post(f"/console/settings/rewards/{reward['id']}", data=changed).status_code == 303
    [reward] = rewards(client, auth)
    assert (reward["name"], reward["stock"], reward["min_tier"], reward["active"]) == (
        "Free green tea",
        7,
        "silver",
        False,
    )
    actions = [
        e["action"]
        for e in client.get("/v1/audit-log", headers=auth()).get_json()["data"]
        if e["actor"]["name"] == "test admin"
    ]
    assert "console.settings_rewards" in actions and "console.settings_reward" in actions


@pytest.mark.parametrize(
    "change, field",
    [
        ({"points_cost": "0"}, "points_cost"),
        ({"value": ""}, "value"),
        ({"kind": "percent_off", "value": "150"}, "value"),
        ({"min_tier": "platinum"}, "min_tier"),
        ({"name": ""}, "name"),
        ({"valid_from": "2027-01-01T00:00"}, "valid_until"),
    ],
)
def test_an_invalid_reward_is_refused_in_place(admin_console, client, auth, change, field):
    response = admin_console.post("/console/settings/rewards", data={**REWARD, **change})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(rf'id="f-{field}"[^>]*aria-invalid="true"', html), html[:200]
    assert rewards(client, auth) == [] and audit(client, auth, "console.settings_rewards") == []


def test_an_invalid_change_writes_nothing_and_an_unknown_reward_is_404(admin_console, client, auth):
    reward = client.post(
        "/v1/rewards", json={"name": "Tea", "kind": "gift", "points_cost": 100}, headers=auth()
    ).get_json()
    response = admin_console.post(
        f"/console/settings/rewards/{reward['id']}", data={**REWARD, "kind": "gift", "value": "", "points_cost": "-5"}
    )
    assert response.status_code == 422 and 'value="-5"' in response.get_data(as_text=True)
    assert rewards(client, auth)[0]["points_cost"] == 100
    assert admin_console.get("/console/settings/rewards/rwd_nothing").status_code == 404


def test_rewards_without_csrf_are_refused(admin_console, client, auth):
    assert admin_console.post("/console/settings/rewards", data=REWARD, csrf=False).status_code == 400
    reward = client.post(
        "/v1/rewards", json={"name": "Tea", "kind": "gift", "points_cost": 100}, headers=auth()
    ).get_json()
    assert (
        admin_console.post(
            f"/console/settings/rewards/{reward['id']}", data={**REWARD, "name": "X"}, csrf=False
        ).status_code
        == 400
    )
    assert [r["name"] for r in rewards(client, auth)] == ["Tea"]


# ---- Webhooks ------------------------------------------------------------------------------------


@pytest.fixture
def receiver(httpserver):
    holder: dict = {}
    hook = Receiver(httpserver, holder)
    hook.holder = holder
    return hook


def add_webhook(admin_console, httpserver) -> tuple[str, str]:
    response = admin_console.post(
        "/console/settings/webhooks",
        data={"url": httpserver.url_for("/hook"), "events": ["tier.changed", "member.created"]},
    )
    assert response.status_code == 200, visible(response.get_data(as_text=True))[:2000]
    html = response.get_data(as_text=True)
    secret = re.search(r'<code class="mono secret">(whsec_[^<]+)</code>', html).group(1)
    subscription_id = re.search(r"/console/settings/webhooks/(whk_[A-Za-z0-9_]+)", html).group(1)
    return subscription_id, secret


def test_a_webhook_is_added_with_its_secret_shown_once(admin_console, client, auth, httpserver):
    subscription_id, secret = add_webhook(admin_console, httpserver)
    [hook] = client.get("/v1/webhooks", headers=auth()).get_json()["data"]
    assert hook["id"] == subscription_id and hook["events"] == ["member.created", "tier.changed"] and hook["active"]
    page = admin_console.text("/console/settings/webhooks")
    assert httpserver.url_for("/hook") in page and secret not in page  # never shown again
    assert secret not in admin_console.text(f"/console/settings/webhooks/{subscription_id}")
    [entry] = audit(client, auth, "console.settings_webhooks")
    assert entry["actor"]["name"] == "test admin"


@pytest.mark.parametrize(
    "data, field",
    [
        ({"url": "ftp://example.com/x", "events": ["tier.changed"]}, "url"),
        ({"url": "https://example.com/x"}, "events"),
        ({"url": "https://example.com/x", "events": ["nope"]}, "events"),
    ],
)
def test_an_invalid_webhook_is_refused_in_place(admin_console, client, auth, data, field):
    response = admin_console.post("/console/settings/webhooks", data=data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'class="field-error"' in html and "whsec_" not in html
    if field == "url":
        assert re.search(r'id="f-url"[^>]*aria-invalid="true"', html)
    assert client.get("/v1/webhooks", headers=auth()).get_json()["data"] == []
    assert (
        admin_console.post(
            "/console/settings/webhooks", data={"url": "https://example.com/x", "events": ["tier.changed"]}, csrf=False
        ).status_code
        == 400
    )
    assert client.get("/v1/webhooks", headers=auth()).get_json()["data"] == []


def test_pause_and_resume(admin_console, client, auth, httpserver):
    subscription_id, _secret = add_webhook(admin_console, httpserver)
    url = f"/console/settings/webhooks/{subscription_id}/active"
    assert admin_console.post(url, data={"active": "false"}, csrf=False).status_code == 400
    assert client.get("/v1/webhooks", headers=auth()).get_json()["data"][0]["active"] is True
    assert admin_console.post(url, data={"active": "false"}).status_code == 303
    assert client.get("/v1/webhooks", headers=auth()).get_json()["data"][0]["active"] is False
    assert "Resume" in admin_console.text("/console/settings/webhooks")
    assert admin_console.post(url, data={"active": "true"}).status_code == 303
    assert client.get("/v1/webhooks", headers=auth()).get_json()["data"][0]["active"] is True
    assert [e["actor"]["name"] for e in audit(client, auth, "console.settings_webhook_active")] == ["test admin"] * 2
    assert admin_console.post("/console/settings/webhooks/whk_none/active", data={"active": "true"}).status_code == 404


def test_the_delivery_log_and_a_replay_that_sends_again(
    admin_console, console, client, auth, receiver, httpserver, db, config
):
    subscription_id, secret = add_webhook(admin_console, httpserver)
    receiver.holder["secret"] = secret
    receiver.answers = [500]
    client.put("/v1/tiers", json={"tiers": LADDER}, headers=auth())
    member = create_member(client, auth)
    post_order(client, auth, member["id"], "big", "9000")
    deliver(db, config)
    api_log = client.get(f"/v1/webhooks/{subscription_id}/deliveries", headers=auth()).get_json()["data"]
    failed = next(d for d in api_log if d["attempts"] and d["attempts"][0]["status_code"] == 500)
    page = admin_console.text(f"/console/settings/webhooks/{subscription_id}")
    assert failed["id"] in page and "HTTP 500" in page
    assert "Replay" in page and f"/console/settings/webhooks/deliveries/{failed['id']}/replay" in page
    assert admin_console.text(f"/console/settings/webhooks/{subscription_id}?status=delivered").count("HTTP 500") == 0
    ids = set(re.findall(r"[A-Za-z]+", " ".join(d["id"] for d in api_log)))  # webhook ids are data
    assert (
        english_leftovers(
            admin_console.text(f"/console/settings/webhooks/{subscription_id}", headers=ZH), allowed=OWN | ids
        )
        == []
    )
    # Nothing is due again until the back-off is over; the replay makes it due now.
    sent = len(receiver.requests)
    deliver(db, config)
    assert len(receiver.requests) == sent
    replay = f"/console/settings/webhooks/deliveries/{failed['id']}/replay"
    assert admin_console.post(replay, csrf=False).status_code == 400
    assert console.post(replay).status_code == 403
    response = admin_console.post(replay)
    assert response.status_code == 303 and response.headers["Location"].endswith(subscription_id)
    deliver(db, config)
    assert [r["status"] for r in receiver.requests[sent:] if r["id"] == failed["id"]] == [204]
    after = next(
        d
        for d in client.get(f"/v1/webhooks/{subscription_id}/deliveries", headers=auth()).get_json()["data"]
        if d["id"] == failed["id"]
    )
    assert after["status"] == "delivered" and [a["status_code"] for a in after["attempts"]] == [500, 204]
    assert [e["actor"]["name"] for e in audit(client, auth, "console.settings_webhook_replay")] == ["test admin"]
    # A paused subscription's deliveries are not replayed (409, as the API answers).
    admin_console.post(f"/console/settings/webhooks/{subscription_id}/active", data={"active": "false"})
    assert admin_console.post(replay).status_code == 409


def test_the_delivery_log_of_an_unknown_webhook_is_404(admin_console, console):
    assert admin_console.get("/console/settings/webhooks/whk_none").status_code == 404
    assert console.get("/console/settings/webhooks/whk_none").status_code == 403


def test_a_form_with_some_fields_changes_only_those(admin_console, client, auth):
    before = client.get("/v1/program", headers=auth()).get_json()
    assert admin_console.post("/console/settings/program", data={"name": "Only the name"}).status_code == 303
    after = client.get("/v1/program", headers=auth()).get_json()
    assert after["name"] == "Only the name"
    assert {k: v for k, v in after.items() if k not in ("name", "updated_at")} == {
        k: v for k, v in before.items() if k not in ("name", "updated_at")
    }


def test_rewards_and_the_delivery_log_are_paged(admin_console, client, auth):
    for name in ("First tea", "Second tea"):
        client.post("/v1/rewards", json={"name": name, "kind": "gift", "points_cost": 10}, headers=auth())
    first = admin_console.text("/console/settings/rewards?limit=1")
    link = unescape(re.search(r'href="([^"]+)" rel="next"', first).group(1))
    second = admin_console.text(link)
    assert ("First tea" in first) != ("First tea" in second) and ("Second tea" in first) != ("Second tea" in second)
    assert 'rel="next"' not in second


def test_staff_are_refused_every_settings_action(console, client, auth, httpserver):
    reward = client.post(
        "/v1/rewards", json={"name": "Tea", "kind": "gift", "points_cost": 100}, headers=auth()
    ).get_json()
    hook = client.post(
        "/v1/webhooks", json={"url": httpserver.url_for("/hook"), "events": ["tier.changed"]}, headers=auth()
    ).get_json()
    assert console.get(f"/console/settings/rewards/{reward['id']}").status_code == 403
    assert console.post(f"/console/settings/rewards/{reward['id']}", data={**REWARD, "name": "X"}).status_code == 403
    assert console.get(f"/console/settings/webhooks/{hook['id']}").status_code == 403
    assert console.post(f"/console/settings/webhooks/{hook['id']}/active", data={"active": "false"}).status_code == 403
    assert client.get(f"/v1/rewards/{reward['id']}", headers=auth()).get_json()["name"] == "Tea"
    assert client.get(f"/v1/webhooks/{hook['id']}", headers=auth()).get_json()["active"] is True
