from __future__ import annotations

from decimal import Decimal

import marshmallow as ma

from loyalty.core.fields import (
    DecimalString,
    MoneyString,
    ResponseSchema,
    StrictInteger,
    Text,
    validate_currency,
    validate_holiday_country,
    validate_timezone,
)

TIER_METRICS = ("spend_12m", "points_12m", "orders_12m")
_MAX_POINTS = 1_000_000_000


def _points(**kwargs):
    return StrictInteger(validate=ma.validate.Range(min=0, max=_MAX_POINTS), **kwargs)


class ReferralSettingsSchema(ma.Schema):
    openapi_name = "ReferralSettingsIn"

    referrer_points = _points(metadata={"description": "Points for the member who introduced"})
    referee_points = _points(metadata={"description": "Points for the new member"})
    min_order_amount = DecimalString(
        minimum=Decimal(0), maximum=Decimal("1e12"), metadata={"description": "Least first-order amount that qualifies"}
    )
    monthly_cap = StrictInteger(
        allow_none=True,
        validate=ma.validate.Range(min=0, max=1_000_000),
        metadata={"description": "Rewarded referrals per referrer per month; null = no cap"},
    )
    total_cap = StrictInteger(
        allow_none=True,
        validate=ma.validate.Range(min=0, max=1_000_000),
        metadata={"description": "Rewarded referrals per referrer ever; null = no cap"},
    )
    link_template = ma.fields.String(
        allow_none=True,
        validate=[
            ma.validate.Length(max=500),
            ma.validate.Regexp(
                r"^https?://[\x21-\x7e]*\{code\}[\x21-\x7e]*$", error="An http(s) URL with {{code}} in it."
            ),
        ],
        metadata={"description": "Referral link, e.g. https://shop.example/join?ref={code}; null = no link"},
    )


class ReferralSettingsOutSchema(ResponseSchema, ReferralSettingsSchema):
    openapi_name = "ReferralSettings"

    min_order_amount = MoneyString(metadata={"description": "Least first-order amount that qualifies"})


_CLOCK = ma.validate.Regexp(r"^([01][0-9]|2[0-3]):[0-5][0-9]$", error="A time of day, HH:MM.")


class CareSettingsSchema(ma.Schema):
    openapi_name = "CareSettingsIn"

    quiet_start = ma.fields.String(validate=_CLOCK, metadata={"description": "Quiet hours start, member's local time"})
    quiet_end = ma.fields.String(
        validate=_CLOCK, metadata={"description": "Quiet hours end (touches due inside wait for it)"}
    )
    weekly_cap = StrictInteger(
        validate=ma.validate.Range(min=0, max=100),
        metadata={"description": "Promotional touches per member in any 7 days"},
    )
    send_at = ma.fields.String(validate=_CLOCK, metadata={"description": "Local time planned touches fall due"})


class CareSettingsOutSchema(ResponseSchema, CareSettingsSchema):
    """The same four settings, as answered: all always there."""

    openapi_name = "CareSettings"


class ExchangeRates(ma.fields.Dict):
    def __init__(self, **kwargs) -> None:
        super().__init__(
            keys=ma.fields.String(validate=validate_currency),
            values=DecimalString(minimum=Decimal(0), min_inclusive=False, maximum=Decimal("1e9")),
            **kwargs,
        )


class ProgramSchema(ResponseSchema):
    name = ma.fields.String()
    currency = ma.fields.String(metadata={"description": "ISO 4217", "example": "CNY"})
    exchange_rates = ExchangeRates(
        metadata={"description": "Program currency per unit of another", "example": {"USD": "7.10"}}
    )
    timezone = ma.fields.String(metadata={"example": "Asia/Shanghai"})
    holiday_country = ma.fields.String(metadata={"example": "CN"})
    points_per_unit = DecimalString(metadata={"description": "Points per unit of program currency, floored"})
    point_value = DecimalString(metadata={"description": "Money per point when redeeming", "example": "0.01"})
    pending_days = ma.fields.Integer()
    expiry_months = ma.fields.Integer(
        metadata={"description": "Lots expire at the end of the month this many months after earning; 0 = never"}
    )
    max_redeem_share = DecimalString(
        metadata={"description": "Largest share of an order payable with points", "example": "0.5"}
    )
    tier_metric = ma.fields.String(metadata={"enum": list(TIER_METRICS)})
    referral = ma.fields.Nested(ReferralSettingsOutSchema)
    signup_bonus = ma.fields.Integer()
    first_order_bonus = ma.fields.Integer()
    birthday_bonus = ma.fields.Integer()
    excluded_categories = ma.fields.List(
        ma.fields.String(), metadata={"description": "Categories that earn nothing (gift cards)"}
    )
    hold_minutes = ma.fields.Integer(metadata={"description": "How long a redemption hold lasts"})
    pos_pending_days = ma.fields.Integer(
        allow_none=True, metadata={"description": "Pending days for POS orders; null: pending_days"}
    )
    care = ma.fields.Nested(CareSettingsOutSchema)
    updated_at = ma.fields.AwareDateTime()


class ProgramUpdateSchema(ma.Schema):
    """Every field optional; `referral` may name only the settings it changes."""

    name = Text(max_length=100)
    currency = ma.fields.String(validate=validate_currency)
    exchange_rates = ExchangeRates()
    timezone = ma.fields.String(validate=validate_timezone)
    holiday_country = ma.fields.String(validate=validate_holiday_country)
    points_per_unit = DecimalString(minimum=Decimal(0), maximum=Decimal(10_000))
    point_value = DecimalString(minimum=Decimal(0), min_inclusive=False, maximum=Decimal(1_000_000))
    pending_days = StrictInteger(validate=ma.validate.Range(min=0, max=365))
    expiry_months = StrictInteger(validate=ma.validate.Range(min=0, max=240))
    max_redeem_share = DecimalString(minimum=Decimal(0), maximum=Decimal(1))
    tier_metric = ma.fields.String(validate=ma.validate.OneOf(TIER_METRICS))
    referral = ma.fields.Nested(ReferralSettingsSchema)
    care = ma.fields.Nested(CareSettingsSchema)
    signup_bonus = _points()
    first_order_bonus = _points()
    birthday_bonus = _points()
    excluded_categories = ma.fields.List(Text(max_length=50), validate=ma.validate.Length(max=100))
    hold_minutes = StrictInteger(validate=ma.validate.Range(min=1, max=1440))
    pos_pending_days = StrictInteger(allow_none=True, validate=ma.validate.Range(min=0, max=365))

    @ma.validates_schema
    def _rates_not_for_own_currency(self, data, **_kwargs):
        rates = data.get("exchange_rates") or {}
        currency = data.get("currency")
        if currency and currency in rates:
            raise ma.ValidationError("The program currency needs no exchange rate.", "exchange_rates")
