"""care.plan over 1,000,000 members on PostgreSQL (PRODUCT.md section 4: birthday planning at most 10 s)."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import time
from datetime import date

from bench.harness import BIN, fresh_database, psql, save
from bench.seed import seed_members

MEMBERS = int(os.environ.get("BENCH_CARE_MEMBERS", "1000000"))
DAY = date(2026, 11, 24)


def _plan(url: str) -> tuple[float, str]:
    started = time.perf_counter()
    out = subprocess.run(
        [str(BIN / "loyalty"), "jobs", "run", "care.plan", "--as-of", DAY.isoformat()],
        env={**os.environ, "LOYALTY_DATABASE_URL": url, "LOYALTY_LOG_LEVEL": "WARNING"},
        check=True,
        capture_output=True,
        text=True,
    )
    return round(time.perf_counter() - started, 2), out.stdout.strip().splitlines()[-1]


def run() -> dict:
    with fresh_database("care") as url:
        with psql(url) as connection:
            seed_members(connection, MEMBERS)
            connection.execute(
                "INSERT INTO care_rules (kind, enabled, channel, template, days_before, days_after, "
                "gift_points, custom_dates, updated_at) VALUES ('birthday', true, 'sms', "
                "'Happy birthday {{ name }}', 3, 0, 0, %s, now())",
                (json.dumps([]),),
            )
            connection.execute("ANALYZE")
            connection.commit()
        first_seconds, first = _plan(url)
        second_seconds, second = _plan(url)
        peak = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)
        with psql(url) as connection:
            planned = connection.execute("SELECT count(*) FROM touches WHERE kind = 'birthday'").fetchone()[0]
    result = {
        "members": MEMBERS,
        "as_of": DAY.isoformat(),
        "first_run_seconds": first_seconds,
        "first_run": first,
        "second_run_seconds": second_seconds,
        "second_run": second,
        "birthday_touches": planned,
        "peak_rss_mb": peak,
    }
    assert planned > 0
    save("care", result)
    return result
