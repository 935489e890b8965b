"""Reading insights: one member's, and the program-wide summary."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Float, and_, case, cast, func, literal, or_, select
from sqlalchemy.orm import Session

from loyalty import registry
from loyalty.core.dates import add_months
from loyalty.core.db import UTCDateTime, utcnow
from loyalty.insights.figures import _days, figures, unrefreshed
from loyalty.insights.models import MemberInsight
from loyalty.members import queries
from loyalty.members.models import Member
from loyalty.members.service import resolve
from loyalty.points.service import liability
from loyalty.program.service import settings
from loyalty.purchases.facts import top_fifth_share


def member_insights(session: Session, *, member_id: str) -> dict | MemberInsight:
    """As of the last refresh; a member it hasn't seen yet is figured now by the same rules
    (`refreshed_at` null, no RFM scores: those rank everyone at once)."""
    member = resolve(session, member_id)
    row = session.get(MemberInsight, member.id)
    if row is not None:
        return row
    now = utcnow()
    fresh = session.execute(figures(session, now=now, since=add_months(now, -12), members=[member.id])).one()
    return {
        **fresh._asdict(),
        "r_score": None,
        "f_score": None,
        "m_score": None,
        "refreshed_at": None,
        "churn_risk": _decimal(fresh.churn_risk, "0.001"),
        "usual_interval_days": None
        if fresh.usual_interval_days is None
        else _decimal(fresh.usual_interval_days, "0.01"),
        "spend_12m": _decimal(fresh.spend_12m, "0.01"),
        "spend_total": _decimal(fresh.spend_total, "0.01"),
    }


def _decimal(value: object, places: str) -> Decimal:
    return Decimal(str(value)).quantize(Decimal(places))


def stages_by_tier(session: Session, *, now: datetime) -> list[dict]:
    """Live members by tier and stage: as of the last refresh, and members it hasn't seen yet
    figured now by the same rules (so a new member without orders is a prospect here too)."""
    counts: dict[tuple, int] = {}
    for tier, stage, count in queries.counts_by_tier_and(session, MemberInsight.stage, MemberInsight.member_id):
        if stage is not None:  # no row yet: counted below
            counts[(tier, stage)] = counts.get((tier, stage), 0) + count
    fresh = figures(session, now=now, since=add_months(now, -12), members=unrefreshed()).subquery()
    for tier, stage, count in session.execute(
        select(Member.tier_code, fresh.c.stage, func.count())
        .join(fresh, fresh.c.member_id == Member.id)
        .group_by(Member.tier_code, fresh.c.stage)
    ):
        counts[(tier, stage)] = counts.get((tier, stage), 0) + count
    return [
        {"tier": tier, "stage": stage, "members": count}
        for (tier, stage), count in sorted(counts.items(), key=lambda item: (item[0][0] or "", item[0][1]))
    ]


def summary(session: Session, *, start: datetime | None = None, end: datetime | None = None) -> dict:
    now = utcnow()
    end = end or now
    start = start or add_months(end, -12)
    program, wired = settings(session), registry.current()
    top, total, buyers = top_fifth_share(session, start=start, end=end)
    points = liability(session, now=now)
    return {
        "start": start,
        "end": end,
        "currency": program.currency,
        "members_by_tier_and_stage": stages_by_tier(session, now=now),
        "top_20_percent": {
            "buyers": buyers,
            "spend": top,
            "total_spend": total,
            "share": (top / total).quantize(Decimal("0.0001")) if total else Decimal(0),
        },
        "points_liability": {"points": points, "value": (points * program.point_value).quantize(Decimal("0.01"))},
        # Referrals, care and campaigns sit above insights: their parts come through the registry.
        "referral_funnel": wired.referral_funnel(session, start=start, end=end),
        "care_outcomes": wired.care_outcomes(session, start=start, end=end),
        "campaigns": wired.campaign_results(session, start=start, end=end),
    }


def turned(
    session: Session, *, since: datetime, until: datetime, limit: int, after: tuple[str, str] | None = None
) -> list[dict]:
    """Members whose own purchase rhythm carried them into `at_risk` or `lapsed` between `since` and
    `until`, by stage then id, resuming after (stage, id). No stage history is stored: the stage is
    a function of the last order, the usual interval and the time (insights/rules.py), so the moment
    a member crossed 1.5x (at risk) or 2x (lapsed) their interval since the last order is known
    exactly — from the figures of the last refresh (an order placed since then is not yet seen)."""
    usual = cast(MemberInsight.usual_interval_days, Float)
    # Days from the last order to each end of the window.
    start = _days(session, MemberInsight.last_order_at, literal(since, UTCDateTime()))
    end = _days(session, MemberInsight.last_order_at, literal(until, UTCDateTime()))
    stage = case((end > 2 * usual, "lapsed"), else_="at_risk")
    crossed = or_(
        and_(end > 2 * usual, start <= 2 * usual), and_(end > 1.5 * usual, end <= 2 * usual, start <= 1.5 * usual)
    )
    query = (
        select(
            stage.label("stage"), Member.id, Member.name, Member.tier_code, Member.timezone, MemberInsight.last_order_at
        )
        .join(Member, Member.id == MemberInsight.member_id)
        .where(
            MemberInsight.orders_total > 0,
            usual.is_not(None),
            crossed,
            Member.merged_into.is_(None),
            Member.erased_at.is_(None),
        )
    )
    if after:
        query = query.where(or_(stage > after[0], and_(stage == after[0], Member.id > after[1])))
    rows = session.execute(query.order_by(stage, Member.id).limit(limit))
    return [
        {
            "stage": r.stage,
            "member_id": r.id,
            "name": r.name,
            "tier_code": r.tier_code,
            "timezone": r.timezone,
            "last_order_at": r.last_order_at,
        }
        for r in rows
    ]
