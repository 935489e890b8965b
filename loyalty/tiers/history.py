"""Tier changes as member timeline items (a timeline source, handed to members by loyalty.wiring)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from loyalty.members.timeline import before_clause
from loyalty.tiers.models import TierChange


def timeline_changes(session: Session, member_ids: list[str], before, limit: int) -> list[dict]:
    """Newest first, before the cursor position `before` = (at, item id) when given."""
    query = select(TierChange).where(TierChange.member_id.in_(member_ids))
    if before:
        query = query.where(before_clause(TierChange.at, TierChange.id, before, "tcg_", numeric=True))
    rows = session.scalars(query.order_by(TierChange.at.desc(), TierChange.id.desc()).limit(limit))
    return [
        {
            "at": r.at,
            "type": "tier.changed",
            "id": f"tcg_{r.id:012d}",
            "data": {"from": r.from_code, "to": r.to_code, "reason": r.reason, "source": r.source},
        }
        for r in rows
    ]
