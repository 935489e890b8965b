"""The response headers the service sends are the ones the OpenAPI document promises on that
operation's response (X-Request-Id, RateLimit-*, Idempotent-Replayed, WWW-Authenticate, Retry-After,
Allow): each case below is a real request, checked both ways against the served document."""

from __future__ import annotations

import pytest

from loyalty import create_app
from loyalty.core.openapi import HEADERS
from tests.conftest import make_config
from tests.factories import member_payload


@pytest.fixture
def limited(database_url, db):
    """An app whose limit is small enough to reach (3 a minute per key)."""
    return create_app(make_config(database_url, rate_limit="3 per minute"), database=db).test_client()


def documented(spec: dict, path: str, method: str, status: int) -> set[str]:
    response = spec["paths"][path][method]["responses"][str(status)]
    if "$ref" in response:
        response = spec["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    return set(response.get("headers", {}))


def sent(response) -> set[str]:
    return {name for name in HEADERS if name in response.headers}


def check(spec, path, method, response, *, expected: set[str]) -> None:
    assert sent(response) == expected, (path, method, response.status_code, sent(response))
    assert expected <= documented(spec, path, method, response.status_code)


def test_every_documented_header_is_a_component_and_every_component_is_used(client):
    spec = client.get("/openapi.json").get_json()
    assert set(spec["components"]["headers"]) == set(HEADERS)
    responses = [*spec["components"]["responses"].values()]
    responses += [
        response
        for item in spec["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict)
        for response in operation.get("responses", {}).values()
    ]
    used = {ref["$ref"].rsplit("/", 1)[1] for response in responses for ref in response.get("headers", {}).values()}
    assert used == set(HEADERS)


def test_a_keyed_read_carries_its_request_id_and_its_rate_limit(limited, auth):
    spec = limited.get("/openapi.json").get_json()
    answer = limited.get("/v1/members", headers=auth("staff"))
    assert answer.status_code == 200
    check(
        spec,
        "/v1/members",
        "get",
        answer,
        expected={"X-Request-Id", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"},
    )


def test_a_replayed_post_says_so(client, auth):
    spec = client.get("/openapi.json").get_json()
    headers = auth("staff", **{"Idempotency-Key": "doc-headers-1"})
    payload = member_payload()
    first = client.post("/v1/members", json=payload, headers=headers)
    again = client.post("/v1/members", json=payload, headers=headers)
    assert first.status_code == again.status_code == 201
    assert "Idempotent-Replayed" not in first.headers and again.headers["Idempotent-Replayed"] == "true"
    limits = {"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"} & sent(again)
    check(spec, "/v1/members", "post", again, expected={"X-Request-Id", "Idempotent-Replayed", *limits})


def test_no_key_is_told_the_scheme(client):
    spec = client.get("/openapi.json").get_json()
    answer = client.get("/v1/members")
    assert answer.status_code == 401 and answer.headers["WWW-Authenticate"].startswith("Bearer")
    assert {"WWW-Authenticate", "X-Request-Id"} <= sent(answer)
    assert {"WWW-Authenticate", "X-Request-Id"} <= documented(spec, "/v1/members", "get", 401)


def test_over_the_limit_is_told_when_to_come_back(limited, auth):
    spec = limited.get("/openapi.json").get_json()
    answers = [limited.get("/v1/members", headers=auth("staff")) for _ in range(4)]
    assert answers[-1].status_code == 429
    check(
        spec,
        "/v1/members",
        "get",
        answers[-1],
        expected={"X-Request-Id", "Retry-After", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"},
    )


def test_a_wrong_method_is_told_the_right_ones(client, auth):
    spec = client.get("/openapi.json").get_json()
    answer = client.put("/v1/members", json={}, headers=auth("staff"))
    assert answer.status_code == 405
    assert set(answer.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
    assert {"Allow", "X-Request-Id"} <= sent(answer)
    assert {"Allow", "X-Request-Id"} <= documented(spec, "/v1/members", "get", 405)


def test_an_idempotency_conflict_documents_retry_after_on_every_post(client):
    spec = client.get("/openapi.json").get_json()
    posts = [
        (path, item["post"])
        for path, item in spec["paths"].items()
        if "post" in item and any(p.get("name") == "Idempotency-Key" for p in item["post"].get("parameters", []))
    ]
    assert len(posts) > 20
    for path, _operation in posts:
        assert "Retry-After" in documented(spec, path, "post", 409), path
        success = [status for status in spec["paths"][path]["post"]["responses"] if status.startswith("2")]
        assert success and all("Idempotent-Replayed" in documented(spec, path, "post", int(s)) for s in success), path
