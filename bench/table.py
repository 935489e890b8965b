"""`make bench` / `python -m bench`: every figure issue 17 names, each the median of BENCH_REPEAT runs
(3 by default), against its target, in one Markdown table with the machine and the date; printed and
prepended to bench/RESULTS.md (earlier runs stay below, newest first).

Sizes: BENCH_MEMBERS (1,000,000) for the million-member figures, BENCH_SMALL_MEMBERS (10,000) for the
small end of "memory flat"; each benchmark's own variable (BENCH_TIER_MEMBERS, ...) still wins for it.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import traceback
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import campaigns, expire, export, orders, pos, tiers
from bench.harness import MEMBERS, ROOT, cpu_model, postgres_version

REPEAT = int(os.environ.get("BENCH_REPEAT", "3"))
SMALL = int(os.environ.get("BENCH_SMALL_MEMBERS", "10000"))
RESULTS_FILE = Path(os.environ.get("BENCH_RESULTS_FILE", ROOT / "bench" / "RESULTS.md"))  # another file for a trial run
TITLE = "# Benchmark results\n\nWritten by `make bench` (bench/table.py); newest run first.\n"
# "Flat": the peak at the large size no more than this multiple of the peak at the small one.
FLAT = 1.25


@dataclass(frozen=True)
class Bench:
    """How the table runs one benchmark: at the large size, and at the small one when a figure
    compares the two (memory)."""

    large: Callable[[], dict]
    small: Callable[[], dict] | None = None


BENCHES = {
    "pos": Bench(lambda: pos.run(sizes=[MEMBERS] if "BENCH_POS_SIZES" not in os.environ else None)),
    "orders": Bench(orders.run),
    "campaigns": Bench(lambda: campaigns.run(), lambda: campaigns.run(SMALL)),
    "export": Bench(lambda: export.run(), lambda: export.run(SMALL)),
    "expire": Bench(lambda: expire.run(), lambda: expire.run(SMALL)),
    "tiers": Bench(lambda: tiers.run(), lambda: tiers.run(SMALL)),
}

Round = dict[str, Any]  # {"large": result, "small": result or None}
Value = float | bool | tuple[float, float]


@dataclass(frozen=True)
class Figure:
    name: str  # may name {members}, {campaign}, {small}: filled from the first run's results
    bench: str
    read: Callable[[Round], Value]
    unit: str
    target: str
    met: Callable[[Any], bool]


def _pos(round_: Round) -> dict:
    return round_["large"]["runs"][-1]  # the largest size asked for


def _memory(job: str, bench: str, key: str) -> Figure:
    return Figure(
        f"memory: {job} peak RSS, {{small}} → {{members}} members",
        bench,
        lambda r: (r["small"][key], r["large"][key]),
        "MB",
        f"flat (large ≤ {FLAT} × small)",
        lambda pair: pair[1] <= FLAT * pair[0],
    )


FIGURES = [
    Figure(
        "POS lookup throughput at {pos_members} members, share of bare Flask (same run)",
        "pos",
        lambda r: _pos(r)["share_of_bare"],
        "×",
        "≥ 0.45",
        lambda v: v >= 0.45,
    ),
    Figure(
        "POS lookup p99 at the server at {pos_members} members (histogram bucket bound)",
        "pos",
        lambda r: _pos(r)["server_latency"]["p99_at_most_ms"],
        "ms",
        "< 5 (bucket ≤ 5 counts)",
        lambda v: v <= 5,
    ),
    Figure(
        "Orders awarded per second, share of bare Flask (same run)",
        "orders",
        lambda r: r["large"]["awarded_share_of_bare"],
        "×",
        "≥ 0.12",
        lambda v: v >= 0.12,
    ),
    Figure(
        "Orders p99 (wrk, client side)",
        "orders",
        lambda r: r["large"]["order_latency_ms"]["p99_ms"],
        "ms",
        "< 40",
        lambda v: v < 40,
    ),
    Figure(
        "Orders: no duplicate or lost award, no refused post",
        "orders",
        lambda r: r["large"]["awarded_exactly_once"],
        "",
        "every run",
        lambda v: v is True,
    ),
    Figure(
        "insights.refresh over {members} members",
        "campaigns",
        lambda r: r["large"]["insights_refresh_seconds"],
        "s",
        "≤ 30",
        lambda v: v <= 30,
    ),
    Figure(
        "care.dispatch (clock moved out of quiet hours)",
        "campaigns",
        lambda r: r["large"]["dispatch_touches_per_second"],
        "touches/s",
        "≥ 8,000",
        lambda v: v >= 8000,
    ),
    Figure(
        "Campaign of {campaign} members sent (campaigns.run + care.dispatch)",
        "campaigns",
        lambda r: r["large"]["campaign_sent_seconds"],
        "s",
        "< 60 (290k members)",
        lambda v: v < 60,
    ),
    Figure(
        "Segment export of {members} members (CSV, whole)",
        "export",
        lambda r: r["large"]["seconds"],
        "s",
        "≤ 60",
        lambda v: v <= 60,
    ),
    Figure(
        "Segment export whole (one row per member, body ended)",
        "export",
        lambda r: r["large"]["complete"],
        "",
        "every run",
        lambda v: v is True,
    ),
    Figure(
        "Segment count on balance_min over {members} members (1% changed since points.balances)",
        "campaigns",
        lambda r: r["large"]["balance_segment_count_seconds"],
        "s",
        "≤ 1",
        lambda v: v <= 1,
    ),
    Figure(
        "points.expire over {members} members, {due} lots due",
        "expire",
        lambda r: r["large"]["first_run_seconds"],
        "s",
        "≤ 60",
        lambda v: v <= 60,
    ),
    Figure(
        "tiers.evaluate heavy night over {members} members ({down} step-downs)",
        "tiers",
        lambda r: r["large"]["first_run_seconds"],
        "s",
        "≤ 60",
        lambda v: v <= 60,
    ),
    _memory("insights.refresh", "campaigns", "insights_refresh_peak_rss_mb"),
    _memory("campaigns.run", "campaigns", "campaign_fan_out_peak_rss_mb"),
    _memory("care.dispatch", "campaigns", "dispatch_peak_rss_mb"),
    _memory("points.balances (every balance counted)", "campaigns", "balances_peak_rss_mb"),
    _memory("points.expire", "expire", "peak_rss_mb"),
    _memory("tiers.evaluate", "tiers", "peak_rss_mb"),
    _memory("segment export (server worker)", "export", "worker_peak_rss_mb"),
]


def _run(name: str, bench: Bench) -> list[Round | str]:
    """BENCH_REPEAT rounds; a round that failed is its error, so the other figures still report."""
    rounds: list[Round | str] = []
    for n in range(REPEAT):
        print(f"== {name} run {n + 1}/{REPEAT}", flush=True)
        try:
            rounds.append({"large": bench.large(), "small": bench.small() if bench.small else None})
        except Exception as error:  # reported in the table (traceback on stderr): the rest still run
            traceback.print_exc()
            rounds.append(f"{type(error).__name__}: {error}".splitlines()[0][:200])
    return rounds


def _median(values: list[Value]) -> Value:
    if isinstance(values[0], tuple):
        return tuple(statistics.median(v[i] for v in values) for i in range(2))  # type: ignore[index,return-value]
    if isinstance(values[0], bool):
        return all(values)
    return statistics.median(values)  # type: ignore[arg-type]


def _show(value: Value, unit: str) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, tuple):
        return f"{_number(value[0])} → {_number(value[1])} {unit}"
    return f"{_number(value)} {unit}".strip()


def _number(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:,.3g}" if value < 10 else f"{value:,.1f}"


def _count(value: object) -> str:
    return f"{value:,}" if isinstance(value, int) else "?"


def _names(results: dict[str, list[Round | str]]) -> dict[str, dict[str, str]]:
    """What each benchmark's figure names refer to, from its first run that finished."""
    out = {}
    for bench, rounds in results.items():
        first = next((r for r in rounds if isinstance(r, dict)), None)
        large, small = (first["large"], first["small"] or {}) if first else ({}, {})
        out[bench] = {
            "members": _count(large.get("members", MEMBERS)),
            "small": _count(small.get("members", SMALL)),
            "pos_members": _count(_pos(first)["members"]) if first and bench == "pos" else "?",
            "campaign": _count(large.get("segment_members")),
            "due": _count(large.get("lots_due")),
            "down": _count(large.get("history_rows")),
        }
    return out


def table(results: dict[str, list[Round | str]]) -> str:
    names = _names(results)
    lines = ["| figure | median | runs | target | met? |", "| --- | --- | --- | --- | --- |"]
    met_count = 0
    for figure in FIGURES:
        rounds = results.get(figure.bench, [])
        values: list[Value] = []
        errors: list[str] = []
        for round_ in rounds:
            if isinstance(round_, str):
                errors.append(round_)
                continue
            try:
                values.append(figure.read(round_))
            except (KeyError, TypeError, IndexError) as error:
                errors.append(f"not in the result: {error!r}")
        name = figure.name.format_map(defaultdict(lambda: "?", names.get(figure.bench, {})))
        runs = "; ".join(
            [", ".join(_show(v, "").strip() for v in values)] * bool(values) + [f"error: {e}" for e in errors]
        )
        if not values:
            lines.append(f"| {name} | — | {runs or 'not run'} | {figure.target} | no (not measured) |")
            continue
        median = _median(values)
        met = figure.met(median) and not errors
        met_count += met
        lines.append(
            f"| {name} | {_show(median, figure.unit)} | {runs} | {figure.target} | {'yes' if met else '**no**'} |"
        )
    lines.append("")
    lines.append(f"Targets met: {met_count} of {len(FIGURES)}.")
    return "\n".join(lines)


def _commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    return head + (" with uncommitted changes" if git("status", "--porcelain", "--untracked-files=no") else "")


def header(started: datetime) -> str:
    return "\n".join(
        [
            f"## {started:%Y-%m-%d %H:%M} UTC — {MEMBERS:,} members, median of {REPEAT}",
            "",
            f"- date: {started:%Y-%m-%d %H:%M} UTC (took {(datetime.now(UTC) - started).total_seconds() / 60:.0f} min)",
            f"- machine: {cpu_model()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}",
            f"- PostgreSQL {postgres_version()}, Python {platform.python_version()}",
            f"- sizes: {MEMBERS:,} members (memory also at {SMALL:,}); orders over {orders.MEMBERS:,} members,"
            f" {orders.DURATION} s of wrk, {orders.WORKERS} gunicorn workers",
            f"- commit: {_commit()}",
        ]
    )


def write(section: str, path: Path = RESULTS_FILE) -> None:
    earlier = path.read_text() if path.exists() else ""
    earlier = earlier[len(TITLE) :].lstrip("\n") if earlier.startswith(TITLE) else earlier
    path.write_text(TITLE + "\n" + section.rstrip("\n") + "\n" + ("\n" + earlier if earlier else ""))


def main() -> None:
    started = datetime.now(UTC)
    needed = list(dict.fromkeys(figure.bench for figure in FIGURES))
    results = {name: _run(name, BENCHES[name]) for name in needed}
    section = header(started) + "\n\n" + table(results) + "\n"
    print()
    print(section)
    write(section)
    print(f"written to {RESULTS_FILE}")
