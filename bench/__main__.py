"""`make bench` / `python -m bench [name ...]`: run benchmarks and print their figures."""

from __future__ import annotations

import importlib
import json
import sys

from bench import campaigns, care, export, orders, pos, shared_work, tiers

BENCHMARKS = {
    "orders": orders.run,
    "pos": pos.run,
    "tiers": tiers.run,
    "care": care.run,
    "campaigns": campaigns.run,
    "export": export.run,
    "shared_work": shared_work.run,
}
BENCHMARKS["import_members"] = importlib.import_module("bench.import_members").run
BENCHMARKS["import_orders"] = importlib.import_module("bench.import_orders").run
BENCHMARKS["metrics_scrape"] = importlib.import_module("bench.metrics_scrape").run


def main(names: list[str]) -> None:
    for name in names or list(BENCHMARKS):
        if name not in BENCHMARKS:
            raise SystemExit(f"unknown benchmark {name!r}; one of {', '.join(BENCHMARKS)}")
        print(f"== {name}", flush=True)
        print(json.dumps(BENCHMARKS[name](), indent=2, default=str), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
