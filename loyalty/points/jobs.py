"""points.expire: expire what is due, in batches, and note what expires in the next 30 days."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, insert, literal, select, update

from loyalty.core.db import UTCDateTime, insert_for, utcnow
from loyalty.core.jobs import JobContext, day_end
from loyalty.core.logging import get_logger
from loyalty.points.ledger import forget_balances
from loyalty.points.models import ExpiryNotice, LedgerEntry, PointAccount, PointLot
from loyalty.points.service import EXPIRING_WINDOW
from loyalty.program.service import settings
from loyalty.webhooks.outbox import emit_many

BATCH = 5000
log = get_logger("loyalty.jobs.points")


def _expire_batch(session, cutoff: datetime, now: datetime) -> tuple[int, int, int]:
    """(lots looked at, lots expired, points expired) for one batch."""
    due = session.execute(
        select(PointLot.id, PointLot.member_id)
        .where(PointLot.remaining > 0, PointLot.expires_at <= cutoff)
        .order_by(PointLot.id)
        .limit(BATCH)
    ).all()
    if not due:
        return 0, 0, 0
    members = sorted({member_id for _id, member_id in due})
    # Same lock order as every request: accounts (by member id), then lots.
    session.execute(
        select(PointAccount.member_id)
        .where(PointAccount.member_id.in_(members))
        .order_by(PointAccount.member_id)
        .with_for_update()
    )
    forget_balances(session, members)  # the end of the day can come after now: a balance can drop
    lots = session.execute(
        select(PointLot.id, PointLot.member_id, PointLot.remaining)
        .where(PointLot.id.in_([lot_id for lot_id, _m in due]), PointLot.remaining > 0, PointLot.expires_at <= cutoff)
        .with_for_update()
    ).all()
    if not lots:  # another run expired them meanwhile
        return len(due), 0, 0
    session.execute(
        insert(LedgerEntry),
        [
            {
                "member_id": member_id,
                "kind": "expire",
                "points": -remaining,
                "created_at": now,
                "source_type": "lot",
                "source_id": str(lot_id),
                "note": "points expired",
                "actor": "job:points.expire",
            }
            for lot_id, member_id, remaining in lots
        ],
    )
    session.execute(update(PointLot).where(PointLot.id.in_([lot_id for lot_id, _m, _r in lots])).values(remaining=0))
    return len(due), len(lots), sum(remaining for _l, _m, remaining in lots)


def _note_expiring(session, cutoff: datetime, now: datetime) -> int:
    upsert = insert_for(session)
    soon = (
        select(PointLot.member_id, PointLot.expires_at, func.sum(PointLot.remaining), literal(now, UTCDateTime()))
        .where(
            PointLot.remaining > 0,
            PointLot.expires_at > max(cutoff, now),
            PointLot.expires_at <= cutoff + EXPIRING_WINDOW,
        )
        .group_by(PointLot.member_id, PointLot.expires_at)
    )
    statement = upsert(ExpiryNotice).from_select(["member_id", "expires_at", "points", "noticed_at"], soon)
    # Counted from RETURNING: INSERT ... SELECT reports no reliable rowcount through every driver.
    noted = session.execute(
        statement.on_conflict_do_nothing().returning(
            ExpiryNotice.member_id, ExpiryNotice.points, ExpiryNotice.expires_at
        )
    ).all()
    emit_many(
        session,
        "points.expiring",
        [
            {"member_id": member_id, "points": int(points), "expires_at": expires_at}
            for member_id, points, expires_at in noted
        ],
        at=now,
    )
    return len(noted)


def expire_due(db, *, cutoff: datetime, now: datetime, batch_done=lambda seen: None) -> tuple[int, int]:
    """Expire every lot due by `cutoff`, a transaction per batch: (lots, points). The job's first half,
    and what `loyalty import orders` runs at its end so imported history leaves no lot unexpired."""
    lots = points = 0
    while True:
        with db.unit_of_work() as session:
            seen, expired_lots, expired_points = _expire_batch(session, cutoff, now)
        if not seen:
            return lots, points
        batch_done(seen)
        lots, points = lots + expired_lots, points + expired_points


def expire_points(context: JobContext) -> dict[str, int]:
    now = utcnow()
    with context.db.unit_of_work() as session:
        cutoff = day_end(context.as_of, settings(session).timezone, now)
    lots, points = expire_due(context.db, cutoff=cutoff, now=now, batch_done=context.batch_done)
    with context.db.unit_of_work() as session:
        notices = _note_expiring(session, cutoff, now)
    log.info("points_expired", lots=lots, points=points, notices=notices)
    return {"lots_expired": lots, "points_expired": points, "expiring_notices": notices}
