"""The console's campaigns: segments built with a form and counted live, drafts with a live message
preview, who a campaign would reach, launch, pause, resume, and results beside the API's."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine

from loyalty.campaigns.rules import held_out
from loyalty.care.templates import SAMPLE
from loyalty.scheduler import run_job
from tests.api.test_segments import shop  # noqa: F401 — the fixture: a ladder, four members, orders, insights
from tests.clock import NOW, TODAY
from tests.console.conftest import ZH, english_leftovers
from tests.factories import create_member, order_payload

OPT_IN = {"sms": True, "marketing": True}
TEMPLATE = "Hi {{ name }}, {{ gift_points }} points for you"
# Template field names are code a staff member types, shown as they are on every page.
TEMPLATE_FIELDS = {part for field in SAMPLE for part in field.split("_")}


def form_of(filters: dict) -> list[tuple[str, str]]:
    """The console form's fields for the API's filters."""
    fields = []
    for name, value in filters.items():
        if name == "consent":
            fields += [(f"consent_{key}", "yes" if wanted else "no") for key, wanted in value.items()]
        elif name in ("tags", "cities"):
            fields.append((name, ", ".join(value)))
        elif isinstance(value, list):
            fields += [(name, str(v)) for v in value]
        else:
            fields.append((name, str(value)))
    return fields


def api_segment(client, auth, filters: dict, name: str = "api") -> dict:
    response = client.post("/v1/segments", json={"name": name, "filters": filters}, headers=auth("staff"))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def count_shown(html: str) -> int:
    found = re.search(r'id="segment-count">([\d,]+)<', html)
    assert found, html[:2000]
    return int(found.group(1).replace(",", ""))


def keyed(html: str, key: str) -> str:
    found = re.search(rf'data-key="{re.escape(key)}">([^<]*)<', html)
    assert found, (key, html[:3000])
    return found.group(1).strip()


def audit(client, auth, action: str) -> list[dict]:
    response = client.get("/v1/audit-log", query_string={"action": action}, headers=auth())
    assert response.status_code == 200, response.get_json()
    return response.get_json()["data"]


def segments_named(client, auth, name: str) -> list[dict]:
    body = client.get("/v1/segments?limit=100", headers=auth("staff")).get_json()
    return [s for s in body["data"] if s["name"] == name]


def campaigns_named(client, auth, name: str) -> list[dict]:
    body = client.get("/v1/campaigns?limit=100", headers=auth("staff")).get_json()
    return [c for c in body["data"] if c["name"] == name]


def draft(client, auth, segment_id: str, **extra) -> dict:
    response = client.post(
        "/v1/campaigns",
        json={"name": "draft", "segment_id": segment_id, "channel": "sms", "template": TEMPLATE, **extra},
        headers=auth("staff"),
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


# --- segments -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"tiers": ["gold"]},
        {"tags": ["student", "vip"]},
        {"stages": ["prospect"], "statuses": ["active"]},
        {"cities": ["Shanghai"]},
        {"birthday_months": [3, 7]},
        {"age_min": 40},
        {"age_max": 25},
        {"consent": {"sms": True, "marketing": True}},
        {"consent": {"sms": False}},
        {"balance_min": 100, "balance_max": 100000},
        {"last_order_after": (TODAY - timedelta(days=15)).isoformat()},
        {"last_order_before": (TODAY - timedelta(days=90)).isoformat(), "spend_12m_min": "5000"},
        {"m_min": 3, "r_max": 2, "f_min": 1, "f_max": 5, "r_min": 1, "m_max": 5},
        {
            "enrolled_after": (TODAY - timedelta(days=1)).isoformat(),
            "enrolled_before": (TODAY + timedelta(days=1)).isoformat(),
        },
    ],
)
def test_the_live_count_is_the_apis_count(console, client, auth, shop, filters):  # noqa: F811
    response = console.get("/console/segments/count", query_string=form_of(filters), headers={"HX-Request": "true"})
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    html = response.get_data(as_text=True)
    expected = api_segment(client, auth, filters)
    assert count_shown(html) == expected["members"]
    members = client.get(f"/v1/segments/{expected['id']}/members?limit=10", headers=auth("staff")).get_json()["data"]
    for member in members:  # the sample: the segment's first members
        assert member["member_number"] in html
    assert "<html" not in html  # a fragment


@pytest.mark.parametrize(
    "query, field, message",
    [
        ([("r_min", "9")], "r_min", "Must be greater than or equal to 1 and less than or equal to 5."),
        ([("age_min", "50"), ("age_max", "20")], "age_min", "`age_min` is above `age_max`: nobody could match."),
        ([("balance_min", "lots")], "balance_min", "Not a valid integer."),
        ([("last_order_before", "yesterday")], "last_order_before", "Not a valid date."),
        ([("stages", "sleepy")], "stages", "Must be one of"),
        ([("birthday_months", "13")], "birthday_months", "Must be greater than or equal to 1"),
        ([("spend_12m_min", "-5")], "spend_12m_min", ""),
    ],
)
def test_invalid_filters_answer_422_with_the_message_in_place(console, query, field, message):
    response = console.get("/console/segments/count", query_string=query, headers={"HX-Request": "true"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    box = re.search(rf'<div id="error-{field}" class="field-errors" hx-swap-oob="true">(.*?)</div>', html, re.DOTALL)
    assert box and 'class="field-error"' in box.group(1), html
    assert message.replace("`", "&#96;") in html or message in html
    assert 'id="segment-count"' not in html
    # every other field's error box is swapped too, empty, so a fixed field's message goes away
    assert '<div id="error-tags" class="field-errors" hx-swap-oob="true"></div>' in html


def test_the_new_segment_form_has_every_filter_and_counts_everyone(console, client, auth, shop):  # noqa: F811
    from loyalty.campaigns.segment_schemas import SegmentFiltersSchema

    html = console.text("/console/segments/new")
    for name in SegmentFiltersSchema().fields:
        if name == "consent":
            assert 'name="consent_sms"' in html and 'name="consent_marketing"' in html
        else:
            assert f'name="{name}"' in html, name
    assert 'hx-trigger="input changed delay:400ms' in html and 'hx-get="/console/segments/count"' in html
    assert count_shown(html) == api_segment(client, auth, {})["members"] == 4
    assert 'value="gold"' in html  # the ladder's tiers to tick


def test_a_segment_is_saved_through_the_service_and_audited(console, client, auth, shop):  # noqa: F811
    filters = {"tiers": ["gold"], "cities": ["Shanghai", "Suzhou"], "consent": {"sms": True}, "age_min": 18}
    response = console.post(
        "/console/segments", data=[("name", "Gold locals")] + form_of(filters) + [("csrf_token", console.token)]
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    [saved] = segments_named(client, auth, "Gold locals")
    assert response.headers["Location"] == f"/console/segments/{saved['id']}"
    body = client.get(f"/v1/segments/{saved['id']}", headers=auth("staff")).get_json()
    assert body["filters"] == filters and body["created_by"].startswith("key:")
    page = console.text(f"/console/segments/{saved['id']}")
    assert "Gold locals" in page and count_shown(page) == body["members"] == 1
    assert shop["whale_gone"]["member_number"] in page and shop["small"]["member_number"] not in page
    assert "Gold locals" in console.text("/console/segments")
    [entry] = audit(client, auth, "console.segment_create")
    assert entry["actor"]["name"] == "test staff" and "name" in entry["fields"]


def test_a_segment_is_not_saved_without_the_csrf_token_or_with_bad_filters(console, client, auth):
    refused = console.post("/console/segments", data={"name": "No token"}, csrf=False)
    assert refused.status_code == 400 and segments_named(client, auth, "No token") == []
    bad = console.post("/console/segments", data={"name": "Bad", "r_min": "3", "r_max": "1", "tiers": "platinum"})
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert "above" in html and 'value="Bad"' in html  # the form comes back as typed
    unknown = console.post("/console/segments", data={"name": "Bad", "tiers": "platinum"})
    assert unknown.status_code == 422 and "No tier" in unknown.get_data(as_text=True)
    nameless = console.post("/console/segments", data={"name": "  "})
    assert nameless.status_code == 422
    assert segments_named(client, auth, "Bad") == [] and audit(client, auth, "console.segment_create") == []


def test_an_unknown_segment_is_a_404_page(console):
    assert console.get("/console/segments/seg_none").status_code == 404


# --- new campaign ---------------------------------------------------------------------------------------------------


def test_the_message_preview_renders_for_the_segments_first_member(console, client, auth):
    create_member(client, auth, name="Preview Person", city="Hangzhou", consent=OPT_IN)
    create_member(client, auth, name="Someone Else", city="Hangzhou")
    segment = api_segment(client, auth, {"cities": ["Hangzhou"]})
    query = {
        "segment_id": segment["id"],
        "template": "{{ name }} in {{ city }}: {{ gift_points }} points",
        "gift_points": "25",
    }
    response = console.get("/console/campaigns/message", query_string=query, headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    first = client.get(f"/v1/segments/{segment['id']}/members", headers=auth("staff")).get_json()["data"][0]
    expected = first["name"]  # the segment's first member, in id order, as the fan-out goes
    assert first["name"] in ("Preview Person", "Someone Else") and first["member_number"] in html
    assert f"{expected} in Hangzhou: 25 points" in html
    empty = api_segment(client, auth, {"cities": ["Nowhere"]})
    nobody = console.get("/console/campaigns/message", query_string={**query, "segment_id": empty["id"]})
    assert nobody.status_code == 200 and "林美 in 上海: 25 points" in nobody.get_data(as_text=True)


@pytest.mark.parametrize(
    "template, message",
    [
        ("{{ 1/0 }}", "is not allowed"),
        ("Hi {{ nickname }}", "Unknown field `nickname`"),
        ("Hi {{ name", "Syntax error on line 1"),
        ("   ", "A message needs some text."),
    ],
)
def test_template_errors_are_shown_in_place(console, template, message):
    response = console.get(
        "/console/campaigns/message", query_string={"template": template}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="template-problem"' in html and (message in html or message.replace("`", "&#96;") in html), html


def test_the_new_campaign_form_offers_the_segments_and_the_api_fields(console, client, auth):
    from loyalty.campaigns.schemas import CampaignInSchema

    segment = api_segment(client, auth, {}, name="Everyone")
    html = console.text(f"/console/campaigns/new?segment_id={segment['id']}")
    for name in CampaignInSchema().fields:
        assert f'name="{name}"' in html, name
    assert f'<option value="{segment["id"]}" selected>Everyone</option>' in html
    assert 'hx-get="/console/campaigns/message"' in html and 'id="message-text"' in html


def test_a_campaign_is_created_through_the_service_and_audited(console, client, auth):
    segment = api_segment(client, auth, {})
    response = console.post(
        "/console/campaigns",
        data={
            "name": "Autumn tea",
            "segment_id": segment["id"],
            "channel": "email",
            "template": "Hi {{ name }}\r\nbye",
            "gift_points": "50",
            "send_rate": "200",
            "conversion_days": "7",
            "holdout_percent": "10",
            "starts_at": "2026-11-20T09:30",
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    [made] = campaigns_named(client, auth, "Autumn tea")
    assert response.headers["Location"] == f"/console/campaigns/{made['id']}"
    body = client.get(f"/v1/campaigns/{made['id']}", headers=auth("staff")).get_json()
    assert (
        body["status"],
        body["channel"],
        body["template"],
        body["gift_points"],
        body["send_rate"],
        body["conversion_days"],
        body["holdout_percent"],
        body["reward_id"],
    ) == ("draft", "email", "Hi {{ name }}\nbye", 50, 200, 7, 10, None)
    assert body["starts_at"] == "2026-11-20T01:30:00+00:00"  # 09:30 in the program's zone (Shanghai)
    [entry] = audit(client, auth, "console.campaign_create")
    assert entry["actor"]["name"] == "test staff"
    assert "Autumn tea" in console.text("/console/campaigns")


@pytest.mark.parametrize(
    "change, field, message",
    [
        ({"send_rate": "0"}, "send_rate", "Must be greater than or equal to 1"),
        ({"template": "{{ 1/0 }}"}, "template", "is not allowed"),
        ({"segment_id": "seg_none"}, "segment_id", "No segment"),
        ({"channel": "pigeon"}, "channel", "Must be one of"),
        ({"holdout_percent": "60"}, "holdout_percent", "less than or equal to 50"),
        ({"reward_id": "rwd_none"}, "reward_id", "No reward"),
        ({"name": ""}, "name", "Length must be between 1 and 200."),
        ({"starts_at": "soon"}, "starts_at", "Not a valid datetime"),
    ],
)
def test_a_bad_campaign_is_refused_with_its_message_and_nothing_is_written(
    console, client, auth, change, field, message
):
    segment = api_segment(client, auth, {})
    data = {"name": "Refused", "segment_id": segment["id"], "channel": "sms", "template": "Hi", **change}
    response = console.post("/console/campaigns", data=data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    box = re.search(rf'<div id="error-{field}" class="field-errors">(.*?)</div>', html, re.DOTALL)
    assert box and message in box.group(1), (field, html[:4000])
    assert client.get("/v1/campaigns", headers=auth("staff")).get_json()["data"] == []
    assert audit(client, auth, "console.campaign_create") == []


def test_a_campaign_is_not_created_without_the_csrf_token(console, client, auth):
    segment = api_segment(client, auth, {})
    response = console.post(
        "/console/campaigns",
        data={"name": "x", "segment_id": segment["id"], "channel": "sms", "template": "Hi"},
        csrf=False,
    )
    assert response.status_code == 400
    assert client.get("/v1/campaigns", headers=auth("staff")).get_json()["data"] == []


# --- a campaign's page: who it would reach, launch, pause, resume --------------------------------------------------


def test_the_campaign_page_previews_who_it_would_reach_as_the_api_does(console, client, auth):
    for consent in (OPT_IN, OPT_IN, {"sms": True}, {"sms": False}):
        create_member(client, auth, consent=consent)
    campaign = draft(client, auth, api_segment(client, auth, {})["id"], holdout_percent=20)
    expected = client.post(f"/v1/campaigns/{campaign['id']}/preview", headers=auth("staff")).get_json()
    html = console.text(f"/console/campaigns/{campaign['id']}")
    assert expected["suppressed"] == {"no_marketing_consent": 1, "no_consent": 1}
    assert int(keyed(html, "count")) == expected["count"] == 4
    for reason, count in expected["suppressed"].items():
        assert int(keyed(html, f"suppressed:{reason}")) == count
    assert int(keyed(html, "held_out")) == expected["held_out"]
    assert int(keyed(html, "would_send")) == expected["would_send"]
    assert "no marketing consent" in html  # reasons in words
    assert f'action="/console/campaigns/{campaign["id"]}/launch"' in html and "/pause" not in html


def test_launch_pause_resume_go_through_the_service_and_are_audited(console, client, auth):
    create_member(client, auth, consent=OPT_IN)
    campaign = draft(client, auth, api_segment(client, auth, {})["id"])
    url, api = f"/console/campaigns/{campaign['id']}", f"/v1/campaigns/{campaign['id']}"

    def status():
        return client.get(api, headers=auth("staff")).get_json()["status"]

    assert console.post(f"{url}/launch", csrf=False).status_code == 400 and status() == "draft"
    for action, after in (("launch", "running"), ("pause", "paused"), ("resume", "running")):
        response = console.post(f"{url}/{action}")
        assert response.status_code == 303 and response.headers["Location"] == url
        assert status() == after
        page = console.text(url)
        assert f'id="campaign-status">{after}<' in page
        [entry] = audit(client, auth, f"console.campaign_{action}")
        assert entry["actor"]["name"] == "test staff"
    assert client.get(api, headers=auth("staff")).get_json()["launched_at"] is not None
    refused = console.post(f"{url}/launch")  # already running: the service's 409
    assert refused.status_code == 409 and status() == "running"
    assert len(audit(client, auth, "console.campaign_launch")) == 1
    assert console.post(f"{url}/pause", csrf=False).status_code == 400 and status() == "running"
    assert console.post("/console/campaigns/cmp_none/pause").status_code == 404


# --- results --------------------------------------------------------------------------------------------------------


def job(db, config, name, at):
    with time_machine.travel(at, tick=False):
        return run_job(name, db=db, config=config, as_of=at.date())


def order(client, auth, member_id, order_id, amount, at):
    payload = order_payload(member_id, order_id, amount, placed_at=at.isoformat())
    assert client.post("/v1/orders", json=payload, headers=auth("storefront")).status_code == 201


@pytest.fixture
def finished(console, client, auth, db, config):
    """A campaign with a 50 % hold-out, launched from the console, run, and ordered after."""
    members = [create_member(client, auth, consent=OPT_IN) for _ in range(12)]
    create_member(client, auth, consent={"sms": False})
    create_member(client, auth, consent={"sms": True})
    segment = api_segment(client, auth, {})
    created = console.post(
        "/console/campaigns",
        data={
            "name": "Test and learn",
            "segment_id": segment["id"],
            "channel": "sms",
            "template": TEMPLATE,
            "gift_points": "10",
            "holdout_percent": "50",
        },
    )
    assert created.status_code == 303
    campaign_id = created.headers["Location"].rsplit("/", 1)[1]
    assert console.post(f"/console/campaigns/{campaign_id}/launch").status_code == 303
    at = NOW + timedelta(hours=1)
    job(db, config, "campaigns.run", at)
    job(db, config, "care.dispatch", at)
    job(db, config, "campaigns.run", at + timedelta(minutes=1))
    out = sorted(m["id"] for m in members if held_out(campaign_id, m["id"], 50))
    contacted = sorted(m["id"] for m in members if m["id"] not in out)
    assert out and contacted
    later = at + timedelta(days=2)
    with time_machine.travel(later, tick=False):
        for i, member_id in enumerate(contacted[:2] + out[:1]):
            order(client, auth, member_id, f"after-{i}", "50", later)
    return campaign_id, later


def test_results_match_the_api_with_the_hold_out_comparison_and_a_chart(console, client, auth, finished):
    campaign_id, later = finished
    with time_machine.travel(later, tick=False):
        console.sign_in(auth.key("staff"))  # two days on: a new session
        body = client.get(f"/v1/campaigns/{campaign_id}", headers=auth("staff")).get_json()
        html = console.text(f"/console/campaigns/{campaign_id}", headers={"Accept-Language": "en"})
    results = body["results"]
    assert body["status"] == "finished" and results["converted"] == 2 and results["converted_held_out"] == 1
    assert results["suppressed_by_reason"] == {"no_consent": 1, "no_marketing_consent": 1}
    for key in (
        "targeted",
        "sent",
        "waiting",
        "failed",
        "suppressed",
        "responded",
        "converted",
        "points_spent",
        "held_out",
        "converted_held_out",
    ):
        assert int(keyed(html, key).replace(",", "")) == results[key], key
    for reason, count in results["suppressed_by_reason"].items():
        assert int(keyed(html, f"suppressed:{reason}")) == count
    rate = float(results["conversion_rate"]) * 100
    assert keyed(html, "conversion_rate") == f"{rate:.1f}%"
    assert keyed(html, "conversion_rate_held_out") == f"{float(results['conversion_rate_held_out']) * 100:.1f}%"
    assert keyed(html, "lift") == f"{float(results['lift']) * 100:+.1f} percentage points"
    assert keyed(html, "relative_lift") == f"{float(results['relative_lift']) * 100:.1f}%"
    # the chart: one bar per figure, drawn with attributes and classes, never inline style
    chart = re.search(r'<svg class="chart"[^>]*id="results-chart".*?</svg>', html, re.DOTALL).group(0)
    bars = dict(
        re.findall(r'<g data-bar="([^"]+)">.*?<rect class="[^"]+" x="\d+" y="\d+" width="(\d+)"', chart, re.DOTALL)
    )
    assert set(bars) == {
        "targeted",
        "sent",
        "waiting",
        "failed",
        "suppressed:no_consent",
        "suppressed:no_marketing_consent",
        "responded",
        "converted",
        "held_out",
        "converted_held_out",
    }
    assert int(bars["targeted"]) == 380 and int(bars["converted"]) < int(bars["sent"]) < 380
    assert 'id="holdout-chart"' in html and "style=" not in html and "<script" not in html.split("</head>")[1]
    assert "/launch" not in html and "/pause" not in html and "/resume" not in html  # finished: no actions


def test_without_a_hold_out_there_is_no_comparison(console, client, auth):
    create_member(client, auth, consent=OPT_IN)
    campaign = draft(client, auth, api_segment(client, auth, {})["id"])
    html = console.text(f"/console/campaigns/{campaign['id']}")
    assert 'id="campaign-results"' in html and 'id="campaign-holdout"' not in html
    assert 'data-key="held_out"' not in html.split('id="campaign-results"')[1]


# --- who may, and in Chinese ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/console/campaigns", "/console/campaigns/new", "/console/segments", "/console/segments/new"]
)
def test_signed_out_is_sent_to_sign_in_and_admin_keys_may_too(anonymous, admin_console, path):
    assert anonymous.get(path).status_code == 303
    admin_console.text(path)  # the API's role for these routes is staff, which admin keys have too


def test_chinese_pages_have_no_english_left(console, client, auth, finished):
    campaign_id, later = finished
    segment_id = client.get(f"/v1/campaigns/{campaign_id}", headers=auth("staff")).get_json()["segment_id"]
    names = {
        w
        for m in client.get("/v1/members?limit=100", headers=auth("staff")).get_json().get("data", [])
        for w in (m.get("name") or "").split()
    }
    own = {
        "Test",
        "and",
        "learn",
        "api",
        "Tea",
        "week",
        "Shanghai",
        "Member",
        "Hi",
        "points",
        "for",
        "you",
        "test",
        "staff",
    } | names  # the test's own data, and the key's name "test staff"
    with time_machine.travel(later, tick=False):
        console.sign_in(auth.key("staff"))
        draft_campaign = draft(client, auth, segment_id, name="Tea week", holdout_percent=10)
        pages = [
            "/console/campaigns",
            "/console/campaigns/new",
            f"/console/campaigns/{campaign_id}",
            f"/console/campaigns/{draft_campaign['id']}",
            "/console/segments",
            "/console/segments/new",
            f"/console/segments/{segment_id}",
            f"/console/campaigns/new?segment_id={segment_id}",
        ]
        for path in pages:
            html = console.text(path, headers=ZH)
            assert english_leftovers(html, allowed=own | TEMPLATE_FIELDS) == [], path
        fragment = console.get(
            "/console/segments/count", query_string=[("cities", "Shanghai")], headers={**ZH, "HX-Request": "true"}
        ).get_data(as_text=True)
        assert english_leftovers(fragment, allowed=own) == [] and "名会员" in fragment
