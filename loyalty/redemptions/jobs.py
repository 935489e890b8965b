"""redemptions.release: holds past their time give their points (and reward stock) back."""

from __future__ import annotations

from sqlalchemy import select

from loyalty.core.db import utcnow
from loyalty.core.jobs import JobContext, day_end
from loyalty.program.service import settings
from loyalty.redemptions.models import Redemption
from loyalty.redemptions.service import OPEN, release_one

BATCH = 500


def release_holds(context: JobContext) -> dict[str, int]:
    """Holds past their time by the end of the as-of day (never later than now), each in its own
    short transaction: one member's lock at a time, never two."""
    with context.db.unit_of_work() as session:
        now = day_end(context.as_of, settings(session).timezone, utcnow())
    released = 0
    while True:
        with context.db.unit_of_work() as session:
            ids = list(
                session.scalars(
                    select(Redemption.id)
                    .where(Redemption.status == OPEN, Redemption.expires_at <= now)
                    .order_by(Redemption.expires_at, Redemption.id)
                    .limit(BATCH)
                )
            )
        for redemption_id in ids:
            with context.db.unit_of_work() as session:
                released += release_one(session, redemption_id=redemption_id, now=now)
        context.batch_done(len(ids))
        if len(ids) < BATCH:
            break
    return {"released": released}
