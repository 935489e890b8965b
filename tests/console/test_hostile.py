"""What a hostile review of the console found, each kept fixed."""

from __future__ import annotations

import pytest

from tests.console.conftest import ConsoleClient


def test_signing_in_again_while_signed_in_answers_at_once(console, auth):
    """The key is read in the request's own transaction: on SQLite a second connection would wait out
    the busy timeout (30 s, with every other write stuck behind it) and end in a 500."""
    refused = console.post("/console/sign-in", data={"api_key": "lk_aaaaaaaa_b"})
    assert refused.status_code == 401
    again = console.post("/console/sign-in", data={"api_key": auth.key("admin")})
    assert again.status_code == 303


def test_sign_in_attempts_are_limited_per_address(anonymous):
    anonymous.refresh_token()
    answers = [anonymous.post("/console/sign-in", data={"api_key": f"lk_bad{n:05d}_x"}).status_code for n in range(31)]
    assert answers[:30] == [401] * 30
    assert answers[30] == 429


@pytest.mark.parametrize(
    "path",
    [
        "/console/insights?to=9999-12-31",
        "/console/insights?from=0001-01-01",
        "/console/insights?to=0001-01-02",
        "/console/settings/audit?to=9999-12-31",
        "/console/settings/audit?from=0001-01-01",
    ],
)
def test_days_at_the_ends_of_the_calendar_are_a_422(admin_console, path):
    response = admin_console.get(path)
    assert response.status_code == 422


def test_a_key_expiring_at_the_end_of_time_is_a_422_and_no_key(admin_console, client, auth):
    before = len(client.get("/v1/audit-log", headers=auth("admin")).get_json()["data"])
    response = admin_console.post(
        "/console/settings/keys", data={"role": "staff", "name": "x", "expires_on": "9999-12-31"}
    )
    assert response.status_code == 422
    assert len(client.get("/v1/audit-log", headers=auth("admin")).get_json()["data"]) == before


@pytest.mark.parametrize("name", ["a\x00b", "\u202eevil", "\x1b[31mred", "zero\u200bwidth"])
def test_key_names_that_disguise_themselves_are_refused(admin_console, name):
    response = admin_console.post("/console/settings/keys", data={"role": "staff", "name": name})
    assert response.status_code == 422
    assert "lk_" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "target",
    [
        "/console\r\nX: y",
        "/console/../docs",
        "/console/%2e%2e/docs",
        "/console/./../v1/members",
        "https://evil.example/console",
        "//evil.example/console",
        "/console\\..\\docs",
        "/v1/members",
    ],
)
def test_going_back_never_leaves_the_console(console, anonymous, auth, target):
    response = console.post("/console/language", data={"lang": "en", "next": target})
    assert response.status_code == 303 and response.headers["Location"] == "/console"
    anonymous.refresh_token()
    signed_in = anonymous.post("/console/sign-in", data={"api_key": auth.key("staff"), "next": target})
    assert signed_in.status_code == 303 and signed_in.headers["Location"] == "/console"


def test_a_console_path_with_a_query_is_kept(console):
    response = console.post("/console/language", data={"lang": "en", "next": "/console/members?q=ann"})
    assert response.headers["Location"] == "/console/members?q=ann"


def test_double_slashes_are_not_redirected_through_the_host_header(app):
    client = ConsoleClient(app.test_client())
    response = client.get("/console//members", headers={"Host": "evil.example"})
    assert response.status_code == 404
    assert "evil.example" not in response.headers.get("Location", "")
