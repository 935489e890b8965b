"""What a campaign achieved: its touches by status, who responded and converted, the points it
gave, and — with a hold-out — conversion against members who were not contacted."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import QueryableAttribute, Session

from loyalty.campaigns import rules
from loyalty.campaigns.models import Campaign
from loyalty.care.models import Touch
from loyalty.points.service import bonus_points_for
from loyalty.purchases.facts import converted as converted_within


class TouchCounts(TypedDict):
    targeted: int
    sent: int
    failed: int
    suppressed: int
    suppressed_by_reason: dict[str | None, int]
    responded: int
    waiting: int
    held_out: int


def counts(session: Session, campaign: Campaign) -> TouchCounts:
    """The campaign's touches by what became of them (held-out members count as targeted)."""
    rows = session.execute(
        select(Touch.status, Touch.reason, Touch.outcome, func.count())
        .where(Touch.campaign_id == campaign.id)
        .group_by(Touch.status, Touch.reason, Touch.outcome)
    ).all()
    found: TouchCounts = {
        "targeted": 0,
        "sent": 0,
        "failed": 0,
        "suppressed": 0,
        "suppressed_by_reason": {},
        "responded": 0,
        "waiting": 0,
        "held_out": 0,
    }
    for status, reason, outcome, count in rows:
        found["targeted"] += count
        if status in ("sent", "callback", "done"):
            found["sent"] += count
        elif status == "failed":
            found["failed"] += count
        elif status == "held_out":
            found["held_out"] += count
        elif status == "suppressed":
            found["suppressed"] += count
            found["suppressed_by_reason"][reason] = found["suppressed_by_reason"].get(reason, 0) + count
        elif status == "planned":
            found["waiting"] += count
        if outcome in ("responded", "reached"):
            found["responded"] += count
    return found


def _converted(
    session: Session, campaign: Campaign, moment: QueryableAttribute[Any], *conditions: ColumnElement[bool]
) -> int:
    """Members of these touches who ordered within conversion_days after `moment` (when their touch
    was sent, or for the hold-out when it would have been)."""
    touched = session.execute(
        select(Touch.member_id, moment).where(Touch.campaign_id == campaign.id, *conditions)
    ).all()
    return converted_within(session, [(member_id, at) for member_id, at in touched], days=campaign.conversion_days)


def of(session: Session, campaign: Campaign) -> dict[str, Any]:
    found = counts(session, campaign)
    converted = _converted(session, campaign, Touch.sent_at, Touch.sent_at.is_not(None))
    converted_held = _converted(session, campaign, Touch.closed_at, Touch.status == "held_out")
    touch_ids = list(session.scalars(select(Touch.id).where(Touch.campaign_id == campaign.id)))
    return {
        **found,
        "converted": converted,
        "converted_held_out": converted_held,
        "points_spent": bonus_points_for(session, "touch", touch_ids),
        **rules.lift(
            contacted=found["sent"], converted=converted, held=found["held_out"], converted_held=converted_held
        ),
    }


def summary(session: Session, *, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Campaigns launched in [start, end) with their results, for the insights summary."""
    launched = session.scalars(
        select(Campaign).where(Campaign.launched_at >= start, Campaign.launched_at < end).order_by(Campaign.launched_at)
    )
    return [{"id": c.id, "name": c.name, "status": c.status, **of(session, c)} for c in launched]
