"""Webhook subscriptions, the delivery log and replays (admin)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from loyalty.core import signing
from loyalty.core.db import get_or_404, utcnow
from loyalty.core.errors import Conflict, MemberErased, NotFound, ValidationFailed
from loyalty.core.ids import new_id
from loyalty.core.pagination import keyset_page
from loyalty.webhooks import targets
from loyalty.webhooks.models import Attempt, Delivery, OutboxEvent, Subscription
from loyalty.webhooks.outbox import EVENTS


class SubscriptionOut(TypedDict):
    id: str
    url: str
    events: list[str]
    active: bool
    disabled_reason: str | None
    created_at: datetime
    previous_secret_until: datetime | None


class SubscriptionWithSecret(SubscriptionOut):
    secret: str | None  # shown once, when it was made or rotated; else None


class DeliveryOut(TypedDict):
    id: str
    subscription_id: str
    event_id: str
    status: str
    attempts_made: int
    next_attempt_at: datetime | None
    last_status: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


class DeliveryWithAttempts(DeliveryOut):
    attempts: list[Attempt]


def create_subscription(
    session: Session,
    *,
    url: str,
    events: list[str],
    secret: str | None = None,
    allow_private: bool = False,
    default_secret: str = "",
) -> SubscriptionWithSecret:
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(events) - set(EVENTS))
    if unknown:
        errors["events"] = [f"Unknown event types: {', '.join(unknown)} (known: {', '.join(EVENTS)})."]
    if secret is not None:
        try:
            signing.secret_key(secret)
        except ValueError as error:
            errors["secret"] = [str(error)]
    refused = url_refusal(url, allow_private=allow_private)
    if refused:
        errors["url"] = [refused]
    if errors:
        raise ValidationFailed(errors)
    made = secret is None and not default_secret
    subscription = Subscription(
        id=new_id("whk"),
        url=url,
        events=sorted(set(events)),
        secret=secret or default_secret or signing.new_secret(),
        active=True,
        created_at=utcnow(),
    )
    session.add(subscription)
    session.flush()
    # The secret is shown when the service made it; one the caller chose (or LOYALTY_WEBHOOK_SECRET),
    # the caller has.
    return {**_out(subscription), "secret": subscription.secret if made else None}


def url_refusal(url: str, *, allow_private: bool) -> str | None:
    """Why webhooks may not be sent to `url` (checked again at every attempt), or None."""
    try:
        targets.check(url, allow_private=allow_private)
    except targets.Refused as refused:
        return f"Webhooks can't be sent there: {refused}"
    return None


def _out(subscription: Subscription) -> SubscriptionOut:
    previous = signing.in_force(
        subscription.secret, subscription.previous_secret, subscription.previous_secret_until, now=utcnow()
    )[1:]
    return {
        "id": subscription.id,
        "url": subscription.url,
        "events": subscription.events,
        "active": subscription.active,
        "disabled_reason": subscription.disabled_reason,
        "created_at": subscription.created_at,
        "previous_secret_until": subscription.previous_secret_until if previous else None,
    }


def list_subscriptions(session: Session, *, limit: int, cursor: str | None = None) -> dict[str, Any]:
    result = keyset_page(
        session,
        select(Subscription).where(Subscription.deleted_at.is_(None)),
        Subscription.id,
        limit=limit,
        cursor=cursor,
    )
    return {**result, "data": [_out(s) for s in result["data"]]}


def _live(session: Session, subscription_id: str) -> Subscription:
    subscription = session.get(Subscription, subscription_id)
    if subscription is None or subscription.deleted_at is not None:
        raise NotFound(f"No webhook subscription `{subscription_id}`.")
    return subscription


def delete_subscription(session: Session, *, subscription_id: str) -> None:
    subscription = _live(session, subscription_id)
    subscription.deleted_at, subscription.active = utcnow(), False
    session.execute(
        update(Delivery)
        .where(Delivery.subscription_id == subscription.id, Delivery.status == "pending")
        .values(status="dead", next_attempt_at=None, last_error="subscription deleted")
        .execution_options(synchronize_session=False)
    )


def deliveries(
    session: Session, *, subscription_id: str, limit: int, cursor: str | None = None, status: str | None = None
) -> dict[str, Any]:
    _live(session, subscription_id)
    query = select(Delivery).where(Delivery.subscription_id == subscription_id)
    if status:
        query = query.where(Delivery.status == status)
    result = keyset_page(session, query, Delivery.id, limit=limit, cursor=cursor, descending=True)
    ids = [d.id for d in result["data"]]
    attempts: dict[str, list[Attempt]] = {}
    if ids:
        for attempt in session.scalars(select(Attempt).where(Attempt.delivery_id.in_(ids)).order_by(Attempt.id)):
            attempts.setdefault(attempt.delivery_id, []).append(attempt)
    return {**result, "data": [{**_delivery(d), "attempts": attempts.get(d.id, [])} for d in result["data"]]}


def _delivery(d: Delivery) -> DeliveryOut:
    return {
        "id": d.id,
        "subscription_id": d.subscription_id,
        "event_id": d.event_id,
        "status": d.status,
        "attempts_made": d.attempts,
        "next_attempt_at": d.next_attempt_at,
        "last_status": d.last_status,
        "last_error": d.last_error,
        "created_at": d.created_at,
        "delivered_at": d.delivered_at,
    }


def replay(session: Session, *, delivery_id: str) -> DeliveryWithAttempts:
    """Send a delivery again, soon, with the same webhook-id (receivers dedupe on it)."""
    delivery = get_or_404(session, Delivery, delivery_id, what="delivery", lock=True)
    event = session.get(OutboxEvent, delivery.event_id)
    if event is not None and (event.data or {}).get("erased") is True:
        raise MemberErased(f"The member delivery `{delivery_id}` was about was erased; it is not sent again.")
    subscription = session.get_one(Subscription, delivery.subscription_id)
    if subscription.deleted_at is not None or not subscription.active:
        raise Conflict(
            f"The subscription `{subscription.id}` is {'deleted' if subscription.deleted_at else 'disabled'}"
            "; re-create it to receive events again."
        )
    now = utcnow()
    delivery.status, delivery.next_attempt_at, delivery.claimed_until = "pending", now, None
    delivery.retrying_since = now  # a replay gets its own day of retries
    session.flush()
    return {**_delivery(delivery), "attempts": []}
