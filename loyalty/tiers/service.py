"""Tier ladder use cases (the ladder API and grading arrive with the tiers feature)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from loyalty.core.cache import TTLCache
from loyalty.tiers.models import Tier


def entry_tier_code(session: Session) -> str | None:
    """The lowest rung, where every new member starts; None while no ladder is defined."""
    return session.scalar(select(Tier.code).order_by(Tier.rank).limit(1))


def place_new_member(session: Session, member) -> None:
    if member.tier_code is None:
        member.tier_code = entry_tier_code(session)


_ladders: TTLCache[dict[str, tuple[Decimal, Decimal]]] = TTLCache(ttl=5.0)


def _ladder(session: Session) -> dict[str, tuple[Decimal, Decimal]]:
    rows = session.execute(select(Tier.code, Tier.discount_percent, Tier.earn_multiplier))
    return {code: (Decimal(discount), Decimal(multiplier)) for code, discount, multiplier in rows}


def tier_terms(session: Session, code: str | None) -> tuple[Decimal, Decimal]:
    """(discount percent, earn multiplier) of a tier; no tier: no discount, multiplier 1.
    The ladder is cached per worker for a few seconds; an unknown code reloads it."""
    if not code:
        return Decimal(0), Decimal(1)
    key = str(session.get_bind().url)
    ladder = _ladders.get(key, lambda: _ladder(session))
    if code not in ladder:
        _ladders.clear()
        ladder = _ladders.get(key, lambda: _ladder(session))
    return ladder.get(code, (Decimal(0), Decimal(1)))
