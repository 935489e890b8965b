"""One subscription: read it, change it (the URL checked again), and ping it (admin)."""

from __future__ import annotations

from datetime import timedelta
from typing import TypedDict

from sqlalchemy import update
from sqlalchemy.orm import Session

from loyalty.core import signing
from loyalty.core.db import utcnow
from loyalty.core.errors import ValidationFailed
from loyalty.core.ids import new_id
from loyalty.webhooks import delivery
from loyalty.webhooks.models import Delivery
from loyalty.webhooks.service import SubscriptionWithSecret, _live, _out, url_refusal

PAUSED = "paused by an admin"


class PingOut(TypedDict):
    webhook_id: str
    delivered: bool
    status_code: int | None
    error: str | None
    duration_ms: int


def get_subscription(session: Session, *, subscription_id: str) -> SubscriptionWithSecret:
    return {**_out(_live(session, subscription_id)), "secret": None}


def update_subscription(
    session: Session,
    *,
    subscription_id: str,
    allow_private: bool = False,
    url: str | None = None,
    events: list[str] | None = None,
    active: bool | None = None,
    secret: str | None = None,
    rotate_secret: bool = False,
    grace_hours: int = 0,
) -> SubscriptionWithSecret:
    """Change what is given. Pausing (`active` false) stops it as a 410 would: nothing more is sent,
    what it had pending is dead (a replay after resuming brings one back), events meanwhile are not
    queued for it; so a receiver never gets weeks-old events in a burst when it is resumed.

    A new secret (given or made) with `grace_hours` leaves the replaced one signing beside it until
    then: every delivery carries both signatures, and a receiver moves to the new secret at its pace.
    Without it the old secret stops at once (the way to cut off a leaked one). A second rotation
    within a grace period replaces the secret in grace: only two ever sign."""
    subscription = _live(session, subscription_id)
    errors: dict[str, list[str]] = {}
    if url is not None and (refused := url_refusal(url, allow_private=allow_private)):
        errors["url"] = [refused]
    if secret is not None and rotate_secret:
        errors["secret"] = ["Give a secret of your own or ask for a new one (rotate_secret), not both."]
    elif secret is not None:
        try:
            signing.secret_key(secret)
        except ValueError as error:
            errors["secret"] = [str(error)]
    if grace_hours and secret is None and not rotate_secret:
        errors["grace_hours"] = ["A grace period goes with a new secret (secret or rotate_secret)."]
    if errors:
        raise ValidationFailed(errors)
    if url is not None:
        subscription.url = url
    if events is not None:
        subscription.events = sorted(set(events))
    if active is True:
        subscription.active, subscription.disabled_reason = True, None
    elif active is False and subscription.active:
        subscription.active, subscription.disabled_reason = False, PAUSED
        session.execute(
            update(Delivery)
            .where(Delivery.subscription_id == subscription.id, Delivery.status == "pending")
            .values(status="dead", next_attempt_at=None, claimed_until=None, last_error=PAUSED)
            .execution_options(synchronize_session=False)
        )
    if rotate_secret or secret is not None:
        now = utcnow()
        replaced, subscription.secret = subscription.secret, secret or signing.new_secret()
        if grace_hours and replaced != subscription.secret:
            subscription.previous_secret = replaced
            subscription.previous_secret_until = now + timedelta(hours=grace_hours)
        else:
            subscription.previous_secret = subscription.previous_secret_until = None
    session.flush()
    return {**_out(subscription), "secret": subscription.secret if rotate_secret else None}


def ping(session: Session, *, subscription_id: str, allow_private: bool, seconds: float) -> PingOut:
    """Send a signed `ping` now, once, and say what the receiver answered (never retried, not in the
    delivery log). Sent to paused subscriptions too: checking a receiver before resuming is its use."""
    subscription = _live(session, subscription_id)
    now = utcnow()
    message = delivery.Message(
        new_id("msg"),
        subscription.id,
        subscription.url,
        signing.in_force(
            subscription.secret, subscription.previous_secret, subscription.previous_secret_until, now=now
        ),
        delivery.body("ping", now, {"subscription_id": subscription.id}),
    )
    result = delivery.send(message, now=now, allow_private=allow_private, seconds=seconds)
    return {
        "webhook_id": message.delivery_id,
        "delivered": result.ok,
        "status_code": result.status_code,
        "error": result.error,
        "duration_ms": result.duration_ms,
    }
