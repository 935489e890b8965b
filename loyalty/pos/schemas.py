from __future__ import annotations

import marshmallow as ma

from loyalty.core.fields import DecimalString, MoneyString, ResponseSchema


class FlagsSchema(ResponseSchema):
    birthday_this_month = ma.fields.Boolean(metadata={"description": "In the member's time zone (else the program's)"})
    reward_ready = ma.fields.Boolean(metadata={"description": "An unused, still valid coupon is waiting"})
    can_redeem = ma.fields.Boolean(metadata={"description": "Active and with points available now"})


class PosMemberSchema(ResponseSchema):
    member_id = ma.fields.String()
    member_number = ma.fields.String()
    display_name = ma.fields.String()
    status = ma.fields.String(metadata={"description": "A blocked member gets no discount and shows no points"})
    tier = ma.fields.String(allow_none=True)
    discount_percent = DecimalString()
    available_points = ma.fields.Integer()
    points_value = MoneyString()
    currency = ma.fields.String()
    flags = ma.fields.Nested(FlagsSchema)
