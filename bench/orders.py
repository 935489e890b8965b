"""Awarded orders per second and redemption latency on PostgreSQL under gunicorn (PRODUCT.md section 4),
against the POS benchmark's yardstick (bench/bare_app.py, bare Flask from memory) in the same run."""

from __future__ import annotations

import os

from bench import pos
from bench.harness import RESULTS, create_key, fresh_database, gunicorn, psql, save, wrk
from bench.seed import member_id, seed_ladder, seed_members

MEMBERS = int(os.environ.get("BENCH_ORDER_MEMBERS", "10000"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
DURATION = int(os.environ.get("BENCH_DURATION", "15"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "8"))


def run(members: int | None = None) -> dict:
    members = members or MEMBERS
    with fresh_database("orders") as url:
        with psql(url) as connection:
            seed_ladder(connection)  # so every order is also graded, as in production
            seed_members(connection, members, tier="regular")
            connection.execute("UPDATE program SET pending_days = 0")
            connection.commit()
        key = create_key(url, "storefront")
        RESULTS.mkdir(parents=True, exist_ok=True)
        members_file = RESULTS / "members.txt"
        members_file.write_text("\n".join(member_id(n) for n in range(members)) + "\n")
        env = {"BENCH_KEY": key, "BENCH_MEMBERS_FILE": str(members_file)}
        here = os.path.dirname(__file__)
        with gunicorn(url, workers=WORKERS) as base:
            # Warmed up as the bare yardstick is (bench/pos.py bare_flask): the first seconds of a
            # fresh worker (imports, first statements prepared) are not what a till meets all day.
            # Its orders are real and awarded too; only those of the measured run are counted.
            warm_up = {**env, "BENCH_RUN": "warm"}
            script = os.path.join(here, "orders.lua")
            wrk(base, script=script, duration=3, env=warm_up, connections=CONNECTIONS, threads=1)
            with psql(url) as connection:
                warm = connection.execute("SELECT count(*) FROM orders").fetchone()[0]
            orders = wrk(
                base,
                script=os.path.join(here, "orders.lua"),
                duration=DURATION,
                env=env,
                connections=CONNECTIONS,
                threads=1,
            )
            redeem = wrk(base, script=os.path.join(here, "redeem.lua"), duration=DURATION, connections=8, env=env)
        with psql(url) as connection:
            awarded, entries, distinct = connection.execute(
                "SELECT (SELECT count(*) FROM orders), count(*), count(DISTINCT source_id) "
                "FROM ledger_entries WHERE kind = 'earn'"
            ).fetchone()
            redeemed = connection.execute("SELECT count(*) FROM ledger_entries WHERE kind = 'redeem'").fetchone()[0]
            negative = connection.execute("SELECT count(*) FROM point_lots WHERE remaining < 0").fetchone()[0]
        bare = pos.bare_flask(url, {"BENCH_KEY": key, "BENCH_IDS": pos.identifiers(members)})
    result = {
        "members": members,
        "gunicorn_workers": WORKERS,
        "duration_s": DURATION,
        "order_posts_per_second": orders["requests_per_second"],
        "awarded_orders": awarded,
        "awarded_orders_per_second": round((awarded - warm) / DURATION, 1),
        "earn_entries": entries,
        "distinct_order_sources": distinct,
        "order_latency_ms": {k: orders.get(k) for k in ("p50_ms", "p90_ms", "p99_ms")},
        "order_non_2xx": orders["non_2xx"],
        "redemptions_per_second": redeem["requests_per_second"],
        "redemptions_captured": redeemed,
        "redemption_latency_ms": {k: redeem.get(k) for k in ("p50_ms", "p90_ms", "p99_ms")},
        "redemption_non_2xx": redeem["non_2xx"],
        "lots_below_zero": negative,
        "bare_flask_per_second": bare["requests_per_second"],
        "awarded_share_of_bare": round((awarded - warm) / DURATION / bare["requests_per_second"], 3),
        # Every stored order earned once and every earn is a stored order; a refused post is a lost one.
        "awarded_exactly_once": entries == distinct == awarded and orders["non_2xx"] == 0,
    }
    save("orders", result)
    return result
