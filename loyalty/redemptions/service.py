"""Holds take points out of lots at once (so two holds can't spend the same points);
capture writes the ledger entry; cancel or expiry gives the points back."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from loyalty.core.db import utcnow
from loyalty.core.errors import Conflict, NotFound, ValidationFailed
from loyalty.core.ids import new_id
from loyalty.points import ledger
from loyalty.points.ledger import Source
from loyalty.points.models import PointLot
from loyalty.points.rules import NotEnoughPoints, max_redeemable
from loyalty.points.service import InsufficientPoints, member_for_points
from loyalty.program.service import settings
from loyalty.redemptions.models import Allocation, Redemption
from loyalty.rewards import service as rewards
from loyalty.webhooks.outbox import emit

OPEN = "held"


class RedemptionClosed(Conflict):
    code, title = "redemption_not_held", "The redemption is no longer held"


def get_redemption(session: Session, redemption_id: str, *, lock: bool = False) -> Redemption:
    query = select(Redemption).where(Redemption.id == redemption_id).execution_options(populate_existing=True)
    redemption = session.scalars(query.with_for_update() if lock else query).first()
    if redemption is None:
        raise NotFound(f"No redemption `{redemption_id}`.")
    return redemption


def _check_share(
    session: Session,
    *,
    member_id: str,
    order_id: str | None,
    order_amount: Decimal | None,
    points: int,
    share: Decimal,
    point_value: Decimal,
) -> None:
    if order_amount is None:
        return
    # An order id is the storefront's: the budget is this member's redemptions against it.
    earlier = (
        session.execute(
            select(func.coalesce(func.sum(Redemption.points), 0)).where(
                Redemption.member_id == member_id,
                Redemption.order_id == order_id,
                Redemption.status.in_((OPEN, "captured")),
            )
        ).scalar_one()
        if order_id
        else 0
    )
    most = max_redeemable(available=10**18, amount=order_amount, share=share, point_value=point_value) - int(earlier)
    if points > most:
        raise ValidationFailed(
            {"points": [f"At most {max(most, 0)} points may pay for this order ({share:%} of {order_amount})."]}
        )


def hold(session: Session, *, data: dict, actor: str | None, now: datetime | None = None) -> Redemption:
    now = now or utcnow()
    if not data.get("points") and not data.get("reward_id"):
        raise ValidationFailed({"points": ["Give points or a reward_id."]})
    program = settings(session)
    member = member_for_points(session, data["member_id"], redeeming=True)
    reward = rewards.get_reward(session, data["reward_id"]) if data.get("reward_id") else None
    points = reward.points_cost if reward else data.get("points")
    if not points:
        raise ValidationFailed({"points": ["Give points or a reward_id."]})
    if reward and data.get("points") not in (None, reward.points_cost):
        raise ValidationFailed({"points": [f"Reward `{reward.id}` costs {reward.points_cost} points."]})
    account = ledger.lock_account(session, member.id, now=now)
    # Under the member's lock: every hold of this member waits here, so the budget read next
    # counts each one committed before it (checked before the lock, 2 of 20 concurrent holds passed).
    _check_share(
        session,
        member_id=member.id,
        order_id=data.get("order_id"),
        order_amount=data.get("order_amount"),
        points=points,
        share=Decimal(program.max_redeem_share),
        point_value=Decimal(program.point_value),
    )
    if reward:
        rewards.check_redeemable(session, reward, member_tier=member.tier_code, now=now)
    try:
        takes = ledger.reserve(session, account, points, now=now)
    except NotEnoughPoints as error:
        raise InsufficientPoints(error.available, points) from None
    if reward:
        rewards.take_stock(session, reward.id)
    redemption = Redemption(
        id=new_id("rdm"),
        member_id=member.id,
        points=points,
        value=points * Decimal(program.point_value),
        status=OPEN,
        order_id=data.get("order_id"),
        order_amount=data.get("order_amount"),
        reward_id=reward.id if reward else None,
        expires_at=now + timedelta(minutes=program.hold_minutes),
        created_at=now,
        actor=actor,
    )
    session.add(redemption)
    session.flush()  # the allocations' foreign key needs the row first
    session.add_all(Allocation(redemption_id=redemption.id, lot_id=lot_id, points=taken) for lot_id, taken in takes)
    session.flush()
    if data.get("capture"):
        return _capture(session, redemption, account, actor=actor, now=now, fresh=True)
    return redemption


def _locked(session: Session, redemption_id: str, now: datetime):
    found = get_redemption(session, redemption_id)
    account = ledger.lock_account(session, found.member_id, now=now)
    return get_redemption(session, redemption_id, lock=True), account


def capture(session: Session, *, redemption_id: str, actor: str | None, now: datetime | None = None) -> Redemption:
    now = now or utcnow()
    redemption, account = _locked(session, redemption_id, now)
    if redemption.status == "captured":
        return redemption  # capturing twice is harmless
    if redemption.status == OPEN and redemption.expires_at <= now:
        _give_back(session, redemption, account, status="expired", now=now)
        session.flush()
        error = RedemptionClosed(
            f"Redemption `{redemption.id}` expired at {redemption.expires_at.isoformat()}; its points were given back.",
            redemption_status="expired",
        )
        error.keep_changes = True
        raise error
    if redemption.status != OPEN:
        raise RedemptionClosed(
            f"Redemption `{redemption.id}` is {redemption.status}.", redemption_status=redemption.status
        )
    member_for_points(session, redemption.member_id, redeeming=True)  # blocked since the hold: no spending
    return _capture(session, redemption, account, actor=actor, now=now)


def _capture(
    session: Session, redemption: Redemption, account, *, actor: str | None, now: datetime, fresh: bool = False
) -> Redemption:
    """Spend a held redemption (under the member's lock); `fresh`: made in this transaction."""
    ledger.debit(
        session,
        account,
        kind="redeem",
        points=redemption.points,
        source=Source("redemption", redemption.id),
        now=now,
        actor=actor,
        takes=[],
        fresh_source=fresh,
        note=f"reward {redemption.reward_id}" if redemption.reward_id else None,
    )
    if redemption.reward_id:
        coupon = rewards.issue_coupon(
            session,
            reward=rewards.get_reward(session, redemption.reward_id),
            redemption_id=redemption.id,
            member_id=redemption.member_id,
            now=now,
        )
        redemption.coupon_code = coupon.code
    redemption.status, redemption.closed_at = "captured", now
    session.flush()
    emit(
        session,
        "redemption.captured",
        {
            "redemption_id": redemption.id,
            "member_id": redemption.member_id,
            "points": redemption.points,
            "order_id": redemption.order_id,
            "reward_id": redemption.reward_id,
            "coupon_code": redemption.coupon_code,
        },
        at=now,
    )
    return redemption


def cancel(session: Session, *, redemption_id: str, now: datetime | None = None) -> Redemption:
    now = now or utcnow()
    redemption, account = _locked(session, redemption_id, now)
    if redemption.status in ("cancelled", "expired"):
        return redemption
    if redemption.status == "captured":
        raise RedemptionClosed(
            f"Redemption `{redemption.id}` was captured; it can't be cancelled.", redemption_status="captured"
        )
    _give_back(session, redemption, account, status="cancelled", now=now)
    session.flush()
    return redemption


def _give_back(session: Session, redemption: Redemption, account, *, status: str, now: datetime) -> None:
    rows = session.execute(
        select(Allocation.lot_id, Allocation.points, PointLot.expires_at)
        .join(PointLot, PointLot.id == Allocation.lot_id)
        .where(Allocation.redemption_id == redemption.id)
        .order_by(Allocation.lot_id)
    ).all()
    live = [(lot_id, points) for lot_id, points, expires in rows if expires is None or expires > now]
    ledger.return_to_lots(session, account, live, now=now)
    # Points whose lot expired while they were held expire now, as they would have in the lot.
    expired = sum(points for _lot, points, expires in rows if expires is not None and expires <= now)
    if expired:
        ledger.expire_held(session, account, points=expired, source=Source("redemption", redemption.id), now=now)
    if redemption.reward_id:
        rewards.give_back_stock(session, redemption.reward_id)
    redemption.status, redemption.closed_at = status, now


def release_one(session: Session, *, redemption_id: str, now: datetime) -> int:
    """Release a hold if it is still open and past its time; 1 if it was released."""
    redemption, account = _locked(session, redemption_id, now)
    if redemption.status != OPEN or redemption.expires_at > now:
        return 0
    _give_back(session, redemption, account, status="expired", now=now)
    session.flush()
    return 1


def cancel_open_holds(session: Session, _survivor, member) -> None:
    """On merge: the tombstone's open holds are cancelled, so their points move with its lots."""
    for redemption_id in list(
        session.scalars(select(Redemption.id).where(Redemption.member_id == member.id, Redemption.status == OPEN))
    ):
        cancel(session, redemption_id=redemption_id)
