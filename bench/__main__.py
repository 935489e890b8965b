"""`make bench` / `python -m bench`: every issue 17 figure, median of BENCH_REPEAT runs, against its
target, printed and prepended to bench/RESULTS.md (bench/table.py).
`python -m bench NAME [NAME ...]`: those benchmarks once each, their whole results as JSON."""

from __future__ import annotations

import importlib
import json
import sys

from bench import campaigns, care, expire, export, orders, pos, shared_work, table, tiers

BENCHMARKS = {
    "orders": orders.run,
    "pos": pos.run,
    "tiers": tiers.run,
    "care": care.run,
    "campaigns": campaigns.run,
    "export": export.run,
    "expire": expire.run,
    "shared_work": shared_work.run,
}
BENCHMARKS["import_members"] = importlib.import_module("bench.import_members").run
BENCHMARKS["import_orders"] = importlib.import_module("bench.import_orders").run
BENCHMARKS["metrics_scrape"] = importlib.import_module("bench.metrics_scrape").run


def main(names: list[str]) -> None:
    if not names:
        table.main()
        return
    for name in names:
        if name not in BENCHMARKS:
            raise SystemExit(f"unknown benchmark {name!r}; one of {', '.join(BENCHMARKS)}")
        print(f"== {name}", flush=True)
        print(json.dumps(BENCHMARKS[name](), indent=2, default=str), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
