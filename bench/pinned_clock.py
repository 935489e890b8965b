"""`python -m bench.pinned_clock jobs run care.dispatch`: the `loyalty` command with its clock moved
out of quiet hours, so a dispatch measured at night still sends instead of deferring every touch.

The clock is moved, not frozen: it runs at the real rate from the first moment at or after now when
it is BENCH_CLOCK_FROM (10:00 by default) or later and before BENCH_CLOCK_UNTIL (20:00) in the
program's zone, which the benchmark members share (they have no zone of their own); the default
quiet hours are 21:00-09:00. Never earlier than now, so whatever was due is still due. A benchmark's
tool, not the application's."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

FROM = time.fromisoformat(os.environ.get("BENCH_CLOCK_FROM", "10:00"))
UNTIL = time.fromisoformat(os.environ.get("BENCH_CLOCK_UNTIL", "20:00"))


def offset(now: datetime, zone: ZoneInfo) -> timedelta:
    local = now.astimezone(zone)
    if FROM <= local.time() < UNTIL:
        return timedelta(0)
    day = local.date() if local.time() < FROM else local.date() + timedelta(days=1)
    return datetime.combine(day, FROM, tzinfo=zone).astimezone(UTC) - now


def _program_zone() -> ZoneInfo:
    from bench.harness import psql

    with psql(os.environ["LOYALTY_DATABASE_URL"]) as connection:
        row = connection.execute("SELECT timezone FROM program LIMIT 1").fetchone()
    return ZoneInfo(row[0] if row else os.environ.get("LOYALTY_PROGRAM_TIMEZONE", "Asia/Shanghai"))


def _moved_now():  # compiled here, run as loyalty.core.db's utcnow, with that module's globals
    return datetime.now(UTC) + _bench_clock_shift  # noqa: F821


def main() -> None:
    import loyalty.core.db as db

    # Every module that took `utcnow` by name (`from loyalty.core.db import utcnow`) holds the same
    # function object, so its code is what is replaced, not the module's attribute.
    db._bench_clock_shift = offset(datetime.now(UTC), _program_zone())
    db.utcnow.__code__ = _moved_now.__code__
    from loyalty.cli import main as loyalty

    sys.argv = ["loyalty", *sys.argv[1:]]
    loyalty()


if __name__ == "__main__":
    main()
