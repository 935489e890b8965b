"""Catalog upkeep, stock that is never oversold, and issuing coupons (using them: coupons.py)."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from loyalty.core.db import get_or_404, utcnow
from loyalty.core.errors import Conflict, ValidationFailed
from loyalty.core.ids import new_id
from loyalty.core.pagination import keyset_page
from loyalty.rewards.models import Coupon, Reward
from loyalty.rewards.rules import CODE_LENGTH, COUPON_ALPHABET
from loyalty.tiers.models import Tier


class OutOfStock(Conflict):
    code, title = "out_of_stock", "The reward is out of stock"


class RewardUnavailable(Conflict):
    code, title = "reward_unavailable", "The reward can't be redeemed now"


def _check_tier(session: Session, code: str | None) -> None:
    if code is not None and session.get(Tier, code) is None:
        ladder = ", ".join(session.scalars(select(Tier.code).order_by(Tier.rank))) or "none: PUT /v1/tiers"
        raise ValidationFailed({"min_tier": [f"No tier `{code}` (the ladder has {ladder})."]})


def create_reward(session: Session, *, data: dict, now: datetime | None = None) -> Reward:
    now = now or utcnow()
    _check_tier(session, data.get("min_tier"))
    reward = Reward(
        id=new_id("rwd"),
        created_at=now,
        updated_at=now,
        **{"active": True, "coupon_valid_days": 90, "description": "", **data},
    )
    session.add(reward)
    session.flush()
    return reward


def get_reward(session: Session, reward_id: str) -> Reward:
    return get_or_404(session, Reward, reward_id, what="reward")


def update_reward(session: Session, *, reward_id: str, changes: dict, now: datetime | None = None) -> Reward:
    reward = get_reward(session, reward_id)
    if "min_tier" in changes:
        _check_tier(session, changes["min_tier"])
    for name, value in changes.items():
        setattr(reward, name, value)
    if reward.valid_from and reward.valid_until and reward.valid_until <= reward.valid_from:
        raise ValidationFailed({"valid_until": ["Must be after valid_from."]})
    if reward.kind in ("amount_off", "percent_off") and reward.value is None:
        raise ValidationFailed({"value": [f"A {reward.kind} reward needs a value."]})
    if (
        reward.kind == "percent_off"
        and reward.value is not None
        and (reward.value > 100 or reward.value != round(reward.value, 2))
    ):
        raise ValidationFailed({"value": ["A percent off is at most 100, with at most 2 decimals."]})
    reward.updated_at = now or utcnow()
    session.flush()
    return reward


def list_rewards(session: Session, *, limit: int, cursor: str | None = None, active: bool | None = None) -> dict:
    query = select(Reward)
    if active is not None:
        query = query.where(Reward.active.is_(active))
    return keyset_page(session, query, Reward.id, limit=limit, cursor=cursor)


def check_redeemable(session: Session, reward: Reward, *, member_tier: str | None, now: datetime) -> None:
    if not reward.active:
        raise RewardUnavailable(f"Reward `{reward.id}` is not active.")
    if (reward.valid_from and now < reward.valid_from) or (reward.valid_until and now >= reward.valid_until):
        raise RewardUnavailable(f"Reward `{reward.id}` is outside its validity.")
    if reward.min_tier:
        need = session.get(Tier, reward.min_tier)
        have = session.get(Tier, member_tier) if member_tier else None
        if need is not None and (have is None or have.rank < need.rank):
            raise RewardUnavailable(
                f"Reward `{reward.id}` needs tier {reward.min_tier} or above.", min_tier=reward.min_tier
            )


def take_stock(session: Session, reward_id: str) -> None:
    """One unit, atomically: a conditional update can't sell the last unit twice."""
    # Session.execute is typed Result for any statement; an UPDATE's is a CursorResult.
    taken = cast(
        CursorResult[Any],
        session.execute(
            update(Reward)
            .where(Reward.id == reward_id, Reward.stock.is_not(None), Reward.stock > 0)
            .values(stock=Reward.stock - 1)
        ),
    ).rowcount
    if taken == 1:
        return
    stock = session.scalar(select(Reward.stock).where(Reward.id == reward_id))
    if stock is not None:
        raise OutOfStock(f"Reward `{reward_id}` is out of stock.")


def give_back_stock(session: Session, reward_id: str) -> None:
    session.execute(
        update(Reward).where(Reward.id == reward_id, Reward.stock.is_not(None)).values(stock=Reward.stock + 1)
    )


def issue_coupon(session: Session, *, reward: Reward, redemption_id: str, member_id: str, now: datetime) -> Coupon:
    code = "".join(secrets.choice(COUPON_ALPHABET) for _ in range(CODE_LENGTH))
    coupon = Coupon(
        code=code,
        redemption_id=redemption_id,
        reward_id=reward.id,
        member_id=member_id,
        issued_at=now,
        valid_until=now + timedelta(days=reward.coupon_valid_days),
    )
    session.add(coupon)
    session.flush()
    return coupon


def gift_coupon(session: Session, *, reward_id: str, member_id: str, source_id: str, now: datetime) -> Coupon | None:
    """A reward given, not bought (a care gift): one coupon per source, from stock, while the reward
    is active and valid; None when it can't be given (then nothing is taken)."""
    existing = session.scalar(select(Coupon).where(Coupon.redemption_id == source_id))
    if existing is not None:
        return existing
    reward = session.get(Reward, reward_id)
    if reward is None:
        return None
    if (
        not reward.active
        or (reward.valid_from and now < reward.valid_from)
        or (reward.valid_until and now >= reward.valid_until)
    ):
        return None  # a gift ignores the tier minimum: staff chose who gets it
    try:
        take_stock(session, reward_id)
    except OutOfStock:
        return None
    return issue_coupon(session, reward=reward, redemption_id=source_id, member_id=member_id, now=now)
