"""The console's housekeeping job: sessions idle past their time are deleted.

A session is refused as soon as it has idled too long (sessions.current); this only removes the
rows nobody came back for, so the table holds no more than the people signed in now.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from loyalty.console.sessions import forget_idle
from loyalty.core.jobs import JobContext


def purge_sessions(context: JobContext) -> dict[str, int]:
    now = min(datetime.combine(context.as_of, time.max, tzinfo=UTC), datetime.now(UTC))
    with context.db.unit_of_work() as session:
        deleted = forget_idle(session, idle=timedelta(minutes=context.config.console_idle_minutes), now=now)
    return {"deleted": deleted}
