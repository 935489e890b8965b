"""Tier ladder use cases: the ladder, entry tier, terms used at checkout (grading comes next)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from loyalty.core.errors import ValidationFailed
from loyalty.members.service import tier_holders
from loyalty.program.service import settings
from loyalty.tiers.rules import Rung, ladder_errors

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


def get_ladder(session: Session) -> dict:
    return {"tiers": list(session.scalars(select(Tier).order_by(Tier.rank))),
            "tier_metric": settings(session).tier_metric}


def put_ladder(session: Session, *, tiers: list[dict]) -> dict:
    """Replace the whole ladder, judged as one. Nobody is re-graded here: members keep their tier
    until the nightly evaluation applies the new thresholds. A code members hold can't vanish."""
    errors = ladder_errors([Rung(t["code"], t["rank"], t["threshold"], t["discount_percent"], t["earn_multiplier"])
                            for t in tiers])
    held = tier_holders(session, outside={t["code"] for t in tiers})
    for code, count in sorted(held.items()):
        errors.setdefault("tiers", []).append(f"Tier `{code}` is held by {count} members; keep it in the ladder.")
    if errors:
        raise ValidationFailed(errors)
    session.execute(delete(Tier))
    session.flush()
    session.add_all(Tier(**t) for t in tiers)
    session.flush()
    _ladders.clear()
    return get_ladder(session)
