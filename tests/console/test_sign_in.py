"""Signing in to the console: who may, what the cookie holds, CSRF, idle expiry, sign-out."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from loyalty.console.models import ConsoleSession
from loyalty.core.auth import create_key, revoke_key
from tests.console.conftest import ConsoleClient


def test_signed_out_console_shows_the_sign_in_form(anonymous):
    response = anonymous.get("/console", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'name="api_key"' in html
    assert 'type="hidden" name="csrf_token"' in html


def test_signed_out_pages_send_to_sign_in(anonymous):
    response = anonymous.get("/console/members?q=ann")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/console/sign-in?next=")
    htmx = anonymous.get("/console/members", headers={"HX-Request": "true"})
    assert htmx.status_code == 204 and htmx.headers["HX-Redirect"].startswith("/console/sign-in")


@pytest.mark.parametrize("role", ["staff", "admin"])
def test_staff_and_admin_keys_sign_in(anonymous, auth, role):
    response = anonymous.sign_in(auth.key(role))
    assert response.status_code == 303 and response.headers["Location"] == "/console"
    page = anonymous.text("/console/members")
    assert f"test {role}" in page
    cookie = anonymous.client.get_cookie("loyalty_console", path="/console")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"
    secret = auth.key(role).split("_", 2)[2]  # the secret itself may hold underscores
    assert auth.key(role) not in cookie.value and secret[:10] not in cookie.value


@pytest.mark.parametrize("role", ["pos", "storefront"])
def test_pos_and_storefront_keys_are_refused(anonymous, auth, role):
    response = anonymous.sign_in(auth.key(role))
    assert response.status_code == 401
    assert "Only staff and admin keys" in response.get_data(as_text=True)
    assert anonymous.get("/console/members").status_code == 303


def test_wrong_and_revoked_keys_are_refused_with_a_reason(anonymous, auth, db):
    assert "not valid" in anonymous.sign_in("lk_abcdefgh_nonsense").get_data(as_text=True)
    assert anonymous.sign_in("").status_code == 401
    with db.unit_of_work() as session:
        row, key = create_key(session, role="staff", name="leaver")
        revoke_key(session, row.prefix)
    refused = anonymous.sign_in(key)
    assert refused.status_code == 401 and "revoked" in refused.get_data(as_text=True)


def test_revoking_the_key_ends_its_console_session_at_once(console, auth, db):
    assert console.get("/console/members").status_code == 200
    with db.unit_of_work() as session:
        revoke_key(session, auth.key("staff").split("_")[1])
    assert console.get("/console/members").status_code == 303


def test_a_form_without_the_csrf_token_is_refused(console):
    response = console.post("/console/sign-out", csrf=False)
    assert response.status_code == 400
    assert console.get("/console/members").status_code == 200  # still signed in: nothing happened
    wrong = console.post("/console/sign-out", data={"csrf_token": "forged"})
    assert wrong.status_code == 400


def test_sign_in_itself_needs_the_csrf_token(anonymous, auth):
    response = anonymous.client.post("/console/sign-in", data={"api_key": auth.key("staff")})
    assert response.status_code == 400
    assert anonymous.get("/console/members").status_code == 303


def test_sign_out_ends_the_session_server_side(console, db):
    cookie = console.client.get_cookie("loyalty_console", path="/console").value
    assert console.post("/console/sign-out").status_code == 303
    assert console.get("/console/members").status_code == 303
    replay = ConsoleClient(console.client.application.test_client())  # a copy of the old cookie
    replay.client.set_cookie("loyalty_console", cookie, path="/console")
    assert replay.get("/console/members").status_code == 303
    with db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(ConsoleSession)) == 0


def test_an_idle_session_expires(console, pinned_clock):
    assert console.get("/console/members").status_code == 200
    pinned_clock.shift(timedelta(minutes=29))
    assert console.get("/console/members").status_code == 200  # use keeps it alive
    pinned_clock.shift(timedelta(minutes=31))
    assert console.get("/console/members").status_code == 303


def test_cookie_is_secure_over_https(anonymous, auth):
    anonymous.client.get("/console/sign-in", base_url="https://localhost")
    cookie = anonymous.client.get_cookie("loyalty_console", domain="localhost", path="/console")
    assert cookie is not None and cookie.secure


def test_next_never_leaves_the_console(anonymous, auth):
    anonymous.refresh_token()
    for target in ("https://evil.example/", "//evil.example/console", "/v1/members", "/console\\@evil"):
        response = anonymous.client.post(
            "/console/sign-in", data={"api_key": auth.key("staff"), "csrf_token": anonymous.token, "next": target}
        )
        assert response.headers["Location"] == "/console", target
        anonymous.refresh_token("/console/members")
        anonymous.post("/console/sign-out")
        anonymous.refresh_token()


def test_pages_refuse_framing_and_inline_script(anonymous):
    response = anonymous.get("/console")
    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"
    assert "<script>" not in response.get_data(as_text=True)


def test_the_sign_in_is_audited_under_the_key_name(console, auth):
    entries = auth and console.client.application  # the audit log is read through the API
    client = entries.test_client()
    log = client.get("/v1/audit-log", headers=auth("admin")).get_json()["data"]
    assert any(e["actor"]["name"] == "test staff" and e["action"] == "console.sign_in_post" for e in log)


def test_the_api_sets_no_console_cookie(client, auth):
    response = client.get("/v1/program", headers=auth("admin"))
    assert "Set-Cookie" not in response.headers


def test_the_purge_job_deletes_sessions_nobody_came_back_for(console, db, config, pinned_clock):
    from loyalty.scheduler import run_job
    from tests.clock import NOW

    with db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(ConsoleSession)) == 1
    assert run_job("console.sessions.purge", db=db, config=config, as_of=NOW.date()) == {"deleted": 0}
    pinned_clock.move_to(NOW + timedelta(minutes=45))
    assert run_job("console.sessions.purge", db=db, config=config, as_of=NOW.date()) == {"deleted": 1}
    assert console.get("/console/members").status_code == 303
