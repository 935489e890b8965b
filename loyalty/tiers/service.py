"""Tier ladder use cases: the ladder, the entry tier, the terms used at checkout."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import delete, func, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from loyalty.core.cache import TTLCache, database_key
from loyalty.core.errors import ValidationFailed
from loyalty.members.models import Member
from loyalty.members.service import tier_holders
from loyalty.program.service import settings, update_program
from loyalty.tiers.models import Tier, TierStanding
from loyalty.tiers.rules import Rung, ladder_errors


def entry_tier_code(session: Session) -> str | None:
    """The lowest rung, where every new member starts; None while no ladder is defined."""
    return session.scalar(select(Tier.code).order_by(Tier.rank).limit(1))


def place_new_member(session: Session, member: Member) -> None:
    if member.tier_code is None:
        member.tier_code = entry_tier_code(session)


_ladders: TTLCache[list[Rung]] = TTLCache(ttl=5.0)


def _load_ladder(session: Session | Connection) -> list[Rung]:
    rows = session.execute(
        select(Tier.code, Tier.rank, Tier.threshold, Tier.discount_percent, Tier.earn_multiplier).order_by(Tier.rank)
    )
    return [
        Rung(code, rank, Decimal(threshold), Decimal(discount), Decimal(multiplier))
        for code, rank, threshold, discount, multiplier in rows
    ]


def ladder(session: Session | Connection | Engine, *, fresh: bool = False) -> list[Rung]:
    """The ladder lowest rank first, cached per worker for a few seconds (changes here clear it). An
    engine opens a connection only when the cache is stale."""
    if fresh:
        _ladders.clear()
    return _ladders.get(database_key(session), lambda: _load_ladder_from(session))


def _load_ladder_from(bind: Session | Connection | Engine) -> list[Rung]:
    if isinstance(bind, Engine):
        with bind.connect() as connection:
            return _load_ladder(connection)
    return _load_ladder(bind)


def tier_terms(session: Session | Connection | Engine, code: str | None) -> tuple[Decimal, Decimal]:
    """(discount percent, earn multiplier) of a tier; no tier: no discount, multiplier 1.
    An unknown code reloads the cached ladder once."""
    if not code:
        return Decimal(0), Decimal(1)
    rung = next((r for r in ladder(session) if r.code == code), None) or next(
        (r for r in ladder(session, fresh=True) if r.code == code), None
    )
    return (rung.discount_percent, rung.earn_multiplier) if rung else (Decimal(0), Decimal(1))


def get_ladder(session: Session) -> dict:
    return {
        "tiers": list(session.scalars(select(Tier).order_by(Tier.rank))),
        "tier_metric": settings(session).tier_metric,
    }


def put_ladder(session: Session, *, tiers: list[dict], tier_metric: str | None = None) -> dict:
    """Replace the whole ladder, judged as one. Nobody is re-graded here: members keep their tier
    until the nightly evaluation applies the new thresholds. A code members hold can't vanish."""
    errors = ladder_errors(
        [Rung(t["code"], t["rank"], t["threshold"], t["discount_percent"], t["earn_multiplier"]) for t in tiers]
    )
    held = tier_holders(session, outside={t["code"] for t in tiers})
    for code, count in standing_holders(session, outside={t["code"] for t in tiers}).items():
        held[code] = max(held.get(code, 0), count)
    for code, count in sorted(held.items()):
        errors.setdefault("tiers", []).append(f"Tier `{code}` is held by {count} members; keep it in the ladder.")
    if errors:
        raise ValidationFailed(errors)
    session.execute(delete(Tier))
    session.flush()
    session.add_all(Tier(**t) for t in tiers)
    session.flush()
    if tier_metric is not None:
        update_program(session, changes={"tier_metric": tier_metric})
    _ladders.clear()
    return get_ladder(session)


def standing_holders(session: Session, *, outside: set[str]) -> dict[str, int]:
    """Codes outside the given set still earned or set as a floor: they can't leave the ladder."""
    held: dict[str, int] = {}
    for column in (TierStanding.earned_code, TierStanding.floor_code):
        for code, count in session.execute(
            select(column, func.count()).where(column.is_not(None), column.not_in(outside)).group_by(column)
        ):
            assert code is not None  # the WHERE keeps only set codes
            held[code] = held.get(code, 0) + count
    return held
