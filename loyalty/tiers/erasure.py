"""Erasure in the tier history: the changes stay, the free-text notes and floor reasons go."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from loyalty.tiers.models import TierChange, TierStanding


def forget_member(session: Session, member_id: str) -> None:
    session.execute(
        update(TierChange)
        .where(TierChange.member_id == member_id, TierChange.note.is_not(None))
        .values(note=None)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(TierStanding)
        .where(TierStanding.member_id == member_id, TierStanding.floor_reason.is_not(None))
        .values(floor_reason=None)
        .execution_options(synchronize_session=False)
    )
