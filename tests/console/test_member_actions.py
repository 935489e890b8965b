"""Actions on a member in the console (issue 13): each form calls the API's own service with the API's
input schema; success redirects (303) and is audited under the signed-in key; a refusal shows the
form again (422 or the error's status) and writes nothing; a form without its CSRF token is a 400."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.api.test_tiers import LADDER
from tests.clock import today
from tests.console.conftest import ZH, english_leftovers
from tests.factories import balance, create_member, ledger

EN = {"Accept-Language": "en"}


def _audit(client, auth, action: str) -> list[dict]:
    response = client.get("/v1/audit-log", query_string={"action": f"console.{action}"}, headers=auth())
    assert response.status_code == 200, response.get_json()
    return response.get_json()["data"]


def _audited_once(client, auth, action: str, name: str = "test staff") -> dict:
    entries = _audit(client, auth, action)
    assert len(entries) == 1, entries
    assert entries[0]["actor"]["name"] == name
    return entries[0]


def _api(client, auth, path: str) -> dict:
    response = client.get(path, headers=auth("staff"))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _interactions(client, auth, member_id: str) -> list[dict]:
    return _api(client, auth, f"/v1/members/{member_id}/interactions")["data"]


def _complaint(client, auth, member_id: str, text: str = "The parcel came crushed") -> tuple[str, str]:
    """A complaint logged through the API: (its id, its callback's touch id)."""
    response = client.post(
        f"/v1/members/{member_id}/interactions",
        headers=auth("staff"),
        json={"kind": "complaint", "channel": "phone", "content": text},
    )
    assert response.status_code == 201, response.get_json()
    touches = _api(client, auth, f"/v1/care/touches?member_id={member_id}&status=callback")["data"]
    assert len(touches) == 1
    return response.get_json()["id"], touches[0]["id"]


def _ladder(client, auth):
    assert client.put("/v1/tiers", json={"tiers": LADDER}, headers=auth()).status_code == 200


def _redirects_to_member(response, member_id: str):
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    assert response.headers["Location"] == f"/console/members/{member_id}"


# --- the panel -------------------------------------------------------------------------------------


def test_the_panel_offers_every_action_with_the_members_open_work(console, client, auth):
    _ladder(client, auth)
    member = create_member(client, auth)
    complaint_id, touch_id = _complaint(client, auth, member["id"])
    html = console.text(f"/console/members/{member['id']}/actions", headers=EN)
    base = f"/console/members/{member['id']}"
    for action in (
        "/interactions",
        f"/callbacks/{touch_id}/outcome",
        f"/complaints/{complaint_id}/resolve",
        "/adjustments",
        "/tier-floor",
        "/status",
        "/merge",
        "/erase",
    ):
        assert f'action="{base}{action}"' in html or f'href="{base}{action}"' in html, action
    assert html.count('name="csrf_token"') >= 7  # every POST form carries it (and the header's two)
    assert 'value="gold"' in html and "The parcel came crushed" in html


def test_the_panel_for_an_erased_member_offers_nothing(console, client, auth):
    member = create_member(client, auth)
    assert client.delete(f"/v1/members/{member['id']}", headers=auth("staff")).status_code == 204
    html = console.text(f"/console/members/{member['id']}/actions", headers=EN)
    assert "was erased" in html and "/adjustments" not in html


def test_the_panel_in_chinese_has_no_english_left(console, client, auth):
    _ladder(client, auth)
    member = create_member(client, auth, name="Ann Lee")
    _complaint(client, auth, member["id"], text="破损")
    assert (
        client.post(
            f"/v1/members/{member['id']}/tier",
            headers=auth("staff"),
            json={"tier": "gold", "until": (today() + timedelta(days=9)).isoformat(), "reason": "补偿"},
        ).status_code
        == 200
    )
    html = console.text(f"/console/members/{member['id']}/actions", headers=ZH)
    assert "记录一次互动" in html and "调整积分" in html and "保级" in html
    assert english_leftovers(html, allowed={"Ann", "Lee", "test", "staff", "Regular", "Silver", "Gold"}) == []


# --- log an interaction -----------------------------------------------------------------------------


def test_logging_a_complaint_writes_it_and_opens_its_callback(console, client, auth):
    member = create_member(client, auth)
    response = console.post(
        f"/console/members/{member['id']}/interactions",
        data={"kind": "complaint", "channel": "in_store", "content": "Wrong size", "score": "2", "assignee": "Mei"},
    )
    _redirects_to_member(response, member["id"])
    [logged] = _interactions(client, auth, member["id"])
    assert (logged["kind"], logged["channel"], logged["content"], logged["score"]) == (
        "complaint",
        "in_store",
        "Wrong size",
        2,
    )
    [touch] = _api(client, auth, f"/v1/care/touches?member_id={member['id']}&status=callback")["data"]
    assert touch["assignee"] == "Mei"
    entry = _audited_once(client, auth, "member_log_interaction")
    assert entry["target"] == member["id"] and entry["fields"] == ["assignee", "channel", "content", "kind", "score"]


@pytest.mark.parametrize(
    "data",
    [
        {"kind": "shout", "content": "x"},
        {"kind": "call", "content": "   "},
        {"kind": "call", "content": "ok", "score": "9"},
        {"kind": "call", "content": "ok", "score": "two"},
    ],
)
def test_an_invalid_interaction_is_422_and_writes_nothing(console, client, auth, data):
    member = create_member(client, auth)
    response = console.post(f"/console/members/{member['id']}/interactions", data=data, headers=EN)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'class="field-error"' in html and "Nothing was changed" in html
    assert _interactions(client, auth, member["id"]) == []
    assert _audit(client, auth, "member_log_interaction") == []


# --- a callback's outcome ---------------------------------------------------------------------------


def test_recording_reached_closes_the_callback(console, client, auth):
    member = create_member(client, auth)
    _complaint_id, touch_id = _complaint(client, auth, member["id"])
    response = console.post(
        f"/console/members/{member['id']}/callbacks/{touch_id}/outcome",
        data={"outcome": "reached", "notes": "Sent a new one", "score": "4"},
    )
    _redirects_to_member(response, member["id"])
    touches = _api(client, auth, f"/v1/care/touches?member_id={member['id']}")["data"]
    assert [(t["status"], t["outcome"], t["notes"]) for t in touches] == [("done", "reached", "Sent a new one")]
    _audited_once(client, auth, "member_callback_outcome")


def test_call_back_later_takes_the_members_local_time(console, client, auth):
    member = create_member(client, auth)  # no time zone of their own: the program's, Asia/Shanghai
    _complaint_id, touch_id = _complaint(client, auth, member["id"])
    later = f"{today().isoformat()}T15:30"
    response = console.post(
        f"/console/members/{member['id']}/callbacks/{touch_id}/outcome",
        data={"outcome": "call_back_later", "callback_at": later},
    )
    _redirects_to_member(response, member["id"])
    [touch] = _api(client, auth, f"/v1/care/touches?member_id={member['id']}")["data"]
    assert touch["status"] == "callback" and touch["due_at"].startswith(f"{today().isoformat()}T07:30")


def test_call_back_later_without_a_time_is_422_and_the_callback_stays(console, client, auth):
    member = create_member(client, auth)
    _complaint_id, touch_id = _complaint(client, auth, member["id"])
    response = console.post(
        f"/console/members/{member['id']}/callbacks/{touch_id}/outcome", data={"outcome": "call_back_later"}, headers=EN
    )
    assert response.status_code == 422 and "Required with call_back_later" in response.get_data(as_text=True)
    [touch] = _api(client, auth, f"/v1/care/touches?member_id={member['id']}")["data"]
    assert touch["status"] == "callback" and touch["attempts"] == 0
    assert (
        console.post(
            f"/console/members/{member['id']}/callbacks/{touch_id}/outcome", data={"outcome": "maybe"}
        ).status_code
        == 422
    )
    assert _audit(client, auth, "member_callback_outcome") == []


def test_another_members_callback_is_not_found_here(console, client, auth):
    member, other = create_member(client, auth), create_member(client, auth)
    _complaint_id, touch_id = _complaint(client, auth, other["id"])
    response = console.post(
        f"/console/members/{member['id']}/callbacks/{touch_id}/outcome", data={"outcome": "reached"}
    )
    assert response.status_code == 404
    assert _api(client, auth, f"/v1/care/touches?member_id={other['id']}")["data"][0]["status"] == "callback"


# --- resolve a complaint with goodwill points -------------------------------------------------------


def test_resolving_a_complaint_grants_the_goodwill_points_with_it(console, client, auth):
    member = create_member(client, auth)
    complaint_id, _touch_id = _complaint(client, auth, member["id"])
    response = console.post(
        f"/console/members/{member['id']}/complaints/{complaint_id}/resolve",
        data={"resolution": "Refunded the wrapping", "goodwill_points": "150"},
    )
    _redirects_to_member(response, member["id"])
    resolved = next(i for i in _interactions(client, auth, member["id"]) if i["id"] == complaint_id)
    assert resolved["resolved_at"] and resolved["resolution"] == "Refunded the wrapping"
    assert resolved["goodwill_points"] == 150
    assert balance(client, auth, member["id"])["available"] == 150
    assert [e["points"] for e in ledger(client, auth, member["id"])] == [150]
    assert _api(client, auth, f"/v1/care/touches?member_id={member['id']}")["data"][0]["status"] == "done"
    _audited_once(client, auth, "member_resolve_complaint")
    again = console.post(
        f"/console/members/{member['id']}/complaints/{complaint_id}/resolve",
        data={"resolution": "Twice", "goodwill_points": "150"},
    )
    assert again.status_code == 409
    assert balance(client, auth, member["id"])["available"] == 150


@pytest.mark.parametrize(
    "data",
    [{"resolution": "ok", "goodwill_points": "-5"}, {"resolution": ""}, {"resolution": "ok", "goodwill_points": "1.5"}],
)
def test_an_invalid_resolution_is_422_and_writes_nothing(console, client, auth, data):
    member = create_member(client, auth)
    complaint_id, _touch_id = _complaint(client, auth, member["id"])
    response = console.post(f"/console/members/{member['id']}/complaints/{complaint_id}/resolve", data=data)
    assert response.status_code == 422
    complaint = next(i for i in _interactions(client, auth, member["id"]) if i["id"] == complaint_id)
    assert complaint["resolved_at"] is None and balance(client, auth, member["id"])["available"] == 0


# --- adjust points ----------------------------------------------------------------------------------


def test_adjusting_points_credits_and_debits_with_the_reason(console, client, auth):
    member = create_member(client, auth)
    _redirects_to_member(
        console.post(
            f"/console/members/{member['id']}/adjustments",
            data={"points": "300", "reason": "Lost receipt", "note": "till 4"},
        ),
        member["id"],
    )
    _redirects_to_member(
        console.post(
            f"/console/members/{member['id']}/adjustments", data={"points": "-100", "reason": "Double credit"}
        ),
        member["id"],
    )
    assert balance(client, auth, member["id"])["available"] == 200
    entries = ledger(client, auth, member["id"])
    assert sorted((e["points"], e["note"]) for e in entries) == [(-100, "Double credit"), (300, "Lost receipt: till 4")]
    entries = _audit(client, auth, "member_adjust_points")
    assert len(entries) == 2 and {e["target"] for e in entries} == {member["id"]}
    assert sorted(entries[1]["fields"]) == ["note", "points", "reason"]


@pytest.mark.parametrize(
    "data, status",
    [
        ({"points": "0", "reason": "x"}, 422),
        ({"points": "ten", "reason": "x"}, 422),
        ({"points": "5"}, 422),
        ({"points": "-50", "reason": "too many"}, 409),
    ],
)
def test_a_refused_adjustment_writes_nothing(console, client, auth, data, status):
    member = create_member(client, auth)
    response = console.post(f"/console/members/{member['id']}/adjustments", data=data, headers=EN)
    assert response.status_code == status
    assert "Nothing was changed" in response.get_data(as_text=True)
    assert ledger(client, auth, member["id"]) == [] and _audit(client, auth, "member_adjust_points") == []


def test_an_admin_may_adjust_too(admin_console, client, auth):
    # Every member action is @requires("staff") in the API, which admin keys pass: no console action is admin-only.
    member = create_member(client, auth)
    _redirects_to_member(
        admin_console.post(f"/console/members/{member['id']}/adjustments", data={"points": "10", "reason": "Welcome"}),
        member["id"],
    )
    _audited_once(client, auth, "member_adjust_points", name="test admin")


# --- tier floor -------------------------------------------------------------------------------------


def test_setting_and_lifting_a_tier_floor(console, client, auth):
    _ladder(client, auth)
    member = create_member(client, auth)
    until = today() + timedelta(days=30)
    _redirects_to_member(
        console.post(
            f"/console/members/{member['id']}/tier-floor",
            data={"tier": "gold", "until": until.isoformat(), "reason": "Service recovery"},
        ),
        member["id"],
    )
    tier = _api(client, auth, f"/v1/members/{member['id']}/tier")
    assert tier["tier"] == "gold" and tier["floor"]["reason"] == "Service recovery"
    html = console.text(f"/console/members/{member['id']}/actions", headers=EN)
    assert "Lift tier floor" in html and "Service recovery" in html
    _redirects_to_member(
        console.post(f"/console/members/{member['id']}/tier-floor", data={"tier": "", "reason": "Settled"}),
        member["id"],
    )
    tier = _api(client, auth, f"/v1/members/{member['id']}/tier")
    assert tier["tier"] == "regular" and tier["floor"] is None
    assert len(_audit(client, auth, "member_tier_floor")) == 2


@pytest.mark.parametrize(
    "data",
    [
        {"tier": "gold", "reason": "no end"},
        {"tier": "platinum", "until": "2099-01-01", "reason": "x"},
        {"tier": "gold", "until": "2020-01-01", "reason": "past"},
        {"tier": "gold", "until": "soon", "reason": "x"},
    ],
)
def test_an_invalid_floor_is_422_and_the_tier_stays(console, client, auth, data):
    _ladder(client, auth)
    member = create_member(client, auth)
    response = console.post(f"/console/members/{member['id']}/tier-floor", data=data)
    assert response.status_code == 422
    tier = _api(client, auth, f"/v1/members/{member['id']}/tier")
    assert tier["tier"] == "regular" and tier["floor"] is None


# --- status -----------------------------------------------------------------------------------------


def test_changing_the_status(console, client, auth):
    member = create_member(client, auth)
    _redirects_to_member(
        console.post(f"/console/members/{member['id']}/status", data={"status": "suspended"}), member["id"]
    )
    assert _api(client, auth, f"/v1/members/{member['id']}")["status"] == "suspended"
    entry = _audited_once(client, auth, "member_change_status")
    assert "status" in entry["fields"]


@pytest.mark.parametrize("status", ["gone", ""])
def test_an_unknown_status_is_422(console, client, auth, status):
    member = create_member(client, auth)
    assert console.post(f"/console/members/{member['id']}/status", data={"status": status}).status_code == 422
    assert _api(client, auth, f"/v1/members/{member['id']}")["status"] == "active"
    assert _audit(client, auth, "member_change_status") == []


# --- merge ------------------------------------------------------------------------------------------


def test_merge_shows_both_records_then_merges_on_confirmation(console, client, auth):
    survivor = create_member(client, auth, name="Ann Keep", email=...)
    duplicate = create_member(client, auth, name="Ann Dup", tags=["vip"])
    client.post(f"/v1/members/{duplicate['id']}/adjustments", json={"points": 40, "reason": "x"}, headers=auth("staff"))
    for source in (duplicate["member_number"], duplicate["id"]):
        html = console.text(f"/console/members/{survivor['id']}/merge?source={source}", headers=EN)
        assert "Ann Keep" in html and "Ann Dup" in html and duplicate["member_number"] in html
        assert f'name="member_id" value="{duplicate["id"]}"' in html
    response = console.post(f"/console/members/{survivor['id']}/merge", data={"member_id": duplicate["id"]})
    _redirects_to_member(response, survivor["id"])
    merged = _api(client, auth, f"/v1/members/{duplicate['id']}")
    assert merged["id"] == survivor["id"] and merged["email"] == duplicate["email"] and "vip" in merged["tags"]
    assert balance(client, auth, survivor["id"])["available"] == 40
    _audited_once(client, auth, "member_merge_confirm")


def test_merge_refusals_write_nothing(console, client, auth):
    survivor, other = create_member(client, auth), create_member(client, auth)
    html = console.text(f"/console/members/{survivor['id']}/merge?source=000000000000", headers=EN)
    assert "No member has this member number" in html and 'name="member_id"' not in html
    assert "same member" in console.text(f"/console/members/{survivor['id']}/merge?source={survivor['id']}", headers=EN)
    assert (
        console.post(f"/console/members/{survivor['id']}/merge", data={"member_id": survivor["id"]}).status_code == 409
    )
    assert console.post(f"/console/members/{survivor['id']}/merge", data={"member_id": "mbr_nobody"}).status_code == 422
    assert console.post(f"/console/members/{survivor['id']}/merge", data={}).status_code == 422
    assert _api(client, auth, f"/v1/members/{other['id']}")["id"] == other["id"]
    assert _audit(client, auth, "member_merge_confirm") == []


def test_the_merge_page_in_chinese(console, client, auth):
    survivor = create_member(client, auth, name="Ann Keep")
    duplicate = create_member(client, auth, name="Ann Dup")
    html = console.text(f"/console/members/{survivor['id']}/merge?source={duplicate['member_number']}", headers=ZH)
    assert "合并" in html and "Ann Dup" in html
    data = {"Ann", "Keep", "Dup", "Shanghai", "tea", "lover", "example", "com", "test", "staff"}
    data |= {word for m in (survivor, duplicate) for word in re.findall(r"[A-Za-z]+", m["email"])}
    assert english_leftovers(html, allowed=data) == []


# --- erase ------------------------------------------------------------------------------------------


def test_erase_asks_for_the_member_number_and_checks_it_again_on_the_server(console, client, auth):
    member = create_member(client, auth, name="Ann Gone")
    html = console.text(f"/console/members/{member['id']}/erase", headers=EN)
    assert f'data-confirm-text="{member["member_number"]}"' in html
    assert re.search(r"<button[^>]*data-confirm-button[^>]*disabled", html)
    assert "Ann Gone" in html and member["email"] in html
    wrong = console.post(f"/console/members/{member['id']}/erase", data={"confirm": "123"}, headers=EN)
    assert wrong.status_code == 422 and "Type the member number" in wrong.get_data(as_text=True)
    assert _api(client, auth, f"/v1/members/{member['id']}")["name"] == "Ann Gone"
    response = console.post(f"/console/members/{member['id']}/erase", data={"confirm": member["member_number"]})
    assert response.status_code == 303 and response.headers["Location"] == "/console/members"
    erased = _api(client, auth, f"/v1/members/{member['id']}")
    assert erased["name"] is None and erased["email"] is None
    _audited_once(client, auth, "member_erase_confirm")


def test_the_erase_page_in_chinese(console, client, auth):
    member = create_member(client, auth, name="Ann Gone", email="ann@example.com")
    html = console.text(f"/console/members/{member['id']}/erase", headers=ZH)
    assert "清除个人信息" in html
    assert (
        english_leftovers(
            html, allowed={"Ann", "Gone", "ann", "example", "com", "Shanghai", "tea", "lover", "test", "staff"}
        )
        == []
    )


# --- CSRF -------------------------------------------------------------------------------------------


def test_every_action_refuses_a_form_without_its_csrf_token(console, client, auth):
    _ladder(client, auth)
    member, other = create_member(client, auth), create_member(client, auth)
    complaint_id, touch_id = _complaint(client, auth, member["id"])
    base = f"/console/members/{member['id']}"
    forms = {
        "/interactions": {"kind": "note", "content": "hello"},
        f"/callbacks/{touch_id}/outcome": {"outcome": "reached"},
        f"/complaints/{complaint_id}/resolve": {"resolution": "ok", "goodwill_points": "10"},
        "/adjustments": {"points": "10", "reason": "x"},
        "/tier-floor": {"tier": "gold", "until": (today() + timedelta(days=3)).isoformat(), "reason": "x"},
        "/status": {"status": "blocked"},
        "/merge": {"member_id": other["id"]},
        "/erase": {"confirm": member["member_number"]},
    }
    for path, data in forms.items():
        assert console.post(base + path, data=data, csrf=False).status_code == 400, path
        assert console.post(base + path, data={**data, "csrf_token": "forged"}).status_code == 400, path
    after = _api(client, auth, f"/v1/members/{member['id']}")
    assert after["status"] == "active" and after["name"] == member["name"]
    assert _api(client, auth, f"/v1/members/{other['id']}")["id"] == other["id"]
    assert len(_interactions(client, auth, member["id"])) == 1  # only the complaint made above
    assert ledger(client, auth, member["id"]) == []
    assert _api(client, auth, f"/v1/members/{member['id']}/tier")["floor"] is None
    assert _api(client, auth, f"/v1/care/touches?member_id={member['id']}")["data"][0]["status"] == "callback"
    log = client.get("/v1/audit-log", headers=auth()).get_json()["data"]
    assert not [entry for entry in log if entry["action"].startswith("console.member_")]


def test_a_merged_away_id_is_refused_as_the_api_refuses_it(console, client, auth):
    survivor, duplicate = create_member(client, auth), create_member(client, auth)
    _redirects_to_member(
        console.post(f"/console/members/{survivor['id']}/merge", data={"member_id": duplicate["id"]}), survivor["id"]
    )
    response = console.post(f"/console/members/{duplicate['id']}/status", data={"status": "blocked"}, headers=EN)
    assert response.status_code == 409 and "merged into another" in response.get_data(as_text=True)
    assert _api(client, auth, f"/v1/members/{survivor['id']}")["status"] == "active"
    erase = console.post(f"/console/members/{duplicate['id']}/erase", data={"confirm": duplicate["member_number"]})
    assert erase.status_code == 409
    assert _api(client, auth, f"/v1/members/{survivor['id']}")["name"] == survivor["name"]
