from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from loyalty.core.db import Base


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
