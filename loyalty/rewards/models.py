from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from loyalty.core.db import Base, UTCDateTime

KINDS = ("amount_off", "percent_off", "free_item", "gift")


class Reward(Base):
    __tablename__ = "rewards"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(20))
    value: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))  # amount off, or percent off
    points_cost: Mapped[int] = mapped_column(BigInteger)
    stock: Mapped[int | None] = mapped_column(Integer)  # None: unlimited
    min_tier: Mapped[str | None] = mapped_column(String(20))
    valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime())
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    coupon_valid_days: Mapped[int] = mapped_column(Integer, default=90)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Coupon(Base):
    """Issued once per captured reward redemption (or care gift); used at most once, or voided."""

    __tablename__ = "coupons"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    redemption_id: Mapped[str] = mapped_column(String(32), unique=True)
    reward_id: Mapped[str] = mapped_column(ForeignKey("rewards.id"))
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id"), index=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    order_id: Mapped[str | None] = mapped_column(String(100))  # the order it was used on, when the till said
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # its redemption was reversed: unusable
