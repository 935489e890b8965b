from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from loyalty.core.db import Base, UTCDateTime
from loyalty.core.models import BigIntPK


class OutboxEvent(Base):
    """An event written in the same transaction as the change it reports, so it is never lost
    and never announces a change that was rolled back."""

    __tablename__ = "outbox_events"
    __table_args__ = (
        Index(
            "ix_outbox_events_undispatched",
            "id",
            postgresql_where=text("dispatched_at IS NULL"),
            sqlite_where=text("dispatched_at IS NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    type: Mapped[str] = mapped_column(String(40))  # not indexed: nothing reads events by type
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    data: Mapped[dict] = mapped_column(JSON)
    # When its deliveries were made for the subscriptions of the moment (null: not yet).
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The member the event is about (the referee for referral.qualified): erasure scrubs by it.
    member_id: Mapped[str | None] = mapped_column(String(32), index=True)


class Subscription(Base):
    __tablename__ = "webhook_subscriptions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list] = mapped_column(JSON)
    secret: Mapped[str] = mapped_column(String(120))
    # After a rotation with a grace period, the replaced secret signs beside the new one until then,
    # so receivers can switch without losing a delivery (Standard Webhooks allows several signatures).
    previous_secret: Mapped[str | None] = mapped_column(String(120))
    previous_secret_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Delivery(Base):
    """One event for one subscription. Its id is the `webhook-id`: the same on every retry and
    replay, so a receiver that saw it already can tell."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("subscription_id", "event_id"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_subscription", "subscription_id", "id"),
        Index("ix_webhook_deliveries_event", "event_id"),  # erasure and the retention purge go by event
        # Each subscription's first pending delivery, found with one probe per subscription when
        # deliveries are claimed (delivery.claim), however long the delivered history.
        Index(
            "ix_webhook_deliveries_pending",
            "subscription_id",
            "event_id",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    subscription_id: Mapped[str] = mapped_column(ForeignKey("webhook_subscriptions.id"))
    event_id: Mapped[str] = mapped_column(ForeignKey("outbox_events.id"))
    status: Mapped[str] = mapped_column(String(12))  # pending, delivered, dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A deliverer sending it holds it until then; a crashed one's claim runs out.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    retrying_since: Mapped[datetime] = mapped_column(UTCDateTime())  # retries stop 24 h after it (a replay resets it)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Attempt(Base):
    """The delivery log: every try, with what the receiver answered."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (Index("ix_webhook_attempts_delivery", "delivery_id", "id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    delivery_id: Mapped[str] = mapped_column(ForeignKey("webhook_deliveries.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(500))
    duration_ms: Mapped[int] = mapped_column(Integer)
    response_excerpt: Mapped[str | None] = mapped_column(Text)
