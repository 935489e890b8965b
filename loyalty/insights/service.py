"""Reading insights: one member's, and the program-wide summary."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Callable

from sqlalchemy.orm import Session

from loyalty.core.db import utcnow
from loyalty.core.dates import add_months
from loyalty.insights.models import MemberInsight
from loyalty.members import queries
from loyalty.members.service import resolve
from loyalty.points.service import liability
from loyalty.program.service import settings

_sources: dict[str, Callable] = {}


def use_sources(**sources: Callable) -> None:
    """Features above insights hand in what the summary reads: the spend Pareto (orders), the
    referral funnel (referrals), care outcomes (care), campaign results (campaigns)."""
    _sources.update(sources)


def member_insights(session: Session, *, member_id: str) -> dict:
    member = resolve(session, member_id)
    row = session.get(MemberInsight, member.id)
    if row is None:  # not refreshed since the member enrolled: a prospect until the job runs
        return {"member_id": member.id, "stage": "prospect", "churn_risk": Decimal(0), "orders_total": 0,
                "orders_12m": 0, "spend_12m": Decimal(0), "spend_total": Decimal(0), "refreshed_at": None}
    return row


def summary(session: Session, *, start: datetime | None = None, end: datetime | None = None) -> dict:
    now = utcnow()
    end = end or now
    start = start or add_months(end, -12)
    program = settings(session)
    by_tier_stage = [{"tier": tier, "stage": stage or "unknown", "members": count}
                     for tier, stage, count in queries.counts_by_tier_and(session, MemberInsight.stage,
                                                                          MemberInsight.member_id)]
    top, total, buyers = _sources["pareto"](session, start=start, end=end)
    points = liability(session, now=now)
    return {
        "start": start, "end": end, "currency": program.currency,
        "members_by_tier_and_stage": sorted(by_tier_stage, key=lambda r: (r["tier"] or "", r["stage"])),
        "top_20_percent": {"buyers": buyers, "spend": top, "total_spend": total,
                           "share": (top / total).quantize(Decimal("0.0001")) if total else Decimal(0)},
        "points_liability": {"points": points, "value": (points * program.point_value).quantize(Decimal("0.01"))},
        "referral_funnel": _sources["referrals"](session, start=start, end=end),
        "care_outcomes": _sources["care"](session, start=start, end=end),
        "campaigns": _sources["campaigns"](session, start=start, end=end),
    }
