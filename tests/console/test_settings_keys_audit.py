"""Settings (admin): the index, API keys (create, revoke, rotate; a new key shown once) and the audit log."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from loyalty.audit.models import AuditEntry
from loyalty.audit.service import record
from loyalty.core.auth import _hash, list_keys
from tests.clock import now
from tests.console.conftest import ZH, english_leftovers
from tests.factories import create_member

EN = {"Accept-Language": "en"}
_NEW_KEY = re.compile(r'id="new-key"[^>]*value="(lk_[A-Za-z0-9]+_[A-Za-z0-9_\-]+)"')


def audit(client, auth, **params) -> list[dict]:
    response = client.get("/v1/audit-log", query_string=params, headers=auth("admin"))
    assert response.status_code == 200, response.get_json()
    return response.get_json()["data"]


def keys(client, auth) -> dict[str, dict]:
    """The keys as the database holds them, by prefix (read with the CLI's service)."""
    with auth._database.unit_of_work() as session:
        return {
            k.prefix: {"name": k.name, "role": k.role, "revoked": k.revoked_at is not None, "expires_at": k.expires_at}
            for k in list_keys(session)
        }


def create(admin_console, **form):
    data = {"role": "storefront", "name": "web shop", **form}
    response = admin_console.post("/console/settings/keys", data=data, headers=EN)
    html = response.get_data(as_text=True)
    found = _NEW_KEY.search(html)
    return response, html, found.group(1) if found else None


def prefix_of(key: str) -> str:
    return key.split("_")[1]


# ---- the index and who may see it ---------------------------------------------------------------------


def test_the_index_links_every_settings_page(admin_console):
    html = admin_console.text("/console/settings", headers=EN)
    for path in ("program", "tiers", "care", "rewards", "webhooks", "keys", "audit"):
        assert f'href="/console/settings/{path}"' in html, path
    assert 'href="/console/settings"' in html  # the Settings link of the frame, for an admin


@pytest.mark.parametrize(
    "path",
    [
        "/console/settings",
        "/console/settings/keys",
        "/console/settings/audit",
        "/console/settings/keys/abcdefgh/revoke",
        "/console/settings/keys/abcdefgh/rotate",
    ],
)
def test_staff_get_403_and_no_settings_link(console, path):
    response = console.get(path, headers=EN)
    assert response.status_code == 403
    assert "admin keys only" in response.get_data(as_text=True).lower()
    assert 'href="/console/settings"' not in console.text("/console/insights", headers=EN)


def test_staff_can_not_make_revoke_or_rotate_keys(console, client, auth):
    admin_prefix = prefix_of(auth.key("admin"))
    before = keys(client, auth)
    assert console.post("/console/settings/keys", data={"role": "admin", "name": "mine"}).status_code == 403
    assert console.post(f"/console/settings/keys/{admin_prefix}/revoke").status_code == 403
    assert console.post(f"/console/settings/keys/{admin_prefix}/rotate", data={"grace_hours": "1"}).status_code == 403
    assert keys(client, auth) == before


# ---- API keys ---------------------------------------------------------------------------------------


def test_the_list_shows_prefix_name_role_and_state_but_never_a_hash(admin_console, client, auth):
    auth.key("pos")
    html = admin_console.text("/console/settings/keys", headers=EN)
    stored = keys(client, auth)
    for prefix, key in stored.items():
        assert f'<td class="mono">{prefix}</td>' in html and key["name"] in html
    assert "POS" in html and "active" in html and "never" in html
    for role in ("admin", "pos"):
        assert _hash(auth.key(role)) not in html and auth.key(role) not in html


def test_a_new_key_is_shown_once_works_and_is_audited(admin_console, client, auth):
    response, html, key = create(admin_console, role="staff", name="front desk", expires_on="2027-01-31")
    assert response.status_code == 201 and key, html[:1500]
    assert "shown only this once" in html
    assert key not in response.headers.get("Location", "") and key not in response.headers.get("Set-Cookie", "")
    prefix = prefix_of(key)
    stored = keys(client, auth)[prefix]
    assert stored["name"] == "front desk" and stored["role"] == "staff" and not stored["revoked"]
    assert stored["expires_at"].isoformat().startswith("2027-01-31T16:00")  # end of 31 January in Shanghai
    assert client.get("/v1/members", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    # never again: not in the list, and a reload of the list shows only the prefix
    listing = admin_console.text("/console/settings/keys", headers=EN)
    assert key not in listing and prefix in listing
    entries = audit(client, auth)
    page_entry = next(e for e in entries if e["action"] == "console.settings_keys_create")
    assert page_entry["actor"]["name"] == "test admin" and page_entry["fields"] == ["expires_on", "name", "role"]
    made = next(e for e in entries if e["action"] == "keys.create")
    assert made["target"] == prefix and made["actor"]["name"] == "test admin"


def test_a_new_key_form_with_mistakes_is_refused_in_place(admin_console, client, auth):
    before = keys(client, auth)
    response, html, key = create(admin_console, role="root", name=" ", expires_on="2020-01-01")
    assert response.status_code == 422 and key is None
    assert "Choose a role." in html and "Give the key a name" in html and "must lie in the future" in html
    response, html, _ = create(admin_console, expires_on="31/01/2027")
    assert response.status_code == 422 and "Enter a date such as" in html
    assert keys(client, auth) == before
    assert not [e for e in audit(client, auth) if e["action"].startswith(("keys.", "console.settings"))]


def test_creating_a_key_needs_the_csrf_token(admin_console, client, auth):
    before = keys(client, auth)
    response = admin_console.post("/console/settings/keys", data={"role": "admin", "name": "x"}, csrf=False)
    assert response.status_code == 400 and keys(client, auth) == before


def test_revoking_a_key_asks_first_then_it_stops_working(admin_console, client, auth):
    _, _, key = create(admin_console, role="pos", name="till 2")
    prefix = prefix_of(key)
    bearer = {"Authorization": f"Bearer {key}"}
    assert client.get("/v1/program", headers=bearer).status_code == 200
    confirm = admin_console.text(f"/console/settings/keys/{prefix}/revoke", headers=EN)
    assert "stops working at once" in confirm and "signed in with" not in confirm
    assert admin_console.post(f"/console/settings/keys/{prefix}/revoke", csrf=False).status_code == 400
    assert not keys(client, auth)[prefix]["revoked"]
    done = admin_console.post(f"/console/settings/keys/{prefix}/revoke", headers=EN)
    assert done.status_code == 303 and done.headers["Location"] == "/console/settings/keys"
    assert keys(client, auth)[prefix]["revoked"]
    assert client.get("/v1/program", headers=bearer).status_code == 401
    assert "revoked" in admin_console.text("/console/settings/keys", headers=EN)
    entry = next(e for e in audit(client, auth) if e["action"] == "console.settings_key_revoke")
    assert entry["target"] == prefix and entry["actor"]["name"] == "test admin"
    again = admin_console.post(f"/console/settings/keys/{prefix}/revoke", headers=EN)
    assert again.status_code == 404  # already revoked
    assert admin_console.get(f"/console/settings/keys/{prefix}/revoke").status_code == 404


def test_revoking_your_own_key_warns_then_signs_you_out(admin_console, client, auth):
    prefix = prefix_of(auth.key("admin"))
    confirm = admin_console.text(f"/console/settings/keys/{prefix}/revoke", headers=EN)
    assert "This is the key you are signed in with" in confirm and "Revoke and sign me out" in confirm
    unwarned = admin_console.post(f"/console/settings/keys/{prefix}/revoke", headers=EN)  # not from that page
    assert unwarned.status_code == 409 and "This is the key you are signed in with" in unwarned.get_data(as_text=True)
    assert not keys(client, auth)[prefix]["revoked"]
    assert f'name="confirm" value="{prefix}"' in confirm
    done = admin_console.post(f"/console/settings/keys/{prefix}/revoke", data={"confirm": prefix}, headers=EN)
    assert done.status_code == 303 and done.headers["Location"] == "/console/sign-in"
    signed_out = admin_console.get("/console/sign-in", headers=EN).get_data(as_text=True)
    assert "so you are signed out" in signed_out
    assert admin_console.get("/console/settings/keys").status_code == 303
    assert keys(client, auth)[prefix]["revoked"]
    assert client.get("/v1/program", headers=auth("admin")).status_code == 401
    with auth._database.unit_of_work() as session:
        actions = {(e.action, e.target, e.actor_name) for e in session.scalars(select(AuditEntry))}
    assert ("console.settings_key_revoke", prefix, "test admin") in actions


def test_rotating_shows_the_new_key_once_and_the_old_one_works_for_the_grace(admin_console, client, auth):
    _, _, old_key = create(admin_console, role="storefront", name="web shop")
    old = prefix_of(old_key)
    page = admin_console.text(f"/console/settings/keys/{old}/rotate", headers=EN)
    assert 'name="grace_hours"' in page and 'value="24"' in page
    assert (
        admin_console.post(f"/console/settings/keys/{old}/rotate", data={"grace_hours": "2"}, csrf=False).status_code
        == 400
    )
    assert len(keys(client, auth)) == 2  # the admin's and the web shop's: nothing made
    bad = admin_console.post(f"/console/settings/keys/{old}/rotate", data={"grace_hours": "-1"}, headers=EN)
    assert bad.status_code == 422 and "Enter a number of hours" in bad.get_data(as_text=True)
    response = admin_console.post(f"/console/settings/keys/{old}/rotate", data={"grace_hours": "2"}, headers=EN)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "keeps working until" in html
    new_key = _NEW_KEY.search(html).group(1)
    new = prefix_of(new_key)
    stored = keys(client, auth)
    assert stored[new]["name"] == "web shop" and stored[new]["role"] == "storefront"
    assert stored[old]["expires_at"] is not None and not stored[old]["revoked"]
    for key in (old_key, new_key):  # both work during the grace period
        assert client.get("/v1/program", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    with time_machine.travel(now() + timedelta(hours=3)):
        assert client.get("/v1/program", headers={"Authorization": f"Bearer {old_key}"}).status_code == 401
        assert client.get("/v1/program", headers={"Authorization": f"Bearer {new_key}"}).status_code == 200
    entries = audit(client, auth)
    rotated = next(e for e in entries if e["action"] == "console.settings_key_rotate")
    assert (
        rotated["target"] == old and rotated["fields"] == ["grace_hours"] and rotated["actor"]["name"] == "test admin"
    )
    assert any(e["action"] == "keys.create" and e["target"] == new for e in entries)
    assert new_key not in admin_console.text("/console/settings/keys")


def test_an_unknown_key_is_404(admin_console):
    assert admin_console.get("/console/settings/keys/nokey123/rotate").status_code == 404
    assert admin_console.post("/console/settings/keys/nokey123/rotate", data={"grace_hours": "1"}).status_code == 404


# ---- the audit log ----------------------------------------------------------------------------------


def changes(client, auth, count: int) -> None:
    for _ in range(count):
        create_member(client, auth)


def rows(html: str) -> list[list[str]]:
    """The cells' text of each entry in the audit table."""
    body = re.search(r'<table class="list" id="audit">(.*?)</table>', html, re.DOTALL)
    if not body:
        return []
    return [
        [re.sub(r"<[^>]+>|\s+", " ", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.DOTALL)]
        for row in re.findall(r"<tr>(.*?)</tr>", body.group(1), re.DOTALL)
        if "<td" in row
    ]


def test_the_audit_log_newest_first_and_paged_with_the_cursor(admin_console, client, auth):
    changes(client, auth, 3)
    api = audit(client, auth)
    html = admin_console.text("/console/settings/audit?limit=2", headers=EN)
    first = rows(html)
    assert [r[2] for r in first] == [e["action"] for e in api[:2]]
    assert [r[3] for r in first] == [e["target"] for e in api[:2]]
    assert "test staff" in first[0][1]
    cursor = re.search(r'href="([^"]*cursor=[^"]+)"', html).group(1).replace("&amp;", "&")
    second = rows(admin_console.text(cursor, headers=EN))
    assert [r[3] for r in second] == [e["target"] for e in api[2:4]]


def test_the_audit_log_filters(admin_console, client, auth):
    changes(client, auth, 2)
    staff_prefix = prefix_of(auth.key("staff"))
    member = audit(client, auth)[0]["target"]
    assert len(rows(admin_console.text(f"/console/settings/audit?actor={staff_prefix}"))) == 2
    assert len(rows(admin_console.text("/console/settings/audit?actor=zzzzzzzz"))) == 0
    assert [r[3] for r in rows(admin_console.text(f"/console/settings/audit?target={member}"))] == [member]
    assert len(rows(admin_console.text("/console/settings/audit?action=members.create_member"))) == 2
    assert len(rows(admin_console.text("/console/settings/audit?from=2026-11-18&to=2026-11-18"))) >= 2
    assert rows(admin_console.text("/console/settings/audit?from=2026-11-19")) == []
    assert rows(admin_console.text("/console/settings/audit?to=2026-11-17")) == []
    bad = admin_console.get("/console/settings/audit?from=tomorrow&actor=" + "x" * 30, headers=EN)
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert "Enter a date such as" in text and "This filter is too long." in text


def test_settings_pages_in_chinese_without_english_leftovers(admin_console, client, auth):
    changes(client, auth, 1)
    auth.key("pos")
    with auth._database.unit_of_work() as session:  # as `loyalty keys revoke` writes it
        record(session, actor=None, action="keys.revoke", target="oldtill1", fields=["revoked_at"])
    admin_prefix = prefix_of(auth.key("admin"))
    pos_prefix = prefix_of(auth.key("pos"))
    # the log's own data (action codes, target ids, field names) is shown as it is, in code type
    logged = " ".join(" ".join([e["action"], e["target"] or "", *e["fields"]]) for e in audit(client, auth))
    data = {"test", "admin", "staff", "pos", *re.findall(r"[A-Za-z]+", logged)}
    pages = [
        "/console/settings",
        "/console/settings/keys",
        "/console/settings/audit",
        f"/console/settings/keys/{admin_prefix}/revoke",
        f"/console/settings/keys/{pos_prefix}/rotate",
        "/console/settings/audit?from=nope",
    ]
    for path in pages:
        response = admin_console.get(path, headers=ZH)
        assert response.status_code in (200, 422), path
        html = response.get_data(as_text=True)
        if path == "/console/settings/audit":
            assert "命令行" in html and ">cli<" not in html
        prefixes = set(keys(client, auth))  # random letters and digits: a run of letters is no English
        leftovers = [w for w in english_leftovers(html, allowed=data) if not any(w in p for p in prefixes)]
        assert leftovers == [], (path, leftovers)
    made = admin_console.post("/console/settings/keys", data={"role": "staff", "name": "前台"}, headers=ZH)
    assert made.status_code == 201
    html = made.get_data(as_text=True)
    new_prefix = prefix_of(_NEW_KEY.search(html).group(1))
    assert "只显示这一次" in html
    assert [w for w in english_leftovers(html, allowed=data) if w not in new_prefix] == []
