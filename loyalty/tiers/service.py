"""Tier ladder use cases (the ladder API and grading arrive with the tiers feature)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from loyalty.tiers.models import Tier


def entry_tier_code(session: Session) -> str | None:
    """The lowest rung, where every new member starts; None while no ladder is defined."""
    return session.scalar(select(Tier.code).order_by(Tier.rank).limit(1))


def place_new_member(session: Session, member) -> None:
    if member.tier_code is None:
        member.tier_code = entry_tier_code(session)


def tier_terms(session: Session, code: str | None) -> tuple[Decimal, Decimal]:
    """(discount percent, earn multiplier) of a tier; no tier: no discount, multiplier 1."""
    tier = session.get(Tier, code) if code else None
    if tier is None:
        return Decimal(0), Decimal(1)
    return Decimal(tier.discount_percent), Decimal(tier.earn_multiplier)
