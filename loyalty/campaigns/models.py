from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from loyalty.core.db import Base, UTCDateTime


class Segment(Base):
    """A saved filter over members; who is in it is decided when it is read, not when it is saved."""

    __tablename__ = "segments"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    filters: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str | None] = mapped_column(String(100))
    # Deleted segments stay as rows: finished campaigns still name them.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Campaign(Base):
    """A message (and maybe a gift) to a segment, fanned out as care touches at a send rate."""

    __tablename__ = "campaigns"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    segment_id: Mapped[str] = mapped_column(ForeignKey("segments.id"))
    channel: Mapped[str] = mapped_column(String(10))
    template: Mapped[str] = mapped_column(Text)
    gift_points: Mapped[int] = mapped_column(BigInteger, default=0)
    reward_id: Mapped[str | None] = mapped_column(String(32))
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # None: when launched
    send_rate: Mapped[int] = mapped_column(Integer)  # touches per minute
    conversion_days: Mapped[int] = mapped_column(Integer)
    # Share of the segment not contacted, to compare against (who: campaigns.rules.held_out).
    holdout_percent: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    status: Mapped[str] = mapped_column(String(10))  # draft, running, paused, finished
    cursor: Mapped[str] = mapped_column(String(32), default="")  # the last member fanned out
    fanned_out: Mapped[bool] = mapped_column(Boolean, default=False)
    # When a full `send_rate` of touches was last fanned out: another scheduler process running
    # campaigns.run in the same minute leaves the campaign alone (campaigns.rules.fan_out_due).
    fanned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    launched_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by: Mapped[str | None] = mapped_column(String(100))
