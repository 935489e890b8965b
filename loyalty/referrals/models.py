from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from loyalty.core.db import Base, UTCDateTime


class ReferralCode(Base):
    """A member's own code (upper case; input is matched case-insensitively)."""

    __tablename__ = "referral_codes"

    member_id: Mapped[str] = mapped_column(ForeignKey("members.id"), primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Referral(Base):
    """One per referee who signed up with a code: pending until the first order is kept, then
    qualified (rewards granted once) or rejected with the reason. An unknown code is recorded too,
    with no referrer, so staff can see why no referral was made."""

    __tablename__ = "referrals"
    __table_args__ = (
        Index("ix_referrals_referrer_status", "referrer_id", "status", "decided_at"),
        Index("ix_referrals_status_id", "status", "id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    referrer_id: Mapped[str | None] = mapped_column(ForeignKey("members.id"))
    referee_id: Mapped[str] = mapped_column(ForeignKey("members.id"), unique=True)
    code: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(10))  # pending, qualified, rejected
    reason: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    order_id: Mapped[str | None] = mapped_column(String(100))  # the first order that qualified it (or didn't)
    referrer_points: Mapped[int] = mapped_column(BigInteger, default=0)
    referee_points: Mapped[int] = mapped_column(BigInteger, default=0)
