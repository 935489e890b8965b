from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from loyalty.core.db import Base, UTCDateTime
from loyalty.core.models import BigIntPK


class Tier(Base):
    """One rung of the ladder; `threshold` is in the program's tier metric (money for spend)."""

    __tablename__ = "tiers"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    rank: Mapped[int] = mapped_column(Integer, unique=True)
    threshold: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    discount_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    earn_multiplier: Mapped[Decimal] = mapped_column(Numeric(6, 3))
    benefits: Mapped[str] = mapped_column(Text, default="")


class TierStanding(Base):
    """Where a member stands beyond the tier code on the member: the tier earned by qualifying and
    until when it is kept, and a staff floor with its end. Members still on the entry tier with no
    floor have no row: there is nothing to review."""

    __tablename__ = "tier_standings"
    __table_args__ = (
        Index("ix_tier_standings_kept_until", "kept_until"),
        Index("ix_tier_standings_floor_until", "floor_until"),
    )

    member_id: Mapped[str] = mapped_column(ForeignKey("members.id"), primary_key=True)
    earned_code: Mapped[str] = mapped_column(String(20))
    since: Mapped[datetime] = mapped_column(UTCDateTime())  # when the tier held was reached
    kept_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    floor_code: Mapped[str | None] = mapped_column(String(20))
    floor_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    floor_reason: Mapped[str | None] = mapped_column(String(500))


class TierChange(Base):
    """The tier history: every change of the tier a member holds, with its reason."""

    __tablename__ = "tier_changes"
    __table_args__ = (Index("ix_tier_changes_member_at", "member_id", "at", "id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id"))
    from_code: Mapped[str | None] = mapped_column(String(20))
    to_code: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(30))  # qualified, retention_ended, floor_set, floor_ended, merged
    note: Mapped[str | None] = mapped_column(String(500))
    source: Mapped[str | None] = mapped_column(String(120))  # e.g. the order that qualified
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str | None] = mapped_column(String(40))
