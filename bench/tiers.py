"""tiers.evaluate over 1,000,000 members on PostgreSQL (PRODUCT.md section 4: at most 60 s, memory flat).

A heavy night on purpose: every member above the entry tier is due for review, half of them
still qualify (kept another year) and half step down one rung, so 200,000 tiers change at once."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from bench.harness import fresh_database, job, program_today, psql, save, settle, size
from bench.seed import seed_ladder, seed_members, seed_orders, seed_standings

MEMBERS = size("BENCH_TIER_MEMBERS")
TIERS = ["regular"] * 6 + ["silver"] * 2 + ["gold", "vip"]
KEEPS = {"regular": 1400, "silver": 2500, "gold": 9000, "vip": 35000}
LOSES = {"regular": 900, "silver": 500, "gold": 3000, "vip": 10000}


def _spend(n: int) -> float:
    tier = TIERS[n % 10]
    return (KEEPS if n % 20 < 10 else LOSES)[tier]


def _job(url: str) -> dict:
    return job(url, "tiers.evaluate", "--as-of", program_today(url).isoformat())


def run(members: int | None = None) -> dict:
    members = members or MEMBERS
    now = datetime.now(UTC)
    with fresh_database("tiers") as url:
        started = time.perf_counter()
        with psql(url) as connection:
            seed_ladder(connection)
            seed_members(connection, members, tier=lambda n: TIERS[n % 10])
            seed_orders(connection, members, per_member=2, spend=_spend)
            seed_standings(
                connection,
                members,
                earned=lambda n: None if TIERS[n % 10] == "regular" else TIERS[n % 10],
                kept_until=lambda n: now - timedelta(days=1 + n % 30),
            )
            connection.execute("ANALYZE")
            connection.commit()
            settle(connection)
        seeded = round(time.perf_counter() - started, 1)
        first, second = _job(url), _job(url)
        with psql(url) as connection:
            held = dict(connection.execute("SELECT tier_code, count(*) FROM members GROUP BY 1").fetchall())
            changes = connection.execute("SELECT count(*) FROM tier_changes").fetchone()[0]
            events = connection.execute("SELECT count(*) FROM outbox_events WHERE type = 'tier.changed'").fetchone()[0]
    result = {
        "members": members,
        "seed_seconds": seeded,
        "first_run_seconds": first["seconds"],
        "first_run": first["summary"],
        "second_run_seconds": second["seconds"],
        "second_run": second["summary"],
        "peak_rss_mb": max(first["peak_rss_mb"], second["peak_rss_mb"]),
        "tiers_after": held,
        "history_rows": changes,
        "tier_changed_events": events,
    }
    expected_down = members * 4 // 20
    assert changes == events == expected_down, (changes, events, expected_down)
    save("tiers", result)
    return result
