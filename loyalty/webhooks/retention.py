"""events.purge: outbox events and their delivery log are kept for LOYALTY_EVENT_RETENTION_DAYS, then deleted.

An event goes once it is older than the retention and has nothing left to send: it was fanned
out and none of its deliveries is still pending. (Retries stop after 24 h, so only a stuck
deliverer keeps one longer; that event then waits for it rather than vanish unsent.)
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from loyalty.core.db import among, utcnow
from loyalty.core.jobs import JobContext
from loyalty.core.logging import get_logger
from loyalty.webhooks.models import Attempt, Delivery, OutboxEvent

log = get_logger("loyalty.jobs.webhooks")
BATCH = 1000


def purge_batch(session: Session, *, before: datetime, limit: int = BATCH) -> int:
    """Delete up to `limit` finished events that occurred before `before`, their deliveries and attempts."""
    pending = exists().where(Delivery.event_id == OutboxEvent.id, Delivery.status == "pending")
    ids = list(
        session.scalars(
            select(OutboxEvent.id)
            .where(OutboxEvent.occurred_at < before, OutboxEvent.dispatched_at.is_not(None), ~pending)
            .order_by(OutboxEvent.occurred_at, OutboxEvent.id)
            .limit(limit)
        )
    )
    if not ids:
        return 0
    deliveries = select(Delivery.id).where(among(session, Delivery.event_id, ids))
    session.execute(
        delete(Attempt).where(Attempt.delivery_id.in_(deliveries)).execution_options(synchronize_session=False)
    )
    session.execute(
        delete(Delivery).where(among(session, Delivery.event_id, ids)).execution_options(synchronize_session=False)
    )
    session.execute(
        delete(OutboxEvent).where(among(session, OutboxEvent.id, ids)).execution_options(synchronize_session=False)
    )
    return len(ids)


def purge_events(context: JobContext) -> dict[str, int]:
    """Daily: one transaction per batch, so a million old events never make one long lock."""
    now = min(datetime.combine(context.as_of, time.max, tzinfo=UTC), utcnow())
    before = now - timedelta(days=context.config.event_retention_days)
    counts = {"events": 0}
    while True:
        with context.db.unit_of_work() as session:
            deleted = purge_batch(session, before=before)
        counts["events"] += deleted
        context.batch_done(deleted)
        if deleted < BATCH:
            break
    log.info("events_purged", **counts)
    return counts
