from __future__ import annotations

from datetime import date
from decimal import Decimal

import marshmallow as ma

from loyalty.core.fields import DecimalString, ResponseSchema, StrictInteger, Text
from loyalty.program.schemas import TIER_METRICS

_CODE = ma.validate.Regexp(r"^[a-z][a-z0-9_-]{0,19}$", error="1-20 lower-case letters, digits, - or _, from a letter.")


class TierInSchema(ma.Schema):
    code = ma.fields.String(required=True, validate=_CODE)
    name = Text(max_length=100, required=True)
    rank = StrictInteger(required=True, validate=ma.validate.Range(min=0, max=1000))
    threshold = DecimalString(
        required=True,
        minimum=Decimal(0),
        maximum=Decimal("1e12"),
        max_places=2,
        metadata={"description": "In the program's tier_metric (money for spend_12m)"},
    )
    discount_percent = DecimalString(load_default=Decimal(0), minimum=Decimal(0), maximum=Decimal(100), max_places=2)
    earn_multiplier = DecimalString(load_default=Decimal(1), minimum=Decimal(1), maximum=Decimal(100), max_places=3)
    benefits = ma.fields.String(load_default="", validate=ma.validate.Length(max=2000))


class LadderInSchema(ma.Schema):
    tiers = ma.fields.List(ma.fields.Nested(TierInSchema), required=True, validate=ma.validate.Length(min=1, max=20))
    tier_metric = ma.fields.String(
        validate=ma.validate.OneOf(TIER_METRICS),
        metadata={"description": "Optional: change the program's tier_metric with the thresholds that are in its unit"},
    )


class TierSchema(ResponseSchema):
    code = ma.fields.String()
    name = ma.fields.String()
    rank = ma.fields.Integer()
    threshold = DecimalString()
    discount_percent = DecimalString()
    earn_multiplier = DecimalString()
    benefits = ma.fields.String()


class LadderSchema(ResponseSchema):
    tiers = ma.fields.List(ma.fields.Nested(TierSchema))
    tier_metric = ma.fields.String()


def _sane_date(value: date) -> None:
    if not date(2000, 1, 1) <= value <= date(2999, 12, 31):
        raise ma.ValidationError("Must be between 2000-01-01 and 2999-12-31.")


class FloorInSchema(ma.Schema):
    tier = ma.fields.String(
        required=True,
        allow_none=True,
        validate=_CODE,
        metadata={"description": "The floor's tier code; null removes the floor"},
    )
    until = ma.fields.Date(
        load_default=None,
        validate=_sane_date,
        metadata={"description": "Last day of the floor (program time zone); required with a tier"},
    )
    reason = Text(max_length=500, required=True)


class FloorSchema(ResponseSchema):
    tier = ma.fields.String()
    # Both columns are nullable and the grading reads a floor without an end as open-ended.
    until = ma.fields.AwareDateTime(allow_none=True, metadata={"description": "When the floor ends; null: no end"})
    reason = ma.fields.String(allow_none=True)


class TierChangeSchema(ResponseSchema):
    from_tier = ma.fields.String(attribute="from_code", allow_none=True)
    to_tier = ma.fields.String(attribute="to_code")
    reason = ma.fields.String()
    note = ma.fields.String(allow_none=True)
    source = ma.fields.String(allow_none=True)
    at = ma.fields.AwareDateTime()
    actor = ma.fields.String(allow_none=True)


_NO_LADDER = " (null while no ladder is defined)"


class MemberTierSchema(ResponseSchema):
    member_id = ma.fields.String()
    tier = ma.fields.String(allow_none=True, metadata={"description": "null while no ladder is defined"})
    since = ma.fields.AwareDateTime()
    kept_until = ma.fields.AwareDateTime(
        allow_none=True, metadata={"description": "The tier is held at least until then; null: nothing to lose"}
    )
    next_tier = ma.fields.String(allow_none=True)
    to_next = ma.fields.String(
        allow_none=True,
        metadata={
            "description": "What the qualifying value still lacks for next_tier: money with cents for spend_12m, "
            "a whole number for points_12m and orders_12m"
        },
    )
    metric = ma.fields.String()
    qualifying_value = ma.fields.String(
        allow_none=True, metadata={"description": "The metric over the last 12 months (as to_next)" + _NO_LADDER}
    )
    earned_tier = ma.fields.String(
        allow_none=True, metadata={"description": "The tier the member's own standing earns, floor aside" + _NO_LADDER}
    )
    floor = ma.fields.Nested(
        FloorSchema,
        allow_none=True,
        metadata={"description": "The tier set by hand until a date; null when none is in force" + _NO_LADDER},
    )
    discount_percent = DecimalString(allow_none=True, metadata={"description": "The held tier's" + _NO_LADDER})
    earn_multiplier = DecimalString(allow_none=True, metadata={"description": "The held tier's" + _NO_LADDER})
    history = ma.fields.List(ma.fields.Nested(TierChangeSchema))
