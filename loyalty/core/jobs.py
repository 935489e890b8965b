"""What a scheduled job is: a named function run as of a date, printing counts.

Each job opens its own units of work (one per batch), is safe to run twice and
returns what it did as a dict of counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from importlib import import_module
from typing import Callable
from zoneinfo import ZoneInfo

from loyalty.config import Config
from loyalty.core.db import Database


@dataclass(frozen=True)
class JobContext:
    db: Database
    config: Config
    as_of: date


@dataclass(frozen=True)
class Job:
    name: str
    target: str  # "module:function", so the registry imports nothing until a job runs
    schedule: str  # crontab (minute hour day month day-of-week), in the program's timezone
    description: str

    def load(self) -> Callable[[JobContext], dict[str, int]]:
        module, _, function = self.target.partition(":")
        return getattr(import_module(module), function)


def day_end(as_of: date, zone: str, now: datetime) -> datetime:
    """The end of `as_of` in the program's time zone, but never later than now: what a job run
    "as of" a date treats as the present."""
    end = datetime.combine(as_of + timedelta(days=1), time(0), tzinfo=ZoneInfo(zone)).astimezone(timezone.utc)
    return min(end, now)
