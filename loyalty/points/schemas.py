from __future__ import annotations

from decimal import Decimal

import marshmallow as ma

from loyalty.core.fields import DecimalString, Instant, MoneyString, ResponseSchema, StrictBoolean, StrictInteger, Text
from loyalty.points.models import KINDS


class SourceSchema(ResponseSchema):
    type = ma.fields.String(
        metadata={"description": "order, refund, redemption, signup, first_order, adjustment, lot, merge, ..."}
    )
    id = ma.fields.String()


class LedgerEntrySchema(ResponseSchema):
    id = ma.fields.Integer()
    member_id = ma.fields.String()
    kind = ma.fields.String(
        metadata={
            "enum": list(KINDS),
            "description": "`return`: points paid on an order given back by its refund, or by a reversal",
        }
    )
    points = ma.fields.Integer(metadata={"description": "Signed"})
    created_at = ma.fields.AwareDateTime()
    available_at = ma.fields.AwareDateTime(allow_none=True)
    expires_at = ma.fields.AwareDateTime(allow_none=True)
    source = ma.fields.Function(
        lambda e: {"type": e.source_type, "id": e.source_id},
        metadata={"type": "object", "properties": {"type": {"type": "string"}, "id": {"type": "string"}}},
    )
    note = ma.fields.String(allow_none=True)
    actor = ma.fields.String(allow_none=True)


class LedgerPageSchema(ResponseSchema):
    data = ma.fields.List(ma.fields.Nested(LedgerEntrySchema))
    next_cursor = ma.fields.String(allow_none=True)


class ExpiringSchema(ResponseSchema):
    points = ma.fields.Integer()
    expires_at = ma.fields.AwareDateTime()


class BalanceSchema(ResponseSchema):
    member_id = ma.fields.String()
    available = ma.fields.Integer(
        metadata={"description": "Matured, unexpired points not held; negative only after a refund"}
    )
    pending = ma.fields.Integer(metadata={"description": "Earned, not yet matured (return window)"})
    lifetime_earned = ma.fields.Integer()
    expiring_soon = ma.fields.List(ma.fields.Nested(ExpiringSchema), metadata={"description": "Next 30 days"})
    held = ma.fields.Integer(metadata={"description": "Points in open redemption holds"})
    debt = ma.fields.Integer(
        metadata={"description": "Points a refund reversed beyond the balance; repaid from new earnings"}
    )
    available_value = MoneyString(metadata={"description": "What the available points are worth, program currency"})
    currency = ma.fields.String()


class AdjustmentCreateSchema(ma.Schema):
    openapi_name = "AdjustmentIn"

    points = StrictInteger(
        required=True,
        validate=ma.validate.Range(min=-1_000_000_000, max=1_000_000_000),
        metadata={"description": "Signed; not zero. A debit takes available points only"},
    )
    reason = Text(max_length=200, required=True)
    note = Text(max_length=500)


class PromotionCreateSchema(ma.Schema):
    openapi_name = "PromotionIn"

    name = Text(max_length=200, required=True)
    multiplier = DecimalString(required=True, minimum=Decimal(1), maximum=Decimal(20))
    starts_at = Instant(required=True)
    ends_at = Instant(required=True)
    categories = ma.fields.List(
        Text(max_length=50),
        load_default=list,
        validate=ma.validate.Length(max=100),
        metadata={"description": "Empty: every category"},
    )
    channels = ma.fields.List(
        ma.fields.String(validate=ma.validate.OneOf(("online", "pos"))),
        load_default=list,
        metadata={"description": "Empty: every channel"},
    )
    active = StrictBoolean(load_default=True)

    @ma.validates_schema
    def _window(self, data, **_kwargs):
        if data.get("starts_at") and data.get("ends_at") and data["ends_at"] <= data["starts_at"]:
            raise ma.ValidationError("Must be after starts_at.", "ends_at")


class PromotionUpdateSchema(ma.Schema):
    name = Text(max_length=200)
    active = StrictBoolean()
    ends_at = Instant()


class PromotionSchema(ResponseSchema):
    id = ma.fields.String()
    name = ma.fields.String()
    multiplier = DecimalString()
    starts_at = ma.fields.AwareDateTime()
    ends_at = ma.fields.AwareDateTime()
    categories = ma.fields.List(ma.fields.String())
    channels = ma.fields.List(ma.fields.String())
    active = ma.fields.Boolean()


class PromotionPageSchema(ResponseSchema):
    data = ma.fields.List(ma.fields.Nested(PromotionSchema))
    next_cursor = ma.fields.String(allow_none=True)
