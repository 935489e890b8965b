from __future__ import annotations

from loyalty import create_app
from tests.conftest import make_config


def test_over_the_limit_is_429_with_retry_after_per_key(database_url, db, auth):
    app = create_app(make_config(database_url, rate_limit="3 per minute"), database=db)
    client = app.test_client()
    statuses = [client.get("/v1/members", headers=auth("staff")).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = client.get("/v1/members", headers=auth("staff"))
    assert response.status_code == 429
    assert response.content_type == "application/problem+json"
    assert response.get_json()["code"] == "rate_limited"
    assert 1 <= int(response.headers["Retry-After"]) <= 61
    # Another key has its own allowance; ops endpoints are never limited.
    assert client.get("/v1/members?email=nobody@example.com", headers=auth("storefront")).status_code == 200
    assert all(client.get("/healthz").status_code == 200 for _ in range(5))
    assert "Retry-After" not in client.get("/v1/members", headers=auth("admin")).headers


def test_redis_down_keeps_the_service_up_and_limits_each_worker_in_memory(database_url, db, auth):
    """Nothing listens on port 1: the shared counters are unreachable. Requests are still served
    (no 500 for every till while Redis restarts), and the limit still holds, counted per worker."""
    app = create_app(
        make_config(database_url, rate_limit="3 per minute", rate_limit_storage_url="redis://127.0.0.1:1/0"),
        database=db,
    )
    client = app.test_client()
    statuses = [client.get("/v1/members", headers=auth("staff")).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_ratelimit_headers_count_down_within_the_window(database_url, db, auth):
    app = create_app(make_config(database_url, rate_limit="3 per minute"), database=db)
    client = app.test_client()
    answers = [client.get("/v1/members", headers=auth("staff")) for _ in range(4)]
    assert [a.headers["RateLimit-Limit"] for a in answers] == ["3", "3", "3", "3"]
    assert [a.headers["RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    resets = [int(a.headers["RateLimit-Reset"]) for a in answers]
    assert all(1 <= reset <= 60 for reset in resets[:3])  # seconds until the fixed window ends, not a timestamp
    assert answers[3].status_code == 429 and resets[3] == int(answers[3].headers["Retry-After"])
    assert "Retry-After" not in answers[0].headers  # only the refusal says when to come back
    # Another key counts apart; ops endpoints are not limited and carry no RateLimit headers.
    assert client.get("/v1/members", headers=auth("admin")).headers["RateLimit-Remaining"] == "2"
    assert "RateLimit-Limit" not in client.get("/healthz").headers


def test_no_ratelimit_headers_when_limits_are_off(database_url, db, auth):
    app = create_app(make_config(database_url, rate_limit_enabled=False), database=db)
    assert "RateLimit-Limit" not in app.test_client().get("/v1/members", headers=auth("staff")).headers


def test_the_allowance_is_per_key_across_every_route_not_per_route(database_url, db, auth):
    app = create_app(make_config(database_url, rate_limit="3 per minute"), database=db)
    client = app.test_client()
    answers = [
        client.get(path, headers=auth("staff")) for path in ("/v1/program", "/v1/tiers", "/v1/rewards", "/v1/members")
    ]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    # Without a key: one allowance per address, across routes too (401s count, so guessing is limited).
    guesses = [
        client.get(path, headers={"Authorization": "Bearer lk_nope_nope"}).status_code
        for path in ("/v1/program", "/v1/tiers", "/v1/rewards", "/v1/members")
    ]
    assert guesses == [401, 401, 401, 429]


def test_unknown_paths_and_methods_under_v1_count_against_the_allowance(database_url, db):
    """Scanning for endpoints is limited like guessing keys: a 404 or a 405 under /v1 is counted
    (per address without a key) and says so in its RateLimit headers."""
    app = create_app(make_config(database_url, rate_limit="3 per minute"), database=db)
    client = app.test_client()
    answers = [client.get("/v1/nope"), client.put("/v1/members"), client.get("/v1/nope"), client.get("/v1/nope")]
    assert [a.status_code for a in answers] == [404, 405, 404, 429]
    assert [a.headers["RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert client.get("/nope").status_code == 404 and "RateLimit-Limit" not in client.get("/nope").headers
