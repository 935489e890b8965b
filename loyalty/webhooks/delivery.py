"""Getting outbox events to subscribers: fan-out, claiming, sending with `requests`, retrying.

Sending happens outside any transaction: a delivery is claimed (for a while) in one, sent, and
its result recorded in another. A crashed deliverer's claim runs out and the delivery is sent
again with the same `webhook-id`, which is how receivers recognise a repeat.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests
from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.orm import Session, aliased

from loyalty.core import signing
from loyalty.core.claims import WEBHOOK_FAN_OUT, lock_keys, skip_locked
from loyalty.core.db import among
from loyalty.core.ids import new_id
from loyalty.webhooks import targets, transport
from loyalty.webhooks.models import Attempt, Delivery, OutboxEvent, Subscription

RETRY_FOR = timedelta(hours=24)
CLAIM_FOR = timedelta(seconds=60)
ATTEMPT_SECONDS = 10.0  # connect, send and read together: a slow receiver must not stall the queue
EXCERPT_BYTES = 4096  # of an answer, at most this much is read (a huge error page costs nothing)
EXCERPT_CHARS = 500  # ... and this much of it kept in the attempt log
FIRST_RETRY = timedelta(seconds=30)
LONGEST_WAIT = timedelta(hours=2)


def fan_out(session: Session, *, now: datetime, limit: int = 1000) -> tuple[int, int]:
    """Make deliveries for events not yet dispatched, for the active subscriptions that want them:
    (events dispatched, deliveries made).

    One deliverer at a time fans out; another one finding it busy makes none and goes on to send.
    Were two to fan out side by side (each skipping the events the other holds), the one taking the
    later events could commit first and send them before the earlier events had deliveries at all:
    a subscription would get its events out of order (see claim)."""
    if not lock_keys(session, WEBHOOK_FAN_OUT, ["outbox"]):
        return 0, 0
    # Waiting, not skipping, for an event another transaction holds (an erasure scrubbing it): the
    # events after it must not be dispatched before it.
    events = session.execute(
        select(OutboxEvent.id, OutboxEvent.type, OutboxEvent.occurred_at)
        .where(OutboxEvent.dispatched_at.is_(None))
        .order_by(OutboxEvent.id)
        .limit(limit)
        .with_for_update()
    ).all()
    if not events:
        return 0, 0
    subscriptions = session.execute(
        select(Subscription.id, Subscription.events, Subscription.created_at).where(
            Subscription.active.is_(True), Subscription.deleted_at.is_(None)
        )
    ).all()
    # A subscription receives what happens from its creation on, not a backlog from before it.
    rows = [
        {
            "id": new_id("msg"),
            "subscription_id": sub_id,
            "event_id": event_id,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
            "retrying_since": now,
        }
        for event_id, event_type, occurred_at in events
        for sub_id, wanted, since in subscriptions
        if event_type in wanted and occurred_at >= since
    ]
    if rows:
        session.execute(insert(Delivery), rows)
    session.execute(
        update(OutboxEvent)
        .where(among(session, OutboxEvent.id, [e[0] for e in events]))
        .values(dispatched_at=now)
        .execution_options(synchronize_session=False)
    )
    return len(events), len(rows)


@dataclass(frozen=True)
class Message:
    delivery_id: str
    subscription_id: str
    url: str
    secrets: tuple[str, ...]  # those in force when it was claimed: the newest first
    body: bytes


def claim(session: Session, *, now: datetime, limit: int = 8) -> list[Message]:
    """Take, for CLAIM_FOR, the first pending delivery of up to `limit` subscriptions whose first
    pending delivery is due. One subscription's events go one at a time in the order they were written
    (event ids sort by time): a later event waits while an earlier one is being sent or retried."""
    # Per active subscription its first pending event (ix_webhook_deliveries_pending: one probe each),
    # then that delivery if it is due and not claimed: the work is per subscription, not per pending
    # delivery, so a claim stays quick behind a long backlog. SKIP LOCKED: another process claiming at
    # the same moment takes other subscriptions' deliveries (see loyalty/core/claims.py).
    earlier = aliased(Delivery)
    first = (
        select(func.min(earlier.event_id))
        .where(earlier.subscription_id == Subscription.id, earlier.status == "pending")
        .scalar_subquery()
    )
    due = session.execute(
        skip_locked(
            select(
                Delivery.id,
                Subscription.id,
                Subscription.url,
                Subscription.secret,
                Subscription.previous_secret,
                Subscription.previous_secret_until,
                OutboxEvent.type,
                OutboxEvent.occurred_at,
                OutboxEvent.data,
            )
            .select_from(Subscription)
            .join(Delivery, and_(Delivery.subscription_id == Subscription.id, Delivery.event_id == first))
            .join(OutboxEvent, OutboxEvent.id == Delivery.event_id)
            .where(
                Delivery.status == "pending",
                Delivery.next_attempt_at <= now,
                or_(Delivery.claimed_until.is_(None), Delivery.claimed_until <= now),
                Subscription.active.is_(True),
                Subscription.deleted_at.is_(None),
            )
            .order_by(Delivery.next_attempt_at, Delivery.id),
            limit=limit,
            of=Delivery,
        )
    ).all()
    if not due:
        return []
    session.execute(
        update(Delivery)
        .where(among(session, Delivery.id, [row[0] for row in due]))
        .values(claimed_until=now + CLAIM_FOR)
        .execution_options(synchronize_session=False)
    )
    return [
        Message(
            delivery_id,
            sub_id,
            url,
            signing.in_force(secret, previous, previous_until, now=now),
            body(event_type, occurred_at, data),
        )
        for delivery_id, sub_id, url, secret, previous, previous_until, event_type, occurred_at, data in due
    ]


def body(event_type: str, occurred_at: datetime, data: dict) -> bytes:
    """The payload, the same bytes on every retry of a delivery."""
    return json.dumps(
        {"type": event_type, "timestamp": occurred_at.isoformat(), "data": data},
        separators=(",", ":"),
        ensure_ascii=False,
        sort_keys=True,
    ).encode()


@dataclass(frozen=True)
class Result:
    status_code: int | None
    error: str | None
    duration_ms: int
    excerpt: str | None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def send(message: Message, *, now: datetime, allow_private: bool = False, seconds: float = ATTEMPT_SECONDS) -> Result:
    """One attempt, over within `seconds` whatever the receiver does (see transport)."""
    timestamp = int(now.timestamp())
    headers = {
        "content-type": "application/json",
        "webhook-id": message.delivery_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signing.sign_all(message.secrets, message.delivery_id, timestamp, message.body),
        "user-agent": "loyalty-webhooks/1",
    }
    started = time.perf_counter()
    try:
        status, answer = transport.post(
            message.url,
            body=message.body,
            headers=headers,
            allow_private=allow_private,
            seconds=seconds,
            limit=EXCERPT_BYTES,
        )
    except targets.Refused as refused:  # nothing was sent: the address is not one webhooks may go to
        return Result(None, f"Refused: {str(refused)[:300]}", _ms(started), None)
    except (requests.RequestException, OSError) as error:
        return Result(None, f"{type(error).__name__}: {str(error)[:300]}", _ms(started), None)
    excerpt = answer.decode("utf-8", "replace")[:EXCERPT_CHARS] or None
    return Result(status, None, _ms(started), excerpt)


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


def next_wait(attempts: int, rng: random.Random | None = None) -> timedelta:
    """Exponential backoff from 30 s, at most 2 h, with ±20% jitter so retries don't arrive in herds."""
    base = min(FIRST_RETRY * (2 ** max(attempts - 1, 0)), LONGEST_WAIT)
    return base * (0.8 + 0.4 * (rng or random).random())


def record(session: Session, message: Message, result: Result, *, now: datetime) -> str:
    """Write the attempt and what follows from it; returns the delivery's new status."""
    delivery = session.get_one(Delivery, message.delivery_id, with_for_update=True, populate_existing=True)
    session.add(
        Attempt(
            delivery_id=delivery.id,
            at=now,
            status_code=result.status_code,
            error=result.error,
            duration_ms=result.duration_ms,
            response_excerpt=result.excerpt,
        )
    )
    delivery.attempts += 1
    delivery.last_status, delivery.last_error, delivery.claimed_until = result.status_code, result.error, None
    if result.ok:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = "delivered", now, None
    elif result.status_code == 410:  # the receiver says it is gone for good: stop sending to it
        delivery.status, delivery.next_attempt_at = "dead", None
        session.execute(
            update(Subscription)
            .where(Subscription.id == delivery.subscription_id)
            .values(active=False, disabled_reason="the receiver answered 410 Gone")
            .execution_options(synchronize_session=False)
        )
        session.execute(
            update(Delivery)
            .where(
                Delivery.subscription_id == delivery.subscription_id,
                Delivery.status == "pending",
                Delivery.id != delivery.id,
            )
            .values(
                status="dead",
                next_attempt_at=None,
                claimed_until=None,
                last_error="subscription disabled: the receiver answered 410 Gone",
            )
            .execution_options(synchronize_session=False)
        )
    else:
        retry_at = now + next_wait(delivery.attempts)
        if retry_at - delivery.retrying_since > RETRY_FOR:  # retried for a day: give up, replay stays possible
            delivery.status, delivery.next_attempt_at = "dead", None
        else:
            delivery.next_attempt_at = retry_at
    session.flush()
    return delivery.status
