"""/metrics scrape cost on PostgreSQL with a filled database: what loyalty/ops_metrics.py reads at
each scrape (jobs, lease, webhooks, touches, holds, ledger totals), first scrape and steady state."""

from __future__ import annotations

import os
import time
from datetime import UTC

from bench.harness import fresh_database, psql, save
from bench.seed import seed_lots, seed_members

MEMBERS = int(os.environ.get("BENCH_METRICS_MEMBERS", "200000"))
DELIVERIES = int(os.environ.get("BENCH_METRICS_DELIVERIES", "500000"))
TOUCHES = int(os.environ.get("BENCH_METRICS_TOUCHES", "300000"))
RUNS = int(os.environ.get("BENCH_METRICS_RUNS", "100000"))


def _seed(connection) -> None:
    seed_members(connection, MEMBERS)
    seed_lots(connection, MEMBERS)  # one ledger entry per member
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO webhook_subscriptions (id, url, events, secret, active, created_at) "
            "VALUES ('sub_1', 'https://example.com/h', '[\"*\"]', 'whsec_x', true, now())"
        )
        cursor.execute(f"""INSERT INTO outbox_events (id, type, occurred_at, data, dispatched_at)
            SELECT lpad(n::text, 26, '0'), 'order.points_awarded', now() - (n || ' seconds')::interval, '{{}}',
                   CASE WHEN n > 1000 THEN now() END
            FROM generate_series(1, {DELIVERIES}) n""")
        cursor.execute("""INSERT INTO webhook_deliveries (id, subscription_id, event_id, status, attempts,
                next_attempt_at, created_at, retrying_since)
            SELECT 'dlv' || n, 'sub_1', lpad(n::text, 26, '0'),
                   CASE WHEN n % 100 = 0 THEN 'pending' WHEN n % 97 = 0 THEN 'dead' ELSE 'delivered' END, 1,
                   now(), now(), now()
            FROM generate_series(1001, (SELECT count(*) FROM outbox_events)) n""")
        cursor.execute(f"""INSERT INTO touches
                (id, member_id, kind, occasion, channel, due_at, status, reason, attempts, created_at)
            SELECT 'tch' || n, 'mbr_bench' || lpad((n % {MEMBERS})::text, 10, '0'), 'birthday', 'y' || n, 'sms',
                   now() - ((n % 720) || ' hours')::interval,
                   CASE WHEN n % 3 = 0 THEN 'sent' WHEN n % 3 = 1 THEN 'suppressed' ELSE 'planned' END,
                   CASE WHEN n % 3 = 1 THEN 'quiet_hours' END, 0, now()
            FROM generate_series(1, {TOUCHES}) n""")
        cursor.execute(f"""INSERT INTO job_runs (job, holder, as_of, started_at, finished_at, status, counts)
            SELECT 'webhooks.deliver', 'h:1:x', '2026-11-18', now() - (n || ' minutes')::interval,
                   now() - (n || ' minutes')::interval + interval '2 seconds', 'ok', '{{"delivered": 3}}'
            FROM generate_series(1, {RUNS}) n""")
        cursor.execute("ANALYZE")
    connection.commit()


def run() -> dict:
    from loyalty import ops_metrics
    from loyalty.core.db import Database, utcnow

    with fresh_database("metrics") as url:
        with psql(url) as connection:
            _seed(connection)
        db = Database(url)
        totals = ops_metrics.LedgerTotals()
        timings = []
        for _ in range(8):
            started = time.perf_counter()
            with db.sessions() as session:
                families = ops_metrics.collect(session, now=utcnow().astimezone(UTC), dialect=db.dialect, ledger=totals)
            timings.append((time.perf_counter() - started) * 1000)
        parts = {}
        for name in ("_jobs", "_lease", "_webhooks", "_touches", "_holds"):
            with db.sessions() as session:
                started = time.perf_counter()
                function = getattr(ops_metrics, name)
                function(session) if name == "_holds" else function(session, utcnow())
                parts[name.strip("_")] = round((time.perf_counter() - started) * 1000, 1)
        db.dispose()
    result = {
        "members": MEMBERS,
        "ledger_entries": MEMBERS,
        "deliveries": DELIVERIES,
        "touches": TOUCHES,
        "job_runs": RUNS,
        "families": len(families),
        "scrape_ms": [round(t, 1) for t in timings],
        "steady_scrape_ms_median": round(sorted(timings[2:])[len(timings[2:]) // 2], 1),
        "parts_ms": parts,
    }
    save("metrics_scrape", result)
    return result
