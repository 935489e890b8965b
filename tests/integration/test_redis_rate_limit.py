"""The rate limit across machines: two gunicorn instances of two workers each, on one PostgreSQL
and one Redis, count one API key's calls together, so four workers let exactly the limit through.

Real processes on the real clock: the limit's minute starts at the first call and the calls take
a second or two."""

from __future__ import annotations

import contextlib

import pytest
import redis
import requests

from tests.integration.test_gunicorn import _records, gunicorn

pytestmark = pytest.mark.postgres_only

LIMIT, CALLS = 40, 60
REDIS_DB = 5  # not the default database: a shared Redis's other keys are none of this test's business


def test_two_instances_of_two_workers_share_one_limit_through_redis(database_url, db, auth, tmp_path):
    store = redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB, socket_timeout=2)
    store.ping()  # Redis runs here and in CI: no server is a failure, not a skip
    headers = auth("staff")  # a new key per run: its counters are this run's own
    prefix = headers["Authorization"].split("_")[1]
    settings = {
        "LOYALTY_RATE_LIMIT": f"{LIMIT} per minute",
        "LOYALTY_RATE_LIMIT_STORAGE_URL": f"redis://127.0.0.1:6379/{REDIS_DB}",
    }
    try:
        with contextlib.ExitStack() as stack:
            bases = [
                stack.enter_context(gunicorn(database_url, tmp_path / f"gunicorn-{n}.log", **settings)) for n in (1, 2)
            ]
            statuses = []
            for call in range(CALLS):
                with requests.Session() as fresh:  # a new connection each time: every worker takes some
                    response = fresh.get(
                        f"{bases[call % 2]}/v1/members", headers={**headers, "Connection": "close"}, timeout=5
                    )
                statuses.append(response.status_code)
        assert statuses.count(200) == LIMIT and statuses.count(429) == CALLS - LIMIT, statuses
        assert statuses[:LIMIT] == [200] * LIMIT  # the limit's calls first, then refusals only
        assert {s for s in statuses[LIMIT::2]} == {429} and {s for s in statuses[LIMIT + 1 :: 2]} == {429}
        counters = [name for name in store.scan_iter(match=f"*{prefix}*")]
        assert counters  # counted in Redis, not in the workers
        for n in (1, 2):  # counting in Redis: no instance warns that its workers count alone
            assert not [
                r for r in _records(tmp_path / f"gunicorn-{n}.log") if r.get("event") == "rate_limit_per_worker"
            ]
    finally:
        for name in store.scan_iter(match=f"*{prefix}*"):
            store.delete(name)
        store.close()
