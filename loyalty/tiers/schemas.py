from __future__ import annotations

from decimal import Decimal

import marshmallow as ma

from loyalty.core.fields import DecimalString, ResponseSchema, StrictInteger, Text

_CODE = ma.validate.Regexp(r"^[a-z][a-z0-9_-]{0,19}$", error="1-20 lower-case letters, digits, - or _, from a letter.")


class TierInSchema(ma.Schema):
    code = ma.fields.String(required=True, validate=_CODE)
    name = Text(max_length=100, required=True)
    rank = StrictInteger(required=True, validate=ma.validate.Range(min=0, max=1000))
    threshold = DecimalString(required=True, minimum=Decimal(0), maximum=Decimal("1e12"), max_places=2,
                              metadata={"description": "In the program's tier_metric (money for spend_12m)"})
    discount_percent = DecimalString(load_default=Decimal(0), minimum=Decimal(0), maximum=Decimal(100), max_places=2)
    earn_multiplier = DecimalString(load_default=Decimal(1), minimum=Decimal(1), maximum=Decimal(100), max_places=3)
    benefits = ma.fields.String(load_default="", validate=ma.validate.Length(max=2000))


class LadderInSchema(ma.Schema):
    tiers = ma.fields.List(ma.fields.Nested(TierInSchema), required=True, validate=ma.validate.Length(min=1, max=20))


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
