from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from loyalty.core.db import Base, UTCDateTime

KINDS = ("birthday", "holiday", "anniversary", "follow_up", "complaint_callback", "win_back", "campaign")
# Touches that sell count against the weekly cap and need marketing consent; service touches don't.
PROMOTIONAL = frozenset({"birthday", "holiday", "anniversary", "win_back", "campaign"})
CHANNELS = ("email", "sms", "phone", "push")


class CareRule(Base):
    """How one kind of touch is made: whether, by which channel, with which message, when."""

    __tablename__ = "care_rules"

    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    channel: Mapped[str] = mapped_column(String(10))
    template: Mapped[str] = mapped_column(Text, default="")
    days_before: Mapped[int] = mapped_column(Integer, default=0)
    days_after: Mapped[int] = mapped_column(Integer, default=0)
    gift_points: Mapped[int] = mapped_column(BigInteger, default=0)
    reward_id: Mapped[str | None] = mapped_column(String(32))
    custom_dates: Mapped[list] = mapped_column(JSON, default=list)
    inactive_days: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Touch(Base):
    """One contact with one member for one occasion: planned once (the unique key), then sent,
    suppressed with the reason, or handed to staff as a callback and closed with an outcome."""

    __tablename__ = "touches"
    __table_args__ = (
        UniqueConstraint("member_id", "kind", "occasion"),
        Index("ix_touches_due", "status", "due_at"),
        Index("ix_touches_member_due", "member_id", "due_at"),
        Index("ix_touches_callbacks", "channel", "status", "due_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id"))
    kind: Mapped[str] = mapped_column(String(20))
    occasion: Mapped[str] = mapped_column(String(120))
    channel: Mapped[str] = mapped_column(String(10))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # planned -> sent | suppressed | failed | held_out | callback (phone, staff to call) -> done
    status: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str | None] = mapped_column(String(40))  # why suppressed, deferred or failed
    message: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(String(20))
    score: Mapped[int | None] = mapped_column(Integer)
    notes: Mapped[str | None] = mapped_column(Text)
    assignee: Mapped[str | None] = mapped_column(String(100))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    campaign_id: Mapped[str | None] = mapped_column(String(32), index=True)
    # In its campaign's hold-out: dispatch checks it like any touch, then holds it out instead of sending.
    held_out: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    source: Mapped[str | None] = mapped_column(String(120))  # what it is about: an order, a complaint
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Interaction(Base):
    """The interactions log: calls, messages, visits, complaints, feedback, notes."""

    __tablename__ = "interactions"
    __table_args__ = (Index("ix_interactions_member_at", "member_id", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id"))
    kind: Mapped[str] = mapped_column(String(12))
    channel: Mapped[str | None] = mapped_column(String(10))
    content: Mapped[str] = mapped_column(Text)
    score: Mapped[int | None] = mapped_column(Integer)
    staff: Mapped[str | None] = mapped_column(String(100))
    touch_id: Mapped[str | None] = mapped_column(String(32))  # the touch it records the outcome of
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolution: Mapped[str | None] = mapped_column(Text)
    goodwill_points: Mapped[int] = mapped_column(BigInteger, default=0)
