"""Points paid on an order come back: with the order's refunds, in their proportion, or all at
once when staff reverse a redemption. Returned points are a `return` entry and a new lot,
available at once, expiring as any lot credited now does."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from loyalty.core.db import utcnow
from loyalty.core.errors import Conflict, MemberErased
from loyalty.members.models import Member
from loyalty.members.service import brief
from loyalty.points import ledger
from loyalty.points.ledger import Source
from loyalty.points.service import expiry_for
from loyalty.redemptions import rules
from loyalty.redemptions.models import Redemption
from loyalty.redemptions.service import get_redemption
from loyalty.rewards import service as rewards
from loyalty.rewards.coupons import void_coupon


class RedemptionNotReversible(Conflict):
    code, title = "redemption_not_reversible", "The redemption can't be reversed"


def _paid_on(session: Session, *, order_id: str, member_id: str) -> list[Redemption]:
    """Captured points redemptions the member (or a member merged into it) made against the order
    id, whenever they were made: a redemption made before its order arrived is linked by the pair."""
    ids = [member_id] + list(session.scalars(select(Member.id).where(Member.merged_into == member_id)))
    return list(
        session.scalars(
            select(Redemption)
            .where(
                Redemption.order_id == order_id,
                Redemption.member_id.in_(ids),
                Redemption.status == "captured",
                Redemption.reward_id.is_(None),
            )
            .order_by(Redemption.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )


def return_for_refund(
    session: Session,
    account,
    *,
    order_id: str,
    refund_id: str,
    progress: rules.RefundProgress,
    now: datetime,
    actor: str | None,
) -> int:
    """Give back, under the member's lock and in the refund's transaction, what the refund returns
    of the points paid on its order; one entry whose source is the refund. Returns the points."""
    paid = _paid_on(session, order_id=order_id, member_id=account.member_id)
    decided = rules.returns_for_refund([rules.Paid(r.id, r.points, r.points_returned) for r in paid], progress)
    points = sum(decided.values())
    if points <= 0:
        return 0
    ledger.credit(
        session,
        account,
        kind="return",
        points=points,
        source=Source("refund", refund_id),
        now=now,
        available_at=now,
        expires_at=expiry_for(session, now),
        actor=actor,
        earned=False,
        note=f"paid with points on order {order_id}, given back by its refund",
    )
    for redemption in paid:
        redemption.points_returned += decided[redemption.id]
    session.flush()
    return points


def reverse(
    session: Session, *, redemption_id: str, reason: str, actor: str | None, now: datetime | None = None
) -> Redemption:
    """Staff give a captured redemption's points back (what refunds haven't already). A reward's
    only while its coupon is unused; the coupon is then void and the unit back in stock."""
    now = now or utcnow()
    member = brief(session, get_redemption(session, redemption_id).member_id)  # a merged member: its survivor
    if member.erased:
        raise MemberErased(f"Member `{member.id}` was erased; its redemptions stay as they are.")
    account = ledger.lock_account(session, member.id, now=now)
    redemption = get_redemption(session, redemption_id, lock=True)
    if redemption.status == "reversed":
        return redemption  # reversing twice is harmless
    if redemption.status != "captured":
        raise RedemptionNotReversible(
            f"Redemption `{redemption.id}` is {redemption.status}: only a captured one is reversed "
            "(a held one is cancelled).",
            reason="not_captured",
            redemption_status=redemption.status,
        )
    if redemption.reward_id:
        if not void_coupon(session, redemption_id=redemption.id, now=now):
            raise RedemptionNotReversible(
                f"Coupon `{redemption.coupon_code}` was already used: the reward was had.",
                reason="coupon_used",
                coupon_code=redemption.coupon_code,
            )
        rewards.give_back_stock(session, redemption.reward_id)
    points = redemption.points - redemption.points_returned
    if points > 0:
        ledger.credit(
            session,
            account,
            kind="return",
            points=points,
            source=Source("redemption", redemption.id),
            now=now,
            available_at=now,
            expires_at=expiry_for(session, now),
            actor=actor,
            earned=False,
            note=f"redemption reversed: {reason}",
        )
    redemption.status, redemption.points_returned = "reversed", redemption.points
    redemption.reversed_at, redemption.reversal_reason = now, reason
    session.flush()
    return redemption
