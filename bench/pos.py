"""POS lookup throughput and latency at 10,000 and 1,000,000 members on PostgreSQL, against bare
Flask returning the same JSON from memory under the same gunicorn settings (PRODUCT.md section 4)."""

from __future__ import annotations

import os
import random
import re
import tempfile
import urllib.request

from bench.harness import MEMBERS, RESULTS, create_key, fresh_database, gunicorn, job, psql, save, settle, wrk
from bench.seed import member_number, seed_accounts, seed_ladder, seed_lots, seed_members

SIZES = [int(s) for s in os.environ.get("BENCH_POS_SIZES", f"10000,{MEMBERS}").split(",")]
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
DURATION = int(os.environ.get("BENCH_DURATION", "15"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "8"))
TIERS = ["regular"] * 6 + ["silver"] * 2 + ["gold", "vip"]
SCRIPT = os.path.join(os.path.dirname(__file__), "pos.lua")


def identifiers(size: int) -> str:
    """50,000 random members: four in five by card number, one in five by a national phone number."""
    rng = random.Random(size)
    lines = []
    for _ in range(50000):
        n = rng.randrange(size)
        lines.append(member_number(n) if rng.random() < 0.8 else f"139{n:08d}")
    path = RESULTS / f"pos-ids-{size}.txt"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def _buckets(base: str) -> dict[float, float]:
    text = urllib.request.urlopen(f"{base}/metrics", timeout=10).read().decode()
    found: dict[float, float] = {}
    pattern = re.compile(r"loyalty_http_request_duration_seconds_bucket\{([^}]*)\} ([\d.e+]+)")
    for labels, value in pattern.findall(text):
        if 'endpoint="/v1/pos/members/<identifier>"' in labels and 'status="200"' in labels:
            le = re.search(r'le="([^"]+)"', labels).group(1)
            bound = float("inf") if le == "+Inf" else float(le)
            found[bound] = found.get(bound, 0) + float(value)
    return found


def _server_latency(before: dict, after: dict) -> dict:
    """The server's own timing from its Prometheus histogram: the bucket holding p50/p99."""
    counts = {bound: after.get(bound, 0) - before.get(bound, 0) for bound in after}
    total = counts.get(float("inf"), 0)
    if not total:
        return {}
    out = {"requests": int(total), "share_within_10ms": round(counts.get(0.01, 0) / total, 4)}
    for name, q in (("p50_at_most_ms", 0.5), ("p99_at_most_ms", 0.99)):
        out[name] = next(bound * 1000 for bound in sorted(counts) if counts[bound] >= q * total)
    return out


def bare_flask(url: str, env: dict) -> dict:
    """The yardstick: bench/bare_app.py under the same gunicorn settings, asked the same way (pos.lua,
    `env` naming the key and the identifiers), after the same warm-up."""
    with gunicorn(url, workers=WORKERS, app="bench.bare_app:app") as base:
        wrk(base, script=SCRIPT, duration=3, env=env, connections=CONNECTIONS, threads=1)
        return wrk(base, script=SCRIPT, duration=DURATION, env=env, connections=CONNECTIONS, threads=1)


def _one(size: int) -> dict:
    with fresh_database("pos") as url:
        with psql(url) as connection:
            seed_ladder(connection)
            seed_members(connection, size, tier=lambda n: TIERS[n % 10])
            seed_lots(connection, size)
            seed_accounts(connection)  # every member with points has the account their changes lock
            connection.execute("ANALYZE")  # (unanalysed, the accounts' first count was planned as scans)
            connection.commit()
        # The balances counted, as the 10-minute points.balances job keeps them: the lookup reads a
        # member's stored balance where it holds (points.balances.available_of) and the lots otherwise.
        job(url, "points.balances")
        with psql(url) as connection:
            settle(connection)
        env = {"BENCH_KEY": create_key(url, "pos"), "BENCH_IDS": identifiers(size)}
        with tempfile.TemporaryDirectory() as metrics_dir:
            with gunicorn(url, workers=WORKERS, extra_env={"PROMETHEUS_MULTIPROC_DIR": metrics_dir}) as base:
                wrk(base, script=SCRIPT, duration=3, env=env, connections=CONNECTIONS, threads=1)  # warm up
                before = _buckets(base)
                served = wrk(base, script=SCRIPT, duration=DURATION, env=env, connections=CONNECTIONS, threads=1)
                server = _server_latency(before, _buckets(base))
        bare = bare_flask(url, env)
    return {
        "members": size,
        "lookups_per_second": served["requests_per_second"],
        "non_2xx": served["non_2xx"],
        "client_latency_ms": {k: served.get(k) for k in ("p50_ms", "p90_ms", "p99_ms")},
        "server_latency": server,
        "bare_flask_per_second": bare["requests_per_second"],
        "bare_client_latency_ms": {k: bare.get(k) for k in ("p50_ms", "p99_ms")},
        "share_of_bare": round(served["requests_per_second"] / bare["requests_per_second"], 3),
    }


def run(sizes: list[int] | None = None) -> dict:
    RESULTS.mkdir(parents=True, exist_ok=True)
    result = {
        "gunicorn_workers": WORKERS,
        "connections": CONNECTIONS,
        "duration_s": DURATION,
        "runs": [_one(size) for size in sizes or SIZES],
    }
    save("pos", result)
    return result
