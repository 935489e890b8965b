"""What a scheduled job is: a named function run as of a date, printing counts.

Each job opens its own units of work (one per batch), is safe to run twice and
returns what it did as a dict of counts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from importlib import import_module
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from loyalty.config import Config
from loyalty.core.db import Database
from loyalty.core.models import JobRun
from loyalty.core.progress import Progress


@dataclass(frozen=True)
class JobContext:
    db: Database
    config: Config
    as_of: date
    progress: Progress | None = None  # shown on a terminal only

    def batch_done(self, rows: int = 0) -> None:
        """Jobs that work in batches say so after each one (progress on a terminal, nothing otherwise)."""
        if self.progress is not None:
            self.progress.step(rows)


@dataclass(frozen=True)
class Job:
    name: str
    target: str  # "module:function", so the registry imports nothing until a job runs
    schedule: str  # crontab (minute hour day month day-of-week), in the program's timezone
    description: str
    idle: str = "nothing was due"  # what a run that changed nothing means, said on its summary line

    def load(self) -> Callable[[JobContext], dict[str, int]]:
        module, _, function = self.target.partition(":")
        run: Callable[[JobContext], dict[str, int]] = getattr(import_module(module), function)
        return run


def day_end(as_of: date, zone: str, now: datetime) -> datetime:
    """The end of `as_of` in the program's time zone, but never later than now: what a job run
    "as of" a date treats as the present."""
    end = datetime.combine(as_of + timedelta(days=1), time(0), tzinfo=ZoneInfo(zone)).astimezone(UTC)
    return min(end, now)


def future_refusal(as_of: date, *, today: date, zone: str) -> str | None:
    """Why no job runs as of `as_of`, or None. A job as of a later day would plan, expire or review
    what hasn't happened (care.plan would plan next year's touches, and a win-back for someone who
    ordered today), so every job refuses it alike. "Today" is the program's, not the host's."""
    if as_of <= today:
        return None
    return (
        f"{as_of} is after today ({today} in {zone}, the program's time zone): the future hasn't happened. "
        "Run a job as of today or an earlier date."
    )


def summary_line(job: Job, as_of: date, counts: dict[str, int], seconds: float) -> str:
    """The line `loyalty jobs run` ends with: the counts, and in words when there was nothing to do."""
    figures = ", ".join(f"{key}={value}" for key, value in counts.items())
    if any(counts.values()):
        return f"{job.name} as of {as_of}: {figures} ({seconds:.1f} s)"
    return f"{job.name} as of {as_of}: nothing to do, {job.idle}" + (f" ({figures})" if figures else "")


def latest_successes(session: Session) -> list[JobRun]:
    """The last successful run of each job (one row per job), for /metrics."""
    last = (
        select(JobRun.job, func.max(JobRun.id).label("id")).where(JobRun.status == "ok").group_by(JobRun.job).subquery()
    )
    return list(session.scalars(select(JobRun).join(last, last.c.id == JobRun.id).order_by(JobRun.job)))
