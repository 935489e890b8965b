from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, ForeignKey, Index, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from loyalty.core.db import Base, UTCDateTime

STATUSES = ("held", "captured", "cancelled", "expired", "reversed")


class Redemption(Base):
    __tablename__ = "redemptions"
    __table_args__ = (Index("ix_redemptions_status_expires", "status", "expires_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id"), index=True)
    points: Mapped[int] = mapped_column(BigInteger)
    value: Mapped[Decimal] = mapped_column(Numeric(18, 4))
    status: Mapped[str] = mapped_column(String(10))
    order_id: Mapped[str | None] = mapped_column(String(100), index=True)
    order_amount: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    reward_id: Mapped[str | None] = mapped_column(ForeignKey("rewards.id"))
    coupon_code: Mapped[str | None] = mapped_column(String(20))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    actor: Mapped[str | None] = mapped_column(String(40))
    # Points given back: by refunds of its order (in their proportion) or all at once by a reversal.
    points_returned: Mapped[int] = mapped_column(BigInteger, default=0)
    reversed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reversal_reason: Mapped[str | None] = mapped_column(String(500))


class Allocation(Base):
    """Points a hold took from a lot; given back if the hold is cancelled or expires."""

    __tablename__ = "redemption_allocations"

    redemption_id: Mapped[str] = mapped_column(ForeignKey("redemptions.id"), primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("point_lots.id"), primary_key=True)
    points: Mapped[int] = mapped_column(BigInteger)
