from __future__ import annotations

from decimal import Decimal

import marshmallow as ma

from loyalty.core.fields import DecimalString, Instant, MoneyString, ResponseSchema, StrictBoolean, StrictInteger, Text
from loyalty.rewards.models import KINDS
from loyalty.rewards.rules import STATUSES as COUPON_STATUSES


class _RewardFields(ma.Schema):
    name = Text(max_length=200)
    description = ma.fields.String(validate=ma.validate.Length(max=2000))
    kind = ma.fields.String(validate=ma.validate.OneOf(KINDS))
    value = DecimalString(
        minimum=Decimal(0),
        maximum=Decimal("1e9"),
        allow_none=True,
        max_places=4,
        metadata={"description": "Amount off (money) or percent off (0-100)"},
    )
    points_cost = StrictInteger(validate=ma.validate.Range(min=1, max=1_000_000_000))
    stock = StrictInteger(
        allow_none=True,
        validate=ma.validate.Range(min=0, max=1_000_000_000),
        metadata={"description": "Left to redeem; null: unlimited"},
    )
    min_tier = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=20))
    valid_from = Instant(allow_none=True)
    valid_until = Instant(allow_none=True)
    coupon_valid_days = StrictInteger(validate=ma.validate.Range(min=1, max=3650))
    active = StrictBoolean()

    @ma.validates_schema
    def _consistent(self, data, **_kwargs):
        if data.get("valid_from") and data.get("valid_until") and data["valid_until"] <= data["valid_from"]:
            raise ma.ValidationError("Must be after valid_from.", "valid_until")
        if (
            data.get("kind") == "percent_off"
            and data.get("value") is not None
            and (data["value"] > 100 or data["value"] != round(data["value"], 2))
        ):
            # Answered as money is (two decimals), so a percent can't carry more than it shows.
            raise ma.ValidationError("A percent off is at most 100, with at most 2 decimals.", "value")
        if data.get("kind") in ("amount_off", "percent_off") and "value" in data and data["value"] is None:
            raise ma.ValidationError(f"A {data['kind']} reward needs a value.", "value")


class RewardCreateSchema(_RewardFields):
    openapi_name = "RewardIn"

    name = Text(max_length=200, required=True)
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(KINDS))
    points_cost = StrictInteger(required=True, validate=ma.validate.Range(min=1, max=1_000_000_000))

    @ma.validates_schema
    def _value_for_kind(self, data, **_kwargs):
        if data.get("kind") in ("amount_off", "percent_off") and data.get("value") is None:
            raise ma.ValidationError(f"A {data['kind']} reward needs a value.", "value")


class RewardUpdateSchema(_RewardFields):
    pass


class RewardSchema(ResponseSchema):
    id = ma.fields.String()
    name = ma.fields.String()
    description = ma.fields.String()
    kind = ma.fields.String()
    value = MoneyString(
        allow_none=True,
        metadata={"description": "Amount off (money) or percent off (0-100); null for free_item and gift"},
    )
    points_cost = ma.fields.Integer()
    stock = ma.fields.Integer(allow_none=True)
    min_tier = ma.fields.String(allow_none=True)
    valid_from = ma.fields.AwareDateTime(allow_none=True)
    valid_until = ma.fields.AwareDateTime(allow_none=True)
    coupon_valid_days = ma.fields.Integer()
    active = ma.fields.Boolean()
    created_at = ma.fields.AwareDateTime()
    updated_at = ma.fields.AwareDateTime()


class RewardPageSchema(ResponseSchema):
    data = ma.fields.List(ma.fields.Nested(RewardSchema))
    next_cursor = ma.fields.String(allow_none=True)


class RewardQuerySchema(ma.Schema):
    limit = ma.fields.Integer(
        load_default=50,
        validate=ma.validate.Range(min=1, max=500),
        metadata={"description": "Page size, 1-500 (default 50)"},
    )
    cursor = ma.fields.String(
        validate=ma.validate.Length(max=500),
        metadata={"description": "Opaque cursor from the previous page's `next_cursor`; omit for the first page"},
    )
    active = ma.fields.Boolean(
        metadata={"description": "true: only rewards that can be redeemed now; false: only inactive ones"}
    )


class RewardBriefSchema(ResponseSchema):
    id = ma.fields.String()
    name = ma.fields.String()
    kind = ma.fields.String(metadata={"enum": list(KINDS)})
    value = MoneyString(allow_none=True, metadata={"description": "Amount off (money) or percent off (0-100)"})


class CouponSchema(ResponseSchema):
    code = ma.fields.String()
    status = ma.fields.String(
        metadata={
            "enum": list(COUPON_STATUSES),
            "description": "valid; used; expired (past valid_until); void (its redemption was reversed)",
        }
    )
    usable = ma.fields.Boolean(
        metadata={
            "description": "Would `use` accept it now: valid, and the member may spend "
            "(not blocked, suspended or erased)"
        }
    )
    reward_id = ma.fields.String()
    reward = ma.fields.Nested(RewardBriefSchema, allow_none=True)
    member_id = ma.fields.String(metadata={"description": "The owner (a merged member's survivor)"})
    redemption_id = ma.fields.String(metadata={"description": "What issued it: a redemption, or a care gift's touch"})
    issued_at = ma.fields.AwareDateTime()
    valid_until = ma.fields.AwareDateTime(allow_none=True)
    used_at = ma.fields.AwareDateTime(allow_none=True)
    order_id = ma.fields.String(allow_none=True, metadata={"description": "The order it was used on, if the till said"})
    voided_at = ma.fields.AwareDateTime(allow_none=True)


class CouponPageSchema(ResponseSchema):
    data = ma.fields.List(ma.fields.Nested(CouponSchema))
    next_cursor = ma.fields.String(allow_none=True)


class CouponUseSchema(ma.Schema):
    openapi_name = "CouponUseIn"

    order_id = ma.fields.String(
        validate=ma.validate.Regexp(
            r"^[\x21-\x7e]{1,100}$", error=("1-100 printable ASCII characters without spaces.")
        ),
        metadata={"description": "The order it is used on"},
    )


class MemberCouponQuerySchema(ma.Schema):
    limit = ma.fields.Integer(
        load_default=50,
        validate=ma.validate.Range(min=1, max=500),
        metadata={"description": "Page size, 1-500 (default 50)"},
    )
    cursor = ma.fields.String(
        validate=ma.validate.Length(max=500),
        metadata={"description": "Opaque cursor from the previous page's `next_cursor`; omit for the first page"},
    )
    status = ma.fields.String(
        validate=ma.validate.OneOf(COUPON_STATUSES), metadata={"description": "Only coupons in this status"}
    )
