"""One member's tier: what they hold and why, and the floor staff may set by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from loyalty.core.db import utcnow
from loyalty.core.errors import MemberErased, ValidationFailed
from loyalty.core.money import money
from loyalty.members.service import direct, held_tiers, resolve
from loyalty.points.service import lock_members
from loyalty.program.service import settings
from loyalty.tiers import rules
from loyalty.tiers.models import TierChange, TierStanding
from loyalty.tiers.rules import Standing
from loyalty.tiers.service import ladder
from loyalty.tiers.standings import Change, apply, metric_value, qualifying_values, standings

HISTORY = 20


def member_tier(session: Session, *, member_id: str, now: datetime | None = None) -> dict:
    now = now or utcnow()
    member = resolve(session, member_id)
    steps = ladder(session)
    if not steps:  # no ladder yet: nobody holds a tier
        return {
            "member_id": member.id,
            "tier": None,
            "since": member.enrolled_at,
            "kept_until": None,
            "next_tier": None,
            "to_next": None,
            "metric": settings(session).tier_metric,
            "history": [],
            "qualifying_value": None,
            "earned_tier": None,
            "floor": None,
            "discount_percent": None,
            "earn_multiplier": None,
        }
    row = session.get(TierStanding, member.id)
    standing = standings(session, [member.id]).get(member.id) or Standing(rules.rung_of(steps, member.tier_code).code)
    held = rules.rung_of(steps, member.tier_code)
    value = qualifying_values(session, [member.id], end=now)[member.id]
    above, missing = rules.progress(steps, held, value)
    floor_until = standing.floor_until
    floor_on = standing.floor is not None and (floor_until is None or floor_until > now)
    earned = rules.rung_of(steps, standing.earned)
    kept_until = standing.kept_until if earned.code == held.code else None
    if floor_on and standing.floor == held.code:  # the floor holds it too: kept until the later end
        kept_until = max(kept_until, floor_until) if kept_until and floor_until else floor_until
    history = session.scalars(
        select(TierChange)
        .where(TierChange.member_id == member.id)
        .order_by(TierChange.at.desc(), TierChange.id.desc())
        .limit(HISTORY)
    ).all()
    return {
        "member_id": member.id,
        "tier": held.code,
        "since": row.since if row else member.enrolled_at,
        "kept_until": kept_until,
        "earned_tier": earned.code,
        "floor": {"tier": standing.floor, "until": standing.floor_until, "reason": row.floor_reason}
        if floor_on and row
        else None,
        "metric": settings(session).tier_metric,
        "qualifying_value": metric_text(settings(session).tier_metric, value),
        "next_tier": above.code if above else None,
        "to_next": metric_text(settings(session).tier_metric, missing) if above else None,
        "discount_percent": held.discount_percent,
        "earn_multiplier": held.earn_multiplier,
        "history": history,
    }


def metric_text(metric: str, value) -> str:
    """Money with its cents for spend (answered as all money is); whole numbers for points and orders."""
    return money(value) if metric == "spend_12m" else str(metric_value(metric, value))


def floor_end(until: date, zone: str) -> datetime:
    """A floor lasts through its end date in the program's time zone."""
    return datetime.combine(until + timedelta(days=1), time(0), tzinfo=ZoneInfo(zone)).astimezone(UTC)


def set_floor(
    session: Session,
    *,
    member_id: str,
    tier: str | None,
    until: date | None,
    reason: str,
    actor: str,
    now: datetime | None = None,
) -> dict:
    """Staff set a tier by hand until a date: a floor, never lowering what the member earned.
    `tier` None removes the floor."""
    now = now or utcnow()
    program = settings(session)
    steps = ladder(session, fresh=True)
    errors: dict[str, list[str]] = {}
    if not steps:
        errors["tier"] = ["No tier ladder is defined yet (PUT /v1/tiers)."]
    elif tier is not None and tier not in {rung.code for rung in steps}:
        errors["tier"] = [f"`{tier}` is not on the ladder ({', '.join(r.code for r in steps)})."]
    today = now.astimezone(ZoneInfo(program.timezone)).date()
    if tier is not None and until is None:
        errors["until"] = ["A floor needs an end date."]
    elif tier is not None and until is not None and until < today:
        errors["until"] = [f"Must be today ({today}) or later."]
    if errors:
        raise ValidationFailed(errors)
    member = direct(session, member_id, lock=False)
    if member.erased_at is not None:
        raise MemberErased(f"Member `{member.id}` was erased; it can't be changed.")
    # The account, then the member row without its key lock: the order a checkout that upgrades
    # takes them in (its order insert already holds the row's key-share lock).
    lock_members(session, [member.id], now=now)
    held = held_tiers(session, [member.id], lock=True)[member.id]
    row = session.get(TierStanding, member.id, populate_existing=True)
    before = standings(session, [member.id]).get(member.id) or Standing(rules.rung_of(steps, held).code)
    floor_until = floor_end(until, program.timezone) if tier and until else None
    after = Standing(before.earned, before.kept_until, tier, floor_until)
    held_after = rules.effective(steps, after, now=now).code
    change = Change(
        member.id, held, row is not None, before, after, held_after, "floor_set" if tier else "floor_removed"
    )
    apply(session, [change], now=now, actor=actor, note=reason)
    session.get_one(TierStanding, member.id, populate_existing=True).floor_reason = reason if tier else None
    session.flush()
    session.expire_all()  # the bulk updates bypassed the identity map
    return member_tier(session, member_id=member.id, now=now)
