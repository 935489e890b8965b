"""tiers.evaluate over 1,000,000 members on PostgreSQL (PRODUCT.md section 4: at most 60 s, memory flat).

A heavy night on purpose: every member above the entry tier is due for review, half of them
still qualify (kept another year) and half step down one rung, so 200,000 tiers change at once."""

from __future__ import annotations

import os
import resource
import subprocess
import time
from datetime import UTC, datetime, timedelta

from bench.harness import BIN, fresh_database, program_today, psql, save
from bench.seed import seed_ladder, seed_members, seed_orders, seed_standings

MEMBERS = int(os.environ.get("BENCH_TIER_MEMBERS", "1000000"))
TIERS = ["regular"] * 6 + ["silver"] * 2 + ["gold", "vip"]
KEEPS = {"regular": 1400, "silver": 2500, "gold": 9000, "vip": 35000}
LOSES = {"regular": 900, "silver": 500, "gold": 3000, "vip": 10000}


def _spend(n: int) -> float:
    tier = TIERS[n % 10]
    return (KEEPS if n % 20 < 10 else LOSES)[tier]


def _job(url: str) -> tuple[float, str]:
    started = time.perf_counter()
    out = subprocess.run(
        [str(BIN / "loyalty"), "jobs", "run", "tiers.evaluate", "--as-of", program_today(url).isoformat()],
        env={**os.environ, "LOYALTY_DATABASE_URL": url, "LOYALTY_LOG_LEVEL": "WARNING"},
        check=True,
        capture_output=True,
        text=True,
    )
    return round(time.perf_counter() - started, 1), out.stdout.strip().splitlines()[-1]


def run() -> dict:
    now = datetime.now(UTC)
    with fresh_database("tiers") as url:
        started = time.perf_counter()
        with psql(url) as connection:
            seed_ladder(connection)
            seed_members(connection, MEMBERS, tier=lambda n: TIERS[n % 10])
            seed_orders(connection, MEMBERS, per_member=2, spend=_spend)
            seed_standings(
                connection,
                MEMBERS,
                earned=lambda n: None if TIERS[n % 10] == "regular" else TIERS[n % 10],
                kept_until=lambda n: now - timedelta(days=1 + n % 30),
            )
            connection.execute("ANALYZE")
            connection.commit()
        seeded = round(time.perf_counter() - started, 1)
        first_seconds, first = _job(url)
        second_seconds, second = _job(url)
        peak_rss_mb = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)
        with psql(url) as connection:
            held = dict(connection.execute("SELECT tier_code, count(*) FROM members GROUP BY 1").fetchall())
            changes = connection.execute("SELECT count(*) FROM tier_changes").fetchone()[0]
            events = connection.execute("SELECT count(*) FROM outbox_events WHERE type = 'tier.changed'").fetchone()[0]
    result = {
        "members": MEMBERS,
        "seed_seconds": seeded,
        "first_run_seconds": first_seconds,
        "first_run": first,
        "second_run_seconds": second_seconds,
        "second_run": second,
        "peak_rss_mb": peak_rss_mb,
        "tiers_after": held,
        "history_rows": changes,
        "tier_changed_events": events,
    }
    expected_down = MEMBERS * 4 // 20
    assert changes == events == expected_down, (changes, events, expected_down)
    save("tiers", result)
    return result
