from __future__ import annotations

import marshmallow as ma

from loyalty.core.fields import ResponseSchema, StrictBoolean, StrictInteger
from loyalty.core.schemas import ListArgsSchema
from loyalty.webhooks.outbox import EVENTS
from loyalty.webhooks.rules import parse_target


def _target_url(value: str) -> None:
    """Well formed, http(s), no user name; where it points is checked by the service (it may resolve)."""
    try:
        parse_target(value)
    except ValueError as error:
        raise ma.ValidationError(str(error)) from None


GRACE_HOURS_MAX = 7 * 24  # a week: long enough to roll a receiver fleet, short enough for a leaked secret


class SubscriptionInSchema(ma.Schema):
    url = ma.fields.String(required=True, validate=[ma.validate.Length(max=2000), _target_url])
    events = ma.fields.List(
        ma.fields.String(validate=ma.validate.OneOf(EVENTS)),
        required=True,
        validate=ma.validate.Length(min=1, max=len(EVENTS)),
    )
    secret = ma.fields.String(
        validate=ma.validate.Length(max=120),
        metadata={"description": "Optional whsec_ + base64 of 24-64 bytes; the service makes one when absent"},
    )


class SubscriptionUpdateSchema(ma.Schema):
    url = ma.fields.String(
        validate=[ma.validate.Length(max=2000), _target_url],
        metadata={"description": "Checked like a new one; pending deliveries go to it"},
    )
    events = ma.fields.List(
        ma.fields.String(validate=ma.validate.OneOf(EVENTS)), validate=ma.validate.Length(min=1, max=len(EVENTS))
    )
    active = StrictBoolean(
        metadata={
            "description": "false pauses it: nothing more is sent, what was pending "
            "is dead (replayable), new events are not queued for it; "
            "true resumes it, also after a 410 disabled it"
        }
    )
    secret = ma.fields.String(
        validate=ma.validate.Length(max=120), metadata={"description": "A new whsec_ secret of your own"}
    )
    rotate_secret = StrictBoolean(
        metadata={"description": "true: the service makes a new secret and shows it once, in this answer"}
    )
    grace_hours = StrictInteger(
        validate=ma.validate.Range(min=0, max=GRACE_HOURS_MAX),
        metadata={
            "description": "With `secret` or `rotate_secret`: for this many hours the replaced secret keeps signing "
            "beside the new one (two `v1,` signatures in webhook-signature), so receivers switch "
            "without losing a delivery. 0 (the default): the old secret stops at once"
        },
    )


class PingSchema(ResponseSchema):
    webhook_id = ma.fields.String(metadata={"description": "The ping's webhook-id"})
    delivered = ma.fields.Boolean(metadata={"description": "The receiver answered 2xx"})
    status_code = ma.fields.Integer(allow_none=True)
    error = ma.fields.String(allow_none=True, metadata={"description": "Why no answer came (refused, timeout...)"})
    duration_ms = ma.fields.Integer()


class SubscriptionSchema(ResponseSchema):
    optional_fields = frozenset({"secret"})

    id = ma.fields.String()
    url = ma.fields.String()
    events = ma.fields.List(ma.fields.String())
    secret = ma.fields.String(
        allow_none=True,
        metadata={
            "description": "Only in the answer that made it (the create, or a PATCH with rotate_secret): shown once"
        },
    )
    active = ma.fields.Boolean()
    disabled_reason = ma.fields.String(allow_none=True)
    created_at = ma.fields.AwareDateTime()
    previous_secret_until = ma.fields.AwareDateTime(
        allow_none=True,
        metadata={
            "description": "While a rotated-out secret still signs beside the current one: until when; else null"
        },
    )


class SubscriptionPageSchema(ResponseSchema):
    data = ma.fields.List(ma.fields.Nested(SubscriptionSchema))
    next_cursor = ma.fields.String(allow_none=True)


class AttemptSchema(ResponseSchema):
    at = ma.fields.AwareDateTime()
    status_code = ma.fields.Integer(allow_none=True)
    error = ma.fields.String(allow_none=True)
    duration_ms = ma.fields.Integer()


class DeliverySchema(ResponseSchema):
    id = ma.fields.String(metadata={"description": "The webhook-id header: the same on every retry and replay"})
    subscription_id = ma.fields.String()
    event_id = ma.fields.String()
    status = ma.fields.String(metadata={"enum": ["pending", "delivered", "dead"]})
    attempts_made = ma.fields.Integer()
    next_attempt_at = ma.fields.AwareDateTime(allow_none=True)
    last_status = ma.fields.Integer(allow_none=True)
    last_error = ma.fields.String(allow_none=True)
    created_at = ma.fields.AwareDateTime()
    delivered_at = ma.fields.AwareDateTime(allow_none=True)
    attempts = ma.fields.List(ma.fields.Nested(AttemptSchema))


class DeliveryPageSchema(ResponseSchema):
    data = ma.fields.List(ma.fields.Nested(DeliverySchema))
    next_cursor = ma.fields.String(allow_none=True)


class DeliveryQueryArgsSchema(ListArgsSchema):
    status = ma.fields.String(
        validate=ma.validate.OneOf(["pending", "delivered", "dead"]),
        metadata={"description": "Only deliveries in this status"},
    )
