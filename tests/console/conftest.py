"""Console fixtures: a browser-like test client signed in with a staff or admin key.

`console` posts forms with the CSRF token of its session (`console.post(url, data={...})`);
`console.post(url, data, csrf=False)` leaves the token out, to test the refusal.
"""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


class ConsoleClient:
    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.token: str | None = None

    def refresh_token(self, path: str = "/console/sign-in") -> str:
        page = self.client.get(path, follow_redirects=True)
        found = _TOKEN.search(page.get_data(as_text=True))
        assert found, f"no CSRF token on {path}"
        self.token = found.group(1)
        return self.token

    def sign_in(self, key: str):
        self.refresh_token("/console/sign-in")
        response = self.client.post("/console/sign-in", data={"api_key": key, "csrf_token": self.token})
        self.refresh_token("/console/members")  # sign-in makes a new session and with it a new token
        return response

    def get(self, path: str, **kwargs):
        return self.client.get(path, **kwargs)

    def post(self, path: str, data: dict | None = None, *, csrf: bool = True, **kwargs):
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf_token", self.token or self.refresh_token())
        return self.client.post(path, data=data, **kwargs)

    def text(self, path: str, status: int = 200, **kwargs) -> str:
        response = self.get(path, **kwargs)
        assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:2000])
        return response.get_data(as_text=True)


@pytest.fixture
def anonymous(app) -> ConsoleClient:
    return ConsoleClient(app.test_client())


@pytest.fixture
def console(app, auth) -> ConsoleClient:
    """Signed in with a staff key (named "test staff")."""
    client = ConsoleClient(app.test_client())
    response = client.sign_in(auth.key("staff"))
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return client


@pytest.fixture
def admin_console(app, auth) -> ConsoleClient:
    """Signed in with an admin key (named "test admin")."""
    client = ConsoleClient(app.test_client())
    response = client.sign_in(auth.key("admin"))
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return client


_TAGS = re.compile(r"<(script|style)\b.*?</\1>|<[^>]+>", re.S)
_WORD = re.compile(r"[A-Za-z][A-Za-z'’]{2,}")
# Words that stay as they are in a Chinese page: names of things, codes, units.
ALLOWED_LATIN = {
    "API",
    "POS",
    "SMS",
    "RFM",
    "CSV",
    "SKU",
    "ID",
    "URL",
    "VIP",
    "CNY",
    "USD",
    "HKD",
    "EUR",
    "JSON",
    "HTTP",
    "HTTPS",
    "English",
    "Webhook",
    "Webhooks",
    "Loyalty",
    "htmx",
    "SVG",
}


def english_leftovers(html: str, *, allowed: set[str] = frozenset()) -> list[str]:
    """Latin words in a page's visible text (tags, scripts and attribute values removed) that are
    not allowed: on a Chinese page each is an untranslated string. `allowed` adds the test's own
    data (member names, tier names, tags it made)."""
    from html import unescape

    text = unescape(_TAGS.sub(" ", html))
    return sorted(
        {
            word
            for word in _WORD.findall(text)
            if word not in ALLOWED_LATIN and word not in allowed and word.upper() not in ALLOWED_LATIN
        }
    )


ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}
