from __future__ import annotations

import marshmallow as ma

from loyalty.core.fields import ResponseSchema
from loyalty.core.schemas import ListArgsSchema
from loyalty.referrals.rules import REASONS

STATUSES = ("pending", "qualified", "rejected")


class MemberReferralSchema(ResponseSchema):
    member_id = ma.fields.String()
    code = ma.fields.String(metadata={"description": "8 characters, no look-alikes; matched case-insensitively"})
    link = ma.fields.String(allow_none=True, metadata={"description": "From the program's referral.link_template"})
    invited = ma.fields.Integer(metadata={"description": "Sign-ups with this member's code"})
    pending = ma.fields.Integer()
    qualified = ma.fields.Integer()
    rejected = ma.fields.Integer()
    rewarded_points = ma.fields.Integer(metadata={"description": "Points this member was granted for referrals"})


class ReferralSchema(ResponseSchema):
    id = ma.fields.String()
    referrer_id = ma.fields.String(
        allow_none=True,
        metadata={"description": "null when the code was unknown, or to a storefront key that named the referee"},
    )
    referee_id = ma.fields.String(
        allow_none=True,
        metadata={"description": "null to a storefront key that named the referrer (it sees its own customer's side)"},
    )
    code = ma.fields.String()
    status = ma.fields.String(metadata={"enum": list(STATUSES)})
    reason = ma.fields.String(allow_none=True, metadata={"enum": list(REASONS)})
    order_id = ma.fields.String(allow_none=True, metadata={"description": "The referee's first order that decided it"})
    referrer_points = ma.fields.Integer()
    referee_points = ma.fields.Integer()
    created_at = ma.fields.AwareDateTime()
    decided_at = ma.fields.AwareDateTime(allow_none=True)


class ReferralPageSchema(ResponseSchema):
    data = ma.fields.List(ma.fields.Nested(ReferralSchema))
    next_cursor = ma.fields.String(allow_none=True)


class ReferralQueryArgsSchema(ListArgsSchema):
    referrer_id = ma.fields.String(
        validate=ma.validate.Length(min=1, max=32), metadata={"description": "Only referrals made by this member"}
    )
    referee_id = ma.fields.String(
        validate=ma.validate.Length(min=1, max=32),
        metadata={"description": "Only the referral of this referred member"},
    )
    status = ma.fields.String(
        validate=ma.validate.OneOf(STATUSES), metadata={"description": "Only referrals in this status"}
    )
