"""The one clock every test runs on.

The suite must pass at any hour, on any day of the month and in any host time zone, so no test
reads the wall clock: an autouse fixture (tests/conftest.py) pins time at NOW, ticking from there
so durations still pass. NOW is a Wednesday at 10:00 in the program's zone (Asia/Shanghai), mid-month,
inside working hours and away from any public holiday; a test that cares about another instant
travels there itself with time_machine.

Use NOW / TODAY (the program's date at NOW) instead of datetime.now() / date.today(): the host's
date is the program's only by luck (18:00 UTC is already tomorrow in Shanghai).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

PROGRAM_ZONE = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 18, 2, 0, tzinfo=UTC)  # 10:00 on Wednesday 18 November in Shanghai
TODAY: date = NOW.astimezone(PROGRAM_ZONE).date()


def now() -> datetime:
    """The (pinned, ticking) current instant, aware, in UTC."""
    return datetime.now(UTC)


def today() -> date:
    """The program's date now: what `--as-of` means for a job run today."""
    return datetime.now(UTC).astimezone(PROGRAM_ZONE).date()


def days_ago(days: float) -> datetime:
    return now() - timedelta(days=days)
