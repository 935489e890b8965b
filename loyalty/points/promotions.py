"""Promotions an admin manages: multipliers for a window, categories or channels."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from loyalty.core.cache import TTLCache, database_key
from loyalty.core.db import get_or_404, utcnow
from loyalty.core.errors import ValidationFailed
from loyalty.core.ids import new_id
from loyalty.core.pagination import keyset_page
from loyalty.points.models import Promotion
from loyalty.points.rules import PromotionRule

_active: TTLCache[list[PromotionRule]] = TTLCache(ttl=5.0)


def active_promotions(session: Session) -> list[PromotionRule]:
    """Every active promotion as a pure rule, cached per worker for a few seconds."""

    def load() -> list[PromotionRule]:
        rows = session.scalars(select(Promotion).where(Promotion.active.is_(True)))
        return [
            PromotionRule(
                multiplier=Decimal(p.multiplier),
                starts_at=p.starts_at,
                ends_at=p.ends_at,
                categories=frozenset(p.categories or ()),
                channels=frozenset(p.channels or ()),
            )
            for p in rows
        ]

    return _active.get(database_key(session), load)


def create(session: Session, *, data: dict) -> Promotion:
    promotion = Promotion(id=new_id("prm"), created_at=utcnow(), **data)
    session.add(promotion)
    session.flush()
    _active.clear()
    return promotion


def get(session: Session, promotion_id: str) -> Promotion:
    return get_or_404(session, Promotion, promotion_id, what="promotion")


def update(session: Session, *, promotion_id: str, changes: dict) -> Promotion:
    promotion = get(session, promotion_id)
    for name, value in changes.items():
        setattr(promotion, name, value)
    if promotion.ends_at <= promotion.starts_at:
        raise ValidationFailed({"ends_at": ["Must be after starts_at."]})
    session.flush()
    _active.clear()
    return promotion


def list_page(session: Session, *, limit: int, cursor: str | None = None) -> dict:
    return keyset_page(session, select(Promotion), Promotion.id, limit=limit, cursor=cursor)
