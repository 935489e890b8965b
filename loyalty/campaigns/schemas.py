"""Campaigns' in and out shapes."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from loyalty.campaigns.rules import MAX_HOLDOUT_PERCENT
from loyalty.core.fields import DecimalString, Instant, ResponseSchema, StrictInteger, Text

_CHANNEL: dict[str, Any] = dict(validate=ma.validate.OneOf(("email", "sms", "push", "phone")))
_TEMPLATE: dict[str, Any] = dict(
    validate=ma.validate.Length(max=5000),
    metadata={"description": "As care templates: member fields, `if`, a few filters"},
)
_GIFT: dict[str, Any] = dict(validate=ma.validate.Range(min=0, max=1_000_000))
_RATE: dict[str, Any] = dict(
    validate=ma.validate.Range(min=1, max=100_000), metadata={"description": "Touches planned per minute"}
)
_DAYS: dict[str, Any] = dict(
    validate=ma.validate.Range(min=1, max=365),
    metadata={"description": "An order within this many days after the touch converts"},
)
_HOLDOUT: dict[str, Any] = dict(
    validate=ma.validate.Range(min=0, max=MAX_HOLDOUT_PERCENT),
    metadata={
        "description": "Percent of the segment held out (not contacted) to compare against, chosen per member at "
        "random but the same on every run"
    },
)


class CampaignInSchema(ma.Schema):
    name = Text(max_length=200, required=True)
    segment_id = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=32))
    channel = ma.fields.String(required=True, **_CHANNEL)
    template = ma.fields.String(required=True, **_TEMPLATE)
    gift_points = StrictInteger(load_default=0, **_GIFT)
    reward_id = ma.fields.String(allow_none=True, validate=ma.validate.Length(min=1, max=32))
    starts_at = Instant(allow_none=True, metadata={"description": "Default: when launched"})
    send_rate = StrictInteger(load_default=1000, **_RATE)
    conversion_days = StrictInteger(load_default=14, **_DAYS)
    holdout_percent = StrictInteger(load_default=0, **_HOLDOUT)


class CampaignUpdateSchema(ma.Schema):
    """A draft's fields; only those sent change."""

    name = Text(max_length=200)
    segment_id = ma.fields.String(validate=ma.validate.Length(min=1, max=32))
    channel = ma.fields.String(**_CHANNEL)
    template = ma.fields.String(**_TEMPLATE)
    gift_points = StrictInteger(**_GIFT)
    reward_id = ma.fields.String(allow_none=True, validate=ma.validate.Length(min=1, max=32))
    starts_at = Instant(allow_none=True, metadata={"description": "null: when launched"})
    send_rate = StrictInteger(**_RATE)
    conversion_days = StrictInteger(**_DAYS)
    holdout_percent = StrictInteger(**_HOLDOUT)


class CampaignResultsSchema(ResponseSchema):
    targeted = ma.fields.Integer()
    sent = ma.fields.Integer()
    failed = ma.fields.Integer()
    suppressed = ma.fields.Integer()
    suppressed_by_reason = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())
    waiting = ma.fields.Integer()
    responded = ma.fields.Integer()
    converted = ma.fields.Integer(
        metadata={"description": "Contacted members who ordered within conversion_days after their touch was sent"}
    )
    points_spent = ma.fields.Integer()
    held_out = ma.fields.Integer(
        metadata={
            "description": "Members of the hold-out who passed the same checks (consent, cap...) and were not contacted"
        }
    )
    converted_held_out = ma.fields.Integer(
        metadata={"description": "Held-out members who ordered within conversion_days after they would have been sent"}
    )
    conversion_rate = DecimalString(allow_none=True, metadata={"description": "converted / sent, 0 to 1"})
    conversion_rate_held_out = DecimalString(
        allow_none=True, metadata={"description": "converted_held_out / held_out, 0 to 1; null without a hold-out"}
    )
    lift = DecimalString(
        allow_none=True,
        metadata={
            "description": "conversion_rate − conversion_rate_held_out (0.0500: five points more); null without both"
        },
    )
    relative_lift = DecimalString(
        allow_none=True,
        metadata={"description": "lift / conversion_rate_held_out; null when the hold-out converted nobody"},
    )


class CampaignSchema(ResponseSchema):
    id = ma.fields.String()
    name = ma.fields.String()
    segment_id = ma.fields.String()
    channel = ma.fields.String()
    template = ma.fields.String()
    gift_points = ma.fields.Integer()
    reward_id = ma.fields.String(allow_none=True)
    starts_at = ma.fields.AwareDateTime(allow_none=True, metadata={"description": "null until launched, if not set"})
    send_rate = ma.fields.Integer()
    conversion_days = ma.fields.Integer()
    holdout_percent = ma.fields.Integer()
    status = ma.fields.String(metadata={"enum": ["draft", "running", "paused", "finished"]})
    created_at = ma.fields.AwareDateTime()
    launched_at = ma.fields.AwareDateTime(allow_none=True)
    finished_at = ma.fields.AwareDateTime(allow_none=True)
    created_by = ma.fields.String(allow_none=True)
    results = ma.fields.Nested(CampaignResultsSchema)


class CampaignPageSchema(ResponseSchema):
    data = ma.fields.List(ma.fields.Nested(CampaignSchema))
    next_cursor = ma.fields.String(allow_none=True)


class PreviewSchema(ResponseSchema):
    campaign_id = ma.fields.String()
    count = ma.fields.Integer()
    sample = ma.fields.List(ma.fields.Dict())
    suppressed = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Integer(),
        metadata={"description": "How many would be held back now, by reason"},
    )
    held_out = ma.fields.Integer(metadata={"description": "How many of the rest the hold-out would keep out"})
    would_send = ma.fields.Integer()
