from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from loyalty.core.db import Base, UTCDateTime


class Program(Base):
    """Always the single row with id 1."""

    __tablename__ = "program"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    currency: Mapped[str] = mapped_column(String(3))
    exchange_rates: Mapped[dict] = mapped_column(JSON)
    timezone: Mapped[str] = mapped_column(String(64))
    holiday_country: Mapped[str] = mapped_column(String(8))
    points_per_unit: Mapped[Decimal] = mapped_column(Numeric(18, 6))
    point_value: Mapped[Decimal] = mapped_column(Numeric(18, 6))
    pending_days: Mapped[int] = mapped_column(Integer)
    expiry_months: Mapped[int] = mapped_column(Integer)
    max_redeem_share: Mapped[Decimal] = mapped_column(Numeric(5, 4))
    tier_metric: Mapped[str] = mapped_column(String(20))
    referral: Mapped[dict] = mapped_column(JSON)
    signup_bonus: Mapped[int] = mapped_column(Integer)
    first_order_bonus: Mapped[int] = mapped_column(Integer)
    birthday_bonus: Mapped[int] = mapped_column(Integer)
    excluded_categories: Mapped[list] = mapped_column(JSON, default=list)
    hold_minutes: Mapped[int] = mapped_column(Integer, default=15)
    pos_pending_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Care settings: quiet hours, the weekly cap of promotional touches, the hour touches go out.
    care: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
