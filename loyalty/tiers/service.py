"""Tier ladder use cases (the ladder API and grading arrive with the tiers feature)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from loyalty.tiers.models import Tier


def entry_tier_code(session: Session) -> str | None:
    """The lowest rung, where every new member starts; None while no ladder is defined."""
    return session.scalar(select(Tier.code).order_by(Tier.rank).limit(1))


def place_new_member(session: Session, member) -> None:
    if member.tier_code is None:
        member.tier_code = entry_tier_code(session)
