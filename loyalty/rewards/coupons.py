"""Coupons: used once, checked without using, listed per member, voided when the redemption that
bought one is reversed. Every code a caller sends is read by `rules.normalise_coupon_code`."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import BindParameter, CursorResult, and_, bindparam, exists, or_, select, update
from sqlalchemy.orm import Session

from loyalty.core.db import utcnow
from loyalty.core.errors import Conflict, NotFound
from loyalty.core.pagination import decode_position, page
from loyalty.members.models import Member
from loyalty.members.service import brief, resolve
from loyalty.points.service import member_for_points
from loyalty.rewards.models import Coupon, Reward
from loyalty.rewards.rules import coupon_status, normalise_coupon_code


class CouponUnusable(Conflict):
    code, title = "coupon_unusable", "The coupon can't be used"


def _find(session: Session, text: str) -> Coupon:
    code = normalise_coupon_code(text)
    coupon = session.get(Coupon, code, populate_existing=True) if code else None
    if coupon is None:
        raise NotFound(
            f"No coupon `{code}`."
            if code
            else f"`{text[:40]}` is not a coupon code: 12 letters and digits, case, spaces and dashes ignored."
        )
    return coupon


def _usable(member) -> bool:
    return not member.erased and member.status == "active"


def _view(coupon: Coupon, reward: Reward | None, member, now: datetime) -> dict:
    status = coupon_status(used_at=coupon.used_at, voided_at=coupon.voided_at, valid_until=coupon.valid_until, now=now)
    return {
        "code": coupon.code,
        "status": status,
        "usable": status == "valid" and _usable(member),
        "member_id": member.id,
        "reward_id": coupon.reward_id,
        "reward": reward,
        "redemption_id": coupon.redemption_id,
        "issued_at": coupon.issued_at,
        "valid_until": coupon.valid_until,
        "used_at": coupon.used_at,
        "order_id": coupon.order_id,
        "voided_at": coupon.voided_at,
    }


def get_coupon(session: Session, *, code: str, now: datetime | None = None) -> dict:
    """A coupon as a till checks it before using it: status, reward, member, valid until."""
    coupon = _find(session, code)
    return _view(coupon, session.get(Reward, coupon.reward_id), brief(session, coupon.member_id), now or utcnow())


def use_coupon(session: Session, *, code: str, order_id: str | None = None, now: datetime | None = None) -> dict:
    """Mark a coupon used, once: a conditional update, so two tills can't both accept it, and a
    reversal voiding it at the same moment can't either. Sent again for the same order: answered as is."""
    now = now or utcnow()
    coupon = _find(session, code)
    member = member_for_points(session, coupon.member_id, redeeming=True)  # blocked, suspended, erased: refused
    # Session.execute is typed Result for any statement; an UPDATE's is a CursorResult.
    used = cast(
        CursorResult[Any],
        session.execute(
            update(Coupon)
            .where(
                Coupon.code == coupon.code,
                Coupon.used_at.is_(None),
                Coupon.voided_at.is_(None),
                or_(Coupon.valid_until.is_(None), Coupon.valid_until > now),
            )
            .values(used_at=now, order_id=order_id)
        ),
    ).rowcount
    session.refresh(coupon)
    if used != 1 and not (order_id and coupon.used_at and coupon.order_id == order_id):
        reason = coupon_status(
            used_at=coupon.used_at, voided_at=coupon.voided_at, valid_until=coupon.valid_until, now=now
        )
        raise CouponUnusable(_WHY[reason].format(code=coupon.code, coupon=coupon), reason=reason)
    return _view(coupon, session.get(Reward, coupon.reward_id), member, now)


_WHY = {
    "used": "Coupon `{code}` was already used at {coupon.used_at:%Y-%m-%dT%H:%M:%SZ}.",
    "void": "Coupon `{code}` was voided: the redemption that bought it was reversed.",
    "expired": "Coupon `{code}` expired at {coupon.valid_until:%Y-%m-%dT%H:%M:%SZ}.",
    "valid": "Coupon `{code}` can't be used now.",
}


def void_coupon(session: Session, *, redemption_id: str, now: datetime) -> bool:
    """Make the coupon a redemption bought unusable; False if it was already used (then nothing changes)."""
    code = session.scalar(select(Coupon.code).where(Coupon.redemption_id == redemption_id))
    if code is None:
        return True
    session.execute(
        update(Coupon)
        .where(Coupon.code == code, Coupon.used_at.is_(None), Coupon.voided_at.is_(None))
        .values(voided_at=now)
    )
    coupon = session.get_one(Coupon, code, populate_existing=True)
    return coupon.used_at is None


def _status_filter(status: str, now: datetime):
    live = and_(Coupon.used_at.is_(None), Coupon.voided_at.is_(None))
    return {
        "used": Coupon.used_at.is_not(None),
        "void": and_(Coupon.used_at.is_(None), Coupon.voided_at.is_not(None)),
        "expired": and_(live, Coupon.valid_until <= now),
        "valid": and_(live, or_(Coupon.valid_until.is_(None), Coupon.valid_until > now)),
    }[status]


def _after(cursor: str | None):
    position = decode_position(cursor)
    if not position:
        return None
    at, code = position
    return or_(Coupon.issued_at < at, and_(Coupon.issued_at == at, Coupon.code < code))


def member_coupons(
    session: Session,
    *,
    member_id: str,
    limit: int,
    cursor: str | None = None,
    status: str | None = None,
    now: datetime | None = None,
) -> dict:
    """A member's coupons (and those of members merged into it), newest first."""
    now = now or utcnow()
    member = resolve(session, member_id)
    ids = [member.id] + list(session.scalars(select(Member.id).where(Member.merged_into == member.id)))
    query = select(Coupon).where(Coupon.member_id.in_(ids))
    if status:
        query = query.where(_status_filter(status, now))
    after = _after(cursor)
    if after is not None:
        query = query.where(after)
    rows = list(session.scalars(query.order_by(Coupon.issued_at.desc(), Coupon.code.desc()).limit(limit + 1)))
    rewards = {r.id: r for r in session.scalars(select(Reward).where(Reward.id.in_({c.reward_id for c in rows})))}
    owner = brief(session, member.id)
    result = page(rows, limit, lambda c: [c.issued_at.isoformat(), c.code])
    result["data"] = [_view(c, rewards.get(c.reward_id), owner, now) for c in result["data"]]
    return result


def coupon_ready_of(member_id_column):
    """A correlated EXISTS: the member has a coupon still usable at the bind parameter `now`."""
    now: BindParameter[datetime] = bindparam("now")
    return exists().where(
        Coupon.member_id == member_id_column,
        Coupon.used_at.is_(None),
        Coupon.voided_at.is_(None),
        or_(Coupon.valid_until.is_(None), Coupon.valid_until > now),
    )


def coupon_owner(code_param):
    """The member a coupon code was issued to, as a scalar subquery."""
    return select(Coupon.member_id).where(Coupon.code == code_param).scalar_subquery()
