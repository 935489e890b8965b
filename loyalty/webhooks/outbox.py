"""The one low door events go through: `emit` writes in the caller's transaction and knows no feature."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import insert
from sqlalchemy.orm import Session

from loyalty.core.db import utcnow
from loyalty.core.ids import new_id
from loyalty.webhooks.models import OutboxEvent

EVENTS = ("member.created", "order.points_awarded", "points.expiring", "tier.changed", "redemption.captured",
          "referral.qualified", "touch.due", "campaign.finished")

_INSERT = insert(OutboxEvent)


def _plain(value):
    """Event data as JSON will carry it: instants in ISO 8601, money as decimal strings."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def emit(session: Session, event_type: str, data: dict, *, at: datetime | None = None) -> str:
    if event_type not in EVENTS:
        raise ValueError(f"Unknown event type {event_type!r}")
    event_id = new_id("evt")
    session.connection().execute(_INSERT, {"id": event_id, "type": event_type, "occurred_at": at or utcnow(),
                                           "data": _plain(data)})
    return event_id


def emit_many(session: Session, event_type: str, rows: list[dict], *, at: datetime | None = None) -> None:
    """One statement for a batch job's events."""
    if event_type not in EVENTS:
        raise ValueError(f"Unknown event type {event_type!r}")
    if rows:
        session.connection().execute(_INSERT, [{"id": new_id("evt"), "type": event_type,
                                                "occurred_at": at or utcnow(), "data": _plain(data)} for data in rows])
