from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Index, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from loyalty.core.db import Base, UTCDateTime

STAGES = ("prospect", "new", "active", "at_risk", "lapsed")


class MemberInsight(Base):
    """Per member, as of the last insights.refresh: RFM inputs and scores, stage, churn risk."""

    __tablename__ = "member_insights"
    __table_args__ = (
        Index("ix_member_insights_stage", "stage"),
        Index("ix_member_insights_rfm", "r_score", "f_score", "m_score"),
    )

    # No foreign key: the refresh writes every row from members in the statement that reads them,
    # and members are never deleted; the per-row key check was 17 of the 42 s over a million.
    member_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    orders_total: Mapped[int] = mapped_column(Integer)
    orders_12m: Mapped[int] = mapped_column(Integer)
    spend_12m: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    spend_total: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    first_order_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_order_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    usual_interval_days: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    r_score: Mapped[int | None] = mapped_column(Integer)
    f_score: Mapped[int | None] = mapped_column(Integer)
    m_score: Mapped[int | None] = mapped_column(Integer)
    stage: Mapped[str] = mapped_column(String(10))
    churn_risk: Mapped[Decimal] = mapped_column(Numeric(4, 3))
    refreshed_at: Mapped[datetime] = mapped_column(UTCDateTime())
