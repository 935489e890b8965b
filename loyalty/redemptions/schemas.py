from __future__ import annotations

from decimal import Decimal

import marshmallow as ma

from loyalty.core.fields import DecimalString, MoneyString, ResponseSchema, StrictBoolean, StrictInteger, Text
from loyalty.redemptions.models import STATUSES


class RedemptionCreateSchema(ma.Schema):
    openapi_name = "RedemptionIn"

    member_id = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=32))
    points = StrictInteger(
        validate=ma.validate.Range(min=1, max=1_000_000_000),
        metadata={"description": "Required unless reward_id is given"},
    )
    order_id = ma.fields.String(validate=ma.validate.Regexp(r"^[\x21-\x7e]{1,100}$"))
    order_amount = DecimalString(
        minimum=Decimal(0),
        min_inclusive=False,
        maximum=Decimal("1e12"),
        max_places=4,
        metadata={
            "description": "The order's amount in program currency; enforces max_redeem_share across its redemptions"
        },
    )
    reward_id = ma.fields.String(validate=ma.validate.Length(min=1, max=32))
    capture = StrictBoolean(load_default=False, metadata={"description": "Hold and capture in one call"})


class RedemptionSchema(ResponseSchema):
    id = ma.fields.String()
    member_id = ma.fields.String()
    status = ma.fields.String(metadata={"enum": list(STATUSES)})
    points = ma.fields.Integer()
    points_returned = ma.fields.Integer(
        metadata={"description": "Given back: by refunds of its order, in their proportion, or all by a reversal"}
    )
    value = MoneyString(metadata={"description": "Program currency"})
    expires_at = ma.fields.AwareDateTime(metadata={"description": "When an uncaptured hold is released"})
    order_id = ma.fields.String(allow_none=True)
    reward_id = ma.fields.String(allow_none=True)
    coupon_code = ma.fields.String(allow_none=True)
    created_at = ma.fields.AwareDateTime()
    reversed_at = ma.fields.AwareDateTime(allow_none=True)
    reversal_reason = ma.fields.String(allow_none=True)


class RedemptionReverseSchema(ma.Schema):
    openapi_name = "RedemptionReverseIn"

    reason = Text(
        max_length=500,
        required=True,
        metadata={"description": "Why the points go back (kept on the redemption and in the ledger entry's note)"},
    )
