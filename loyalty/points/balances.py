"""Stored available balances: what a segment over a whole member base reads instead of summing
every member's lots.

An account's `balance` is its available points (matured unexpired lots less the debt) as counted
at `balance_at`, right until `balance_until`, the next instant one of its open lots matures or expires.
Every statement that locks an account to change its points sets `balance` to NULL (points.ledger),
so a stored balance is only ever read while it is exact; where it isn't (changed since, or past its
time), readers count that member's lots live. `points.balances` counts the stale ones again, under
the same account lock a change takes: no change can slip between its count and its write.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, and_, case, cast, func, or_, select, text, update
from sqlalchemy.orm import aliased
from sqlalchemy.sql.selectable import Subquery

from loyalty.core.claims import skip_locked
from loyalty.core.db import among, utcnow
from loyalty.core.jobs import JobContext
from loyalty.core.logging import get_logger
from loyalty.points.models import PointAccount, PointLot

BATCH = 5000
RESTATE = 10_000  # accounts counted in a run beyond which the table is vacuumed and analysed
log = get_logger("loyalty.jobs.points")


def holds(account: Any, now: datetime) -> ColumnElement[bool]:
    """The account's stored balance is its available points at `now`: counted at or before it (a
    reader's `now` may be older than a count that just committed) and not yet past its time."""
    return and_(
        account.balance.is_not(None),
        account.balance_at <= now,
        or_(account.balance_until.is_(None), account.balance_until > now),
    )


def not_holding(account: Any, now: datetime) -> ColumnElement[bool]:
    """`holds`' complement (spelled out: NOT over a NULL comparison would be NULL, and drop the row)."""
    return or_(account.balance.is_(None), account.balance_at.is_(None), account.balance_at > now, stale(account, now))


def stale(account: Any, now: datetime) -> ColumnElement[bool]:
    """To count again: changed since it was counted, or past its time (one counted after `now` is
    right from then on, and is left as it is)."""
    return or_(account.balance.is_(None), account.balance_until <= now)


def available(now: datetime, *, floor: int | None = None, within: Any = lambda member_id: []) -> Subquery:
    """(member_id, points): every account's available points at `now`, one row each; the stored
    balance where it holds, else the member's matured unexpired lots summed live less the debt.
    `floor`: only the accounts with at least that many points (the stale ones are all kept, and
    their points are what tells). `within(member_id_column)`: extra conditions on the member id.

    One pass over the accounts; the lots are read only for the stale ones (an index probe each)."""
    account = aliased(PointAccount, name="account")
    live = select(func.coalesce(func.sum(PointLot.remaining), 0)).where(
        PointLot.member_id == account.member_id,
        PointLot.remaining > 0,
        PointLot.available_at <= now,
        or_(PointLot.expires_at.is_(None), PointLot.expires_at > now),
    )
    fresh = holds(account, now)
    # As bigint: PostgreSQL's sum of bigints is numeric, a fifth slower to subtract and compare.
    points = case((fresh, account.balance), else_=cast(live.scalar_subquery(), BigInteger) - account.debt)
    kept = [] if floor is None else [or_(and_(fresh, account.balance >= floor), not_holding(account, now))]
    counted = select(account.member_id, points.label("points"))
    return counted.where(*kept, *within(account.member_id)).subquery("balances")


def available_of(member_id: Any, now: Any) -> ColumnElement[int]:
    """One member's available points at `now` as a correlated expression (the POS lookup's): the
    stored balance where it holds, else the matured unexpired lots summed live less the debt. The
    lots are read only when the stored balance doesn't hold (PostgreSQL runs a CASE's subquery
    only for the branch taken), and without an account (no points ever) only the lots count."""
    account = aliased(PointAccount, name="account")

    def lots(owner: Any) -> Any:
        return select(func.coalesce(func.sum(PointLot.remaining), 0)).where(
            PointLot.member_id == owner,
            PointLot.remaining > 0,
            PointLot.available_at <= now,
            or_(PointLot.expires_at.is_(None), PointLot.expires_at > now),
        )

    stored_or_live = case(
        (holds(account, now), account.balance),
        else_=cast(lots(account.member_id).scalar_subquery(), BigInteger) - account.debt,
    )
    of_account = select(stored_or_live).where(account.member_id == member_id).scalar_subquery()
    return func.coalesce(of_account, cast(lots(member_id).scalar_subquery(), BigInteger))


def _open_lot(now: datetime) -> ColumnElement[bool]:
    return and_(
        PointLot.member_id == PointAccount.member_id,
        PointLot.remaining > 0,
        or_(PointLot.expires_at.is_(None), PointLot.expires_at > now),
    )


def live_balance(now: datetime) -> ColumnElement[int]:
    """The account's available points at `now`, from its lots (correlated to PointAccount)."""
    matured = select(func.coalesce(func.sum(PointLot.remaining), 0)).where(_open_lot(now), PointLot.available_at <= now)
    return matured.scalar_subquery() - PointAccount.debt


def _counted(now: datetime) -> dict[str, Any]:
    """SET clauses: each account's balance at `now` and when it next changes by time alone."""
    # A lot not yet matured changes the balance when it matures, a matured one when it expires.
    next_change = case((PointLot.available_at > now, PointLot.available_at), else_=PointLot.expires_at)
    return {
        "balance": live_balance(now),
        "balance_at": now,
        "balance_until": select(func.min(next_change)).where(_open_lot(now)).scalar_subquery(),
    }


def count_stale(session, *, after: str, now: datetime) -> list[str]:
    """Count again the next batch of stale balances after member id `after`, in the caller's
    transaction: the ids counted. An account another transaction holds is being changed: skipped,
    it is stale again when that one commits, for the next run."""
    ids = list(
        session.scalars(
            skip_locked(
                select(PointAccount.member_id)
                .where(PointAccount.member_id > after, stale(PointAccount, now))
                .order_by(PointAccount.member_id),
                limit=BATCH,
            )
        )
    )
    if ids:
        # A new statement: it sees every change committed before these locks were taken.
        session.execute(
            update(PointAccount)
            .where(among(session, PointAccount.member_id, ids))
            .values(**_counted(now))
            .execution_options(synchronize_session=False)
        )
    return ids


def refresh_balances(context: JobContext) -> dict[str, int]:
    """points.balances: count every stale stored balance again, a transaction per batch."""
    now = utcnow()
    counted, after = 0, ""
    while True:
        with context.db.unit_of_work() as session:
            ids = count_stale(session, after=after, now=now)
        if not ids:
            break
        counted, after = counted + len(ids), ids[-1]
        context.batch_done(len(ids))
    if counted >= RESTATE and context.db.dialect == "postgresql":
        # Having rewritten many accounts, do now what autovacuum would get to later: readers plan by
        # how many accounts are stale (a plan made for a million stale was 4 times slower), and each
        # rewritten row left a dead one for every reader's scan to step over (the first count after
        # all million were counted: 0.94 s, then 0.77 s once vacuumed). VACUUM runs outside a transaction.
        with context.db.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM (ANALYZE) point_accounts"))
    log.info("balances_counted", accounts=counted)
    return {"balances_counted": counted}
