"""Headers every answer carries (issue 12): no caching of member data, no sniffing, no framing."""

from __future__ import annotations

import re

from tests.factories import create_member


def test_v1_answers_are_not_stored_by_caches(client, auth):
    member = create_member(client, auth)
    for response in (
        client.get(f"/v1/members/{member['id']}", headers=auth("staff")),
        client.get("/v1/members/mbr_nobody", headers=auth("staff")),
        client.get("/v1/members"),  # 401
    ):
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_every_answer_says_nosniff(client):
    for path in (
        "/healthz",
        "/openapi.json",
        "/problems",
        "/no-such-path",
        "/docs",
        "/static/swagger-ui/swagger-ui.css",
    ):
        response = client.get(path)
        response.close()  # a static file is streamed from an open file
        assert response.headers.get("X-Content-Type-Options") == "nosniff", path


def test_docs_refuses_framing_and_runs_only_its_own_scripts(client):
    response = client.get("/docs")
    assert response.status_code == 200
    assert response.headers["X-Frame-Options"] == "DENY"
    policy = dict(part.strip().split(" ", 1) for part in response.headers["Content-Security-Policy"].split(";"))
    assert policy["frame-ancestors"] == "'none'"
    assert policy["script-src"] == "'self'" and policy["default-src"] == "'none'"
    html = response.get_data(as_text=True)
    # Every script is a file of ours that exists (no inline script: script-src 'self' would block it).
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    sources = re.findall(r'<script[^>]*\bsrc="([^"]+)"', html)
    assert sources and all(src.startswith("/static/") for src in sources)
    for src in sources + re.findall(r'<link[^>]*href="([^"]+)"', html):
        asset = client.get(src)
        asset.close()
        assert asset.status_code == 200, src
    assert 'data-spec-url="/openapi.json"' in html


def test_problem_pages_refuse_framing_when_html(client):
    response = client.get("/problems/forbidden", headers={"Accept": "text/html"})
    if response.mimetype == "text/html":
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
