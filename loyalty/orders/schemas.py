from __future__ import annotations

from decimal import Decimal
from typing import TypedDict

import marshmallow as ma

from loyalty.core.fields import (
    DecimalString,
    Instant,
    MoneyString,
    ResponseSchema,
    StrictInteger,
    Text,
    validate_currency,
)

_ID = ma.validate.Regexp(r"^[\x21-\x7e]{1,100}$", error="1-100 printable ASCII characters without spaces.")


# Money is stored to 4 decimals; more would be silently rounded, so it is refused.
class _MoneyBounds(TypedDict):
    minimum: Decimal
    maximum: Decimal
    max_places: int


_MONEY: _MoneyBounds = {"minimum": Decimal(0), "maximum": Decimal("1e12"), "max_places": 4}
CHANNELS = ("online", "pos")


class OrderItemSchema(ma.Schema):
    openapi_name = "OrderItemIn"

    sku = Text(max_length=100, required=True)
    category = Text(max_length=50, load_default="general")
    quantity = StrictInteger(required=True, validate=ma.validate.Range(min=1, max=1_000_000))
    unit_price = DecimalString(required=True, **_MONEY)
    discount = DecimalString(load_default=Decimal(0), **_MONEY, metadata={"description": "Off the whole line"})


class _Basket(ma.Schema):
    member_id = ma.fields.String(validate=ma.validate.Length(min=1, max=32))
    member_number = ma.fields.String(validate=ma.validate.Regexp(r"^[0-9]{12}$"))
    currency = ma.fields.String(validate=validate_currency, metadata={"description": "Default: the program's"})
    items = ma.fields.List(
        ma.fields.Nested(OrderItemSchema), required=True, validate=ma.validate.Length(min=1, max=500)
    )
    shipping = DecimalString(load_default=Decimal(0), **_MONEY)
    tax = DecimalString(load_default=Decimal(0), **_MONEY)
    total = DecimalString(
        **_MONEY, metadata={"description": "If sent, must equal items after discounts + shipping + tax"}
    )
    channel = ma.fields.String(load_default="online", validate=ma.validate.OneOf(CHANNELS))
    store_id = Text(max_length=100)

    @ma.validates_schema
    def _one_member(self, data, **_kwargs):
        if bool(data.get("member_id")) == bool(data.get("member_number")):
            raise ma.ValidationError("Give exactly one of member_id or member_number.", "member_id")


class OrderCreateSchema(_Basket):
    openapi_name = "OrderIn"

    order_id = ma.fields.String(required=True, validate=_ID, metadata={"description": "The storefront's order id"})
    placed_at = Instant(required=True)


class QuoteSchema(_Basket):
    openapi_name = "QuoteIn"

    placed_at = Instant(metadata={"description": "Default: now (promotions are judged at this time)"})


class OrderSchema(ResponseSchema):
    order_id = ma.fields.String()
    member_id = ma.fields.String()
    points_earned = ma.fields.Integer()
    bonus_points = ma.fields.Integer(metadata={"description": "First-order bonus granted with this order"})
    available_at = ma.fields.AwareDateTime()
    tier = ma.fields.String(
        allow_none=True, attribute="tier_after", metadata={"description": "The member's tier after the order"}
    )
    placed_at = ma.fields.AwareDateTime()
    currency = ma.fields.String()
    channel = ma.fields.String()
    store_id = ma.fields.String(allow_none=True)
    net_amount = MoneyString()
    eligible_amount = MoneyString()
    refunded_amount = MoneyString()
    points_reversed = ma.fields.Integer(attribute="reversed_points")
    created_at = ma.fields.AwareDateTime()


class RefundItemSchema(ma.Schema):
    openapi_name = "RefundItemIn"

    sku = Text(max_length=100, required=True)
    quantity = StrictInteger(required=True, validate=ma.validate.Range(min=1, max=1_000_000))


class RefundCreateSchema(ma.Schema):
    openapi_name = "RefundIn"

    refund_id = ma.fields.String(required=True, validate=_ID)
    amount = DecimalString(
        minimum=Decimal(0),
        min_inclusive=False,
        maximum=Decimal("1e12"),
        max_places=4,
        metadata={"description": "Goods amount refunded, order currency (not shipping or tax)"},
    )
    items = ma.fields.List(ma.fields.Nested(RefundItemSchema), validate=ma.validate.Length(min=1, max=500))

    @ma.validates_schema
    def _amount_or_items(self, data, **_kwargs):
        if ("amount" in data) == ("items" in data):
            raise ma.ValidationError("Give exactly one of amount or items.", "amount")


class RefundSchema(ResponseSchema):
    refund_id = ma.fields.String()
    order_id = ma.fields.String()
    amount = MoneyString()
    points_reversed = ma.fields.Integer()
    points_returned = ma.fields.Integer(
        metadata={
            "description": "Points the member paid on the order (redemptions with "
            "its order_id) given back, in the refund's proportion"
        }
    )
    created_at = ma.fields.AwareDateTime()


class QuoteOutSchema(ResponseSchema):
    openapi_name = "Quote"

    member_id = ma.fields.String()
    tier = ma.fields.String(allow_none=True)
    currency = ma.fields.String()
    net_amount = MoneyString()
    discount_percent = DecimalString(metadata={"description": "The member's tier discount"})
    discount_amount = MoneyString(
        metadata={
            "description": "What the tier discount comes to on the lines that earn, in "
            "the basket's currency. Not deducted by the service: a till "
            "that gives it writes it into the lines' `discount`"
        }
    )
    points_to_earn = ma.fields.Integer(
        metadata={
            "description": "Exactly the `points_earned` of an order posting these "
            "lines as sent (tier multiplier and promotions included; "
            "the first-order bonus is not)"
        }
    )
    promotion_points = ma.fields.Integer(metadata={"description": "Of points_to_earn, what active promotions add"})
    bonus_points = ma.fields.Integer(
        metadata={
            "description": "The order's `bonus_points`: the first-order bonus when "
            "this would be the member's first order; not in points_to_earn"
        }
    )
    total_points = ma.fields.Integer(metadata={"description": "points_to_earn + bonus_points: what the order credits"})
    max_redeemable_points = ma.fields.Integer()
    max_redeemable_value = MoneyString(metadata={"description": "In the program currency"})
