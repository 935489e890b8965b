"""Insights, segments and campaign fan-out over 1,000,000 members on PostgreSQL."""

from __future__ import annotations

import re
import sys
import time
from datetime import timedelta

from bench.harness import fresh_database, job, program_today, psql, save, settle, size
from bench.seed import seed_accounts, seed_lots, seed_members, seed_orders

MEMBERS = size("BENCH_CAMPAIGN_MEMBERS")
# care.dispatch with its clock moved out of quiet hours (bench/pinned_clock.py): at night in the
# members' zone every touch would only be deferred to the morning.
PINNED = [sys.executable, "-m", "bench.pinned_clock"]


def _count(summary: str, key: str) -> int:
    found = re.search(rf"\b{key}=(\d+)", summary)
    return int(found.group(1)) if found else 0


def _timed(function):
    started = time.perf_counter()
    value = function()
    return round(time.perf_counter() - started, 3), value


def run(members: int | None = None) -> dict:
    members = members or MEMBERS
    from loyalty.campaigns import segments, service
    from loyalty.core.db import Database
    from loyalty.wiring import wire

    wire()
    with fresh_database("campaigns") as url:
        with psql(url) as connection:
            seed_members(connection, members)
            seed_lots(connection, members)
            seed_accounts(connection)  # as every credit makes one: the lock, and the stored balance
            seed_orders(connection, members, per_member=2, spend=lambda n: 100 + (n * 37) % 9000)
            connection.execute(
                'UPDATE members SET consent = \'{"sms": true, "marketing": true}\'::json '
                "WHERE right(id, 1) IN ('1', '3', '5')"
            )
            connection.execute("ANALYZE")
            connection.commit()
            settle(connection)
        refresh = job(url, "insights.refresh")
        stored = job(url, "points.balances")  # every balance counted, as the 10-minute job keeps them
        with psql(url) as connection:
            # A busy stretch since its last run: 1% of the members' points changed, counted live.
            changed = connection.execute(
                "UPDATE point_accounts SET balance = NULL WHERE right(member_id, 2) = '07'"
            ).rowcount
            connection.commit()
            settle(connection)
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
        fan_out = job(url, "campaigns.run")
        dispatch = job(url, "care.dispatch", command=PINNED)
        db.dispose()
    sent = _count(dispatch["summary"], "sent")
    result = {
        "members": members,
        "insights_refresh_seconds": refresh["seconds"],
        "insights_refresh": refresh["summary"],
        "insights_refresh_peak_rss_mb": refresh["peak_rss_mb"],
        "segment": filters,
        "segment_members": count,
        "segment_count_seconds": count_seconds,
        "balance_segment_members": rich,
        "balance_segment_count_seconds": balance_seconds,
        "balance_segment_changed_accounts": changed,
        "balances_seconds": stored["seconds"],
        "balances": stored["summary"],
        "balances_peak_rss_mb": stored["peak_rss_mb"],
        "campaign_fan_out_seconds": fan_out["seconds"],
        "campaign_fan_out": fan_out["summary"],
        "campaign_fan_out_peak_rss_mb": fan_out["peak_rss_mb"],
        "dispatch_seconds": dispatch["seconds"],
        "dispatch": dispatch["summary"],
        "dispatch_peak_rss_mb": dispatch["peak_rss_mb"],
        "dispatched_touches": sent,
        "dispatch_touches_per_second": round(sent / dispatch["seconds"]) if dispatch["seconds"] else None,
        "campaign_sent_seconds": round(fan_out["seconds"] + dispatch["seconds"], 2),
    }
    save("campaigns", result)
    return result
