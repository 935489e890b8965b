"""The app under threads, as gunicorn's gthread workers run it: the rate-limit counters, the API-key
cache, the settings caches and the per-request session and log context hold when many requests of
one process run at once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from loyalty import create_app
from loyalty.core.ratelimit import SweepingMemoryStorage
from tests.conftest import make_config
from tests.factories import create_member


def test_concurrent_requests_share_one_exact_rate_limit_and_their_own_context(database_url, db, auth, client):
    members = [create_member(client, auth) for _ in range(3)]
    app = create_app(make_config(database_url, rate_limit="40 per minute"), database=db)
    keys = [auth(role) for role in ("staff", "admin")]
    start = threading.Barrier(8)

    def caller(index: int) -> list[tuple[int, bool, bool]]:
        local = app.test_client()
        start.wait()
        results = []
        for step in range(15):
            request_id = f"t{index}-{step}"
            member = members[(index + step) % len(members)]
            response = local.get(f"/v1/members/{member['id']}", headers={**keys[index % 2], "X-Request-Id": request_id})
            body = response.get_json()
            results.append(
                (
                    index % 2,
                    response.status_code,
                    response.headers["X-Request-Id"] == request_id,
                    response.status_code != 200 or body["id"] == member["id"],
                )
            )
        return results

    with ThreadPoolExecutor(8) as pool:
        results = [r for batch in pool.map(caller, range(8)) for r in batch]
    # 60 calls per key against a limit of 40 per key: exactly 40 each get through, whatever the interleaving.
    for key in (0, 1):
        statuses = [status for which, status, _, _ in results if which == key]
        assert statuses.count(200) == 40 and statuses.count(429) == 20, statuses
    assert all(same_id and right_member for _, _, same_id, right_member in results)


def test_the_key_cache_verifies_many_keys_at_once(database_url, db, auth, client):
    app = create_app(make_config(database_url, rate_limit_enabled=False), database=db)
    headers = [auth(role) for role in ("storefront", "pos", "staff", "admin")]
    verifier = app.extensions["loyalty.keys"]
    start = threading.Barrier(8)

    def caller(index: int) -> list[str]:
        start.wait()
        seen = []
        for step in range(50):
            if step % 10 == 0:
                verifier.clear()  # a refill racing the readers
            seen.append(verifier.verify(headers[(index + step) % 4]["Authorization"]).role)
        return seen

    with ThreadPoolExecutor(8) as pool:
        seen = [role for batch in pool.map(caller, range(8)) for role in batch]
    expected = [("storefront", "pos", "staff", "admin")[(i + s) % 4] for i in range(8) for s in range(50)]
    assert seen == expected


def test_the_memory_counters_sweep_safely_while_counting():
    storage = SweepingMemoryStorage("loyalty-memory://")
    start = threading.Barrier(6)

    def hits(index: int) -> int:
        start.wait()
        for step in range(2000):
            storage.incr(f"short-{index}-{step % 50}", expiry=0.001)  # expire at once: sweeps race the hits
            storage._last_sweep = 0.0
            storage.incr("shared", expiry=60)
        return index

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(hits, range(6)))
    assert storage.get("shared") == 6 * 2000
