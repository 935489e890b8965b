from __future__ import annotations

import marshmallow as ma

from loyalty.core.fields import ResponseSchema
from loyalty.members.schemas import ListArgsSchema
from loyalty.webhooks.outbox import EVENTS

_URL = ma.validate.URL(schemes={"http", "https"}, require_tld=False, error="An http(s) URL.")


class SubscriptionInSchema(ma.Schema):
    url = ma.fields.String(required=True, validate=[ma.validate.Length(max=2000), _URL])
    events = ma.fields.List(ma.fields.String(validate=ma.validate.OneOf(EVENTS)), required=True,
                            validate=ma.validate.Length(min=1, max=len(EVENTS)))
    secret = ma.fields.String(validate=ma.validate.Length(max=120), metadata={
        "description": "Optional whsec_ + base64 of 24-64 bytes; the service makes one when absent"})


class SubscriptionSchema(ResponseSchema):
    id = ma.fields.String()
    url = ma.fields.String()
    events = ma.fields.List(ma.fields.String())
    secret = ma.fields.String(allow_none=True, metadata={"description": "Only in the answer that created it, "
                                                                        "and only when the service made it"})
    active = ma.fields.Boolean()
    disabled_reason = ma.fields.String(allow_none=True)
    created_at = ma.fields.AwareDateTime()


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
    status = ma.fields.String(validate=ma.validate.OneOf(["pending", "delivered", "dead"]))
