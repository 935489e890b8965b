"""Housekeeping jobs of the core."""

from __future__ import annotations

from datetime import UTC, datetime, time

from loyalty.core import idempotency
from loyalty.core.jobs import JobContext


def purge_idempotency(context: JobContext) -> dict[str, int]:
    """Forget Idempotency-Key records older than the replay window (as of the end of the day)."""
    now = datetime.combine(context.as_of, time.max, tzinfo=UTC)
    if now > datetime.now(UTC):
        now = datetime.now(UTC)
    with context.db.unit_of_work() as session:
        deleted = idempotency.purge_expired(session, ttl_hours=context.config.idempotency_ttl_hours, now=now)
    return {"deleted": deleted}
