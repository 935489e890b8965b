"""Insights, segments and campaign fan-out over 1,000,000 members on PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import time
from datetime import timedelta

from bench.harness import BIN, fresh_database, program_today, psql, save
from bench.seed import seed_lots, seed_members, seed_orders

MEMBERS = int(os.environ.get("BENCH_CAMPAIGN_MEMBERS", "1000000"))


def _job(url: str, name: str) -> tuple[float, str]:
    started = time.perf_counter()
    out = subprocess.run(
        [str(BIN / "loyalty"), "jobs", "run", name],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "LOYALTY_DATABASE_URL": url, "LOYALTY_LOG_LEVEL": "WARNING"},
    )
    return round(time.perf_counter() - started, 2), out.stdout.strip().splitlines()[-1]


def _timed(function):
    started = time.perf_counter()
    value = function()
    return round(time.perf_counter() - started, 3), value


def run() -> dict:
    from loyalty.campaigns import segments, service
    from loyalty.core.db import Database
    from loyalty.wiring import wire

    wire()
    with fresh_database("campaigns") as url:
        with psql(url) as connection:
            seed_members(connection, MEMBERS)
            seed_lots(connection, MEMBERS)
            seed_orders(connection, MEMBERS, per_member=2, spend=lambda n: 100 + (n * 37) % 9000)
            connection.execute(
                'UPDATE members SET consent = \'{"sms": true, "marketing": true}\'::json '
                "WHERE right(id, 1) IN ('1', '3', '5')"
            )
            connection.execute("ANALYZE")
            connection.commit()
        refresh_seconds, refreshed = _job(url, "insights.refresh")
        db = Database(url)
        cutoff = program_today(url) - timedelta(days=60)
        filters = {"m_min": 4, "last_order_before": cutoff.isoformat(), "consent": {"sms": True}}
        with db.unit_of_work() as session:
            count_seconds, count = _timed(lambda: segments.count(session, filters))
            balance_seconds, rich = _timed(lambda: segments.count(session, {"balance_min": 4000}))
            segment = segments.create(session, name="bench", filters=segments.loaded(filters), actor="bench")
            campaign = service.create(
                session,
                actor="bench",
                data={
                    "name": "bench",
                    "segment_id": segment.id,
                    "channel": "sms",
                    "template": "Hi {{ name }}",
                    "send_rate": 10_000_000,
                    "conversion_days": 14,
                },
            )
            service.move(session, campaign_id=campaign.id, action="launch")
        fan_seconds, fanned = _job(url, "campaigns.run")
        dispatch_seconds, dispatched = _job(url, "care.dispatch")
        db.dispose()
    result = {
        "members": MEMBERS,
        "insights_refresh_seconds": refresh_seconds,
        "insights_refresh": refreshed,
        "segment": filters,
        "segment_members": count,
        "segment_count_seconds": count_seconds,
        "balance_segment_members": rich,
        "balance_segment_count_seconds": balance_seconds,
        "campaign_fan_out_seconds": fan_seconds,
        "campaign_fan_out": fanned,
        "dispatch_seconds": dispatch_seconds,
        "dispatch": dispatched,
    }
    save("campaigns", result)
    return result
