from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from loyalty.core.db import Base, UTCDateTime


class OutboxEvent(Base):
    """An event written in the same transaction as the change it reports, so it is never lost
    and never announces a change that was rolled back."""

    __tablename__ = "outbox_events"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # the webhook-id receivers dedupe on
    type: Mapped[str] = mapped_column(String(40), index=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    data: Mapped[dict] = mapped_column(JSON)
