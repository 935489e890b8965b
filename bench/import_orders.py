"""`loyalty import orders` of 1,000,000 order lines on PostgreSQL: rows/s, seconds, peak memory.

Members are seeded by COPY (bench/seed.py) and named in the file by member number. The file is
what a shop's export looks like: 1-5 lines an order, three years of history, a few refunds, and
lines of one order not always together (every tenth order has a line moved a few thousand rows on).
Peak RSS is measured for the whole file and for a tenth of it: flat memory means the two are close.
"""

from __future__ import annotations

import csv
import os
import random
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.harness import BIN, RESULTS, fresh_database, psql, save
from bench.seed import member_number, seed_ladder, seed_members

LINES = int(os.environ.get("BENCH_IMPORT_ORDER_LINES", "1000000"))
MEMBERS = int(os.environ.get("BENCH_IMPORT_ORDER_MEMBERS", "100000"))
HEADER = [
    "order_id",
    "member_number",
    "placed_at",
    "sku",
    "category",
    "quantity",
    "unit_price",
    "discount",
    "channel",
    "store",
    "shipping",
    "refunded_amount",
]


def write_file(path: Path, lines: int, members: int, *, seed: int = 14, prefix: str = "B") -> int:
    """The file, and how many orders it holds."""
    rng = random.Random(seed)
    start = datetime.now(UTC) - timedelta(days=3 * 365)
    moved: list[tuple[int, list[str]]] = []  # (row to write it after, row)
    written = orders = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        while written < lines:
            orders += 1
            number = member_number(rng.randrange(members))
            placed = (start + timedelta(seconds=rng.randrange(3 * 365 * 86400))).replace(microsecond=0).isoformat()
            pos = rng.random() < 0.3
            count = min(rng.randint(1, 5), lines - written)
            refund = f"{rng.randint(1, 5)}.00" if rng.random() < 0.05 else ""
            for index in range(count):
                row = [
                    f"{prefix}{orders:09d}",
                    number,
                    placed,
                    f"SKU-{rng.randrange(5000):05d}",
                    rng.choice(("tea", "teaware", "gift", "snack")),
                    str(rng.randint(1, 4)),
                    f"{rng.randint(10, 400)}.{rng.randrange(100):02d}",
                    "0" if rng.random() < 0.8 else "5.00",
                    "pos" if pos else "online",
                    "SH-01" if pos else "",
                    "8.00" if index == 0 and not pos else "",
                    refund if index == 0 else "",
                ]
                if index and orders % 10 == 0:
                    moved.append((written + 3000, row))  # this order's line turns up later in the file
                else:
                    writer.writerow(row)
                written += 1
                while moved and moved[0][0] <= written:
                    writer.writerow(moved.pop(0)[1])
        for _due, row in moved:
            writer.writerow(row)
    return orders


def _import(url: str, path: Path) -> dict:
    started = time.monotonic()
    process = subprocess.Popen(
        [str(BIN / "loyalty"), "import", "orders", str(path), "--rejects", f"{path}.rejects.csv"],
        env={**os.environ, "LOYALTY_DATABASE_URL": url, "LOYALTY_LOG_LEVEL": "WARNING"},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    summary = process.stdout.read()
    _pid, status, usage = os.wait4(process.pid, 0)  # this child's own peak RSS, in KiB
    process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.monotonic() - started
    if process.returncode not in (0, 1):
        raise RuntimeError(f"import orders exited {process.returncode}: {summary[-2000:]}")
    return {
        "seconds": round(seconds, 1),
        "summary": summary.strip(),
        "exit": process.returncode,
        "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
    }


def run() -> dict:
    RESULTS.mkdir(parents=True, exist_ok=True)
    small, full = RESULTS / "import-orders-small.csv", RESULTS / "import-orders.csv"
    small_orders = write_file(small, LINES // 10, MEMBERS, seed=15, prefix="S")
    orders = write_file(full, LINES, MEMBERS)
    with fresh_database("import_orders") as url:
        with psql(url) as connection:
            seed_ladder(connection)  # every order is graded, as in production
            seed_members(connection, MEMBERS, tier="regular")
        tenth = _import(url, small)  # a tenth first: its peak memory is the baseline
        whole = _import(url, full)
        again = _import(url, full)  # a re-run: every order existing
        with psql(url) as connection:
            awarded, entries = connection.execute(
                "SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM ledger_entries WHERE kind = 'earn')"
            ).fetchone()
            staged = connection.execute("SELECT count(*) FROM import_order_lines").fetchone()[0]
    result = {
        "order_lines": LINES,
        "orders": orders,
        "members": MEMBERS,
        "seconds": whole["seconds"],
        "rows_per_second": round(LINES / whole["seconds"]),
        "orders_per_second": round(orders / whole["seconds"]),
        "summary": whole["summary"],
        "exit": whole["exit"],
        "peak_rss_mib": whole["peak_rss_mib"],
        "peak_rss_mib_tenth_of_file": tenth["peak_rss_mib"],
        "rerun_seconds": again["seconds"],
        "rerun_summary": again["summary"],
        "orders_in_db": awarded,
        "earn_entries": entries,
        "staging_rows_left": staged,
        "small_file": {"order_lines": LINES // 10, "orders": small_orders, **tenth},
    }
    assert staged == 0, "a run left staged lines behind"
    assert awarded == orders + small_orders and entries == awarded, "an order was lost or awarded twice"
    save("import_orders", result)
    for path in (small, full):
        path.unlink(missing_ok=True)
        Path(f"{path}.rejects.csv").unlink(missing_ok=True)
    return result
