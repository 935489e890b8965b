"""What goes with a touch when it is sent: its gifts, and the fields its message is rendered with."""

from __future__ import annotations

import hashlib
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.orm import Session

from loyalty.points.ledger import Source
from loyalty.points.service import grant_bonus
from loyalty.rewards.service import gift_coupon

if TYPE_CHECKING:
    from loyalty.program.service import ProgramSettings


class GiftedTouch(Protocol):
    """What gifts read of their touch: a stored Touch, or dispatch's plain row of one."""

    @property
    def id(self) -> str: ...
    @property
    def member_id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def occasion(self) -> str: ...


def give_gifts(
    session: Session, touch: GiftedTouch, rule: dict, program: ProgramSettings, now: datetime, actor: str
) -> tuple[str | None, bool]:
    """Gifts don't depend on the message getting through: a birthday gift once a year (the rule's
    gift_points, else the program's birthday_bonus), others once per touch. Returns the coupon code
    given, and whether a reward gift could not be given (out of stock, inactive)."""
    if touch.kind == "birthday":
        points, source = rule["gift_points"] or program.birthday_bonus, Source("birthday", touch.occasion)
    else:
        points, source = rule["gift_points"], Source("touch", touch.id)
    if points:
        grant_bonus(
            session,
            member_id=touch.member_id,
            points=int(points),
            source=source,
            note=f"{touch.kind.replace('_', ' ')} gift",
            now=now,
            actor=actor,
        )
    if not rule.get("reward_id"):
        return None, False
    once = hashlib.sha256(f"{source.type}:{touch.member_id}:{source.id}".encode()).hexdigest()[:27]
    coupon = gift_coupon(
        session, reward_id=rule["reward_id"], member_id=touch.member_id, source_id=f"gift_{once}", now=now
    )
    return (coupon.code, False) if coupon else (None, True)


class TouchLike(Protocol):
    """What a message reads of its touch: a stored Touch, dispatch's plain row of one, or a campaign
    preview's stand-in."""

    @property
    def kind(self) -> str: ...
    @property
    def occasion(self) -> str: ...
    @property
    def due_at(self) -> datetime: ...
    @property
    def source(self) -> str | None: ...


class MemberLike(Protocol):
    """What a message reads of its member: a Member, or dispatch's plain row of one."""

    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str | None: ...
    @property
    def member_number(self) -> str: ...
    @property
    def tier_code(self) -> str | None: ...
    @property
    def city(self) -> str | None: ...


def _occasion_date(touch: TouchLike) -> str:
    """The day being celebrated: planned touches carry it in `source` (birthday, anniversary) or
    in the occasion (holiday); otherwise the day it is sent."""
    if touch.kind == "holiday":
        return touch.occasion.split(":", 1)[0]
    if touch.kind in ("birthday", "anniversary") and touch.source:
        return touch.source
    return touch.due_at.date().isoformat()


# The fields of a message read from the member's available points: a batch whose templates read
# neither needn't count anyone's lots.
POINTS_FIELDS = frozenset({"points", "points_value"})


def context(
    touch: TouchLike,
    member: MemberLike,
    program: ProgramSettings,
    points: dict,
    tier_names: dict,
    rule: dict,
    coupon: str | None,
) -> dict[str, Any]:
    available = max(0, points.get(member.id, 0))
    return {
        "name": member.name or "Member",
        "member_number": member.member_number,
        "tier": member.tier_code or "",
        "tier_name": tier_names.get(member.tier_code, ""),
        "city": member.city or "",
        "points": available,
        "points_value": str((available * program.point_value).quantize(Decimal("0.01"))),
        "currency": program.currency,
        "program": program.name,
        "kind": touch.kind,
        "occasion": touch.occasion,
        "occasion_name": touch.occasion.split(":", 1)[1] if touch.kind == "holiday" else touch.kind.replace("_", " "),
        "date": _occasion_date(touch),
        "coupon": coupon or "",
        "gift_points": rule["gift_points"] or (program.birthday_bonus if touch.kind == "birthday" else 0),
        "years": int(touch.occasion.split(":")[-1])
        if touch.kind == "anniversary" and touch.occasion[-1].isdigit()
        else 0,
    }
