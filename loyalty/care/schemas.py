from __future__ import annotations

import marshmallow as ma

from loyalty.care.models import CHANNELS, KINDS
from loyalty.care.rules import QUIET_HOURS, SUPPRESSIONS, TEMPLATE_ERROR
from loyalty.care.service import OUTCOMES
from loyalty.core.fields import Instant, ResponseSchema, StrictBoolean, StrictInteger, Text
from loyalty.core.schemas import ListArgsSchema

INTERACTION_KINDS = ("call", "message", "visit", "complaint", "feedback", "note")
TOUCH_STATUSES = ("planned", "sent", "suppressed", "callback", "done", "failed", "held_out")


class CustomDateSchema(ma.Schema):
    date = ma.fields.String(required=True, metadata={"description": "MM-DD (every year) or YYYY-MM-DD (once)"})
    name = Text(max_length=100, required=True)


class CareRuleInSchema(ma.Schema):
    enabled = StrictBoolean()
    channel = ma.fields.String(validate=ma.validate.OneOf(CHANNELS))
    template = ma.fields.String(
        validate=ma.validate.Length(max=5000),
        metadata={
            "description": "Jinja (sandboxed): name, member_number, tier, tier_name, city, points, points_value, "
            "currency, program, kind, occasion, occasion_name, date, gift_points, years, coupon; "
            "`if` and the filters upper, lower, title, capitalize, trim, default, string"
        },
    )
    days_before = StrictInteger(validate=ma.validate.Range(min=0, max=60))
    days_after = StrictInteger(validate=ma.validate.Range(min=0, max=365))
    gift_points = StrictInteger(validate=ma.validate.Range(min=0, max=1_000_000))
    reward_id = ma.fields.String(allow_none=True, validate=ma.validate.Length(min=1, max=32))
    custom_dates = ma.fields.List(ma.fields.Nested(CustomDateSchema), validate=ma.validate.Length(max=100))
    inactive_days = StrictInteger(allow_none=True, validate=ma.validate.Range(min=1, max=3650))


class CareRuleSchema(ResponseSchema):
    kind = ma.fields.String(metadata={"enum": list(KINDS)})
    enabled = ma.fields.Boolean()
    channel = ma.fields.String()
    template = ma.fields.String()
    days_before = ma.fields.Integer()
    days_after = ma.fields.Integer()
    gift_points = ma.fields.Integer()
    reward_id = ma.fields.String(allow_none=True)
    custom_dates = ma.fields.List(ma.fields.Nested(CustomDateSchema))
    inactive_days = ma.fields.Integer(allow_none=True)


class CareRulesSchema(ResponseSchema):
    data = ma.fields.List(ma.fields.Nested(CareRuleSchema))


class TouchSchema(ResponseSchema):
    id = ma.fields.String()
    member_id = ma.fields.String()
    kind = ma.fields.String(metadata={"enum": list(KINDS)})
    occasion = ma.fields.String()
    channel = ma.fields.String()
    due_at = ma.fields.AwareDateTime()
    status = ma.fields.String(metadata={"enum": list(TOUCH_STATUSES)})
    reason = ma.fields.String(
        allow_none=True,
        metadata={
            # member_erased: care/erasure.py closes an erased member's open touches with it.
            "enum": list(SUPPRESSIONS) + [QUIET_HOURS, TEMPLATE_ERROR, "gift_unavailable", "resolved", "member_erased"]
        },
    )
    outcome = ma.fields.String(allow_none=True, metadata={"enum": list(OUTCOMES)})
    message = ma.fields.String(allow_none=True)
    score = ma.fields.Integer(allow_none=True)
    notes = ma.fields.String(allow_none=True)
    assignee = ma.fields.String(allow_none=True)
    attempts = ma.fields.Integer()
    source = ma.fields.String(allow_none=True)
    campaign_id = ma.fields.String(allow_none=True)
    held_out = ma.fields.Boolean(metadata={"description": "In its campaign's hold-out: checked, never sent"})
    created_at = ma.fields.AwareDateTime()
    sent_at = ma.fields.AwareDateTime(allow_none=True)
    closed_at = ma.fields.AwareDateTime(allow_none=True)


class TouchPageSchema(ResponseSchema):
    data = ma.fields.List(ma.fields.Nested(TouchSchema))
    next_cursor = ma.fields.String(allow_none=True)


class CallbackMemberSchema(ResponseSchema):
    """Who to call. An erased member shows nothing personal (name and phone null, `erased` true)."""

    id = ma.fields.String()
    member_number = ma.fields.String()
    name = ma.fields.String(allow_none=True)
    phone = ma.fields.String(allow_none=True, metadata={"description": "E.164"})
    tier = ma.fields.String(allow_none=True)
    tier_name = ma.fields.String(allow_none=True)
    timezone = ma.fields.String(metadata={"description": "The member's time zone, else the program's"})
    erased = ma.fields.Boolean()


class CallbackSchema(TouchSchema):
    member = ma.fields.Nested(CallbackMemberSchema)
    about = ma.fields.String(
        allow_none=True,
        metadata={
            "description": "What the call is about: the complaint's text, or the occasion (null for an erased member)"
        },
    )


class CallbackPageSchema(ResponseSchema):
    data = ma.fields.List(ma.fields.Nested(CallbackSchema))
    next_cursor = ma.fields.String(allow_none=True)


class TouchQueryArgsSchema(ListArgsSchema):
    member_id = ma.fields.String(
        validate=ma.validate.Length(min=1, max=32), metadata={"description": "Only this member's touches"}
    )
    kind = ma.fields.String(validate=ma.validate.OneOf(KINDS), metadata={"description": "Only touches of this kind"})
    status = ma.fields.String(
        validate=ma.validate.OneOf(TOUCH_STATUSES), metadata={"description": "Only touches in this status"}
    )
    channel = ma.fields.String(
        validate=ma.validate.OneOf(CHANNELS), metadata={"description": "Only touches on this channel"}
    )
    campaign_id = ma.fields.String(
        validate=ma.validate.Length(min=1, max=32), metadata={"description": "Only touches planned by this campaign"}
    )
    due_before = Instant(metadata={"description": "Only those due before this instant (RFC 3339)"})
    due_after = Instant(metadata={"description": "Only those due at or after this instant (RFC 3339)"})


class CallbackQueryArgsSchema(ListArgsSchema):
    assignee = ma.fields.String(
        validate=ma.validate.Length(min=1, max=100), metadata={"description": "Only callbacks assigned to this person"}
    )
    due_before = Instant(metadata={"description": "Only those due before this instant (RFC 3339)"})
    kind = ma.fields.String(validate=ma.validate.OneOf(KINDS), metadata={"description": "Only touches of this kind"})


class OutcomeInSchema(ma.Schema):
    outcome = ma.fields.String(required=True, validate=ma.validate.OneOf(OUTCOMES))
    callback_at = Instant(
        metadata={
            "description": "For call_back_later (required) or no_answer (instead of +4 h, "
            "which moves to the end of the member's night if it falls in it); "
            "must be in the member's working hours (quiet_end to quiet_start)"
        }
    )
    score = StrictInteger(validate=ma.validate.Range(min=1, max=5), metadata={"description": "Feedback score 1-5"})
    notes = ma.fields.String(validate=ma.validate.Length(max=5000))
    assignee = ma.fields.String(validate=ma.validate.Length(min=1, max=100))


class InteractionInSchema(ma.Schema):
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(INTERACTION_KINDS))
    channel = ma.fields.String(validate=ma.validate.OneOf(CHANNELS + ("in_store", "chat")))
    content = Text(max_length=5000, required=True)
    score = StrictInteger(validate=ma.validate.Range(min=1, max=5))
    assignee = ma.fields.String(
        validate=ma.validate.Length(min=1, max=100), metadata={"description": "For a complaint: who should call back"}
    )


class InteractionSchema(ResponseSchema):
    id = ma.fields.String()
    member_id = ma.fields.String()
    kind = ma.fields.String(metadata={"enum": list(INTERACTION_KINDS)})
    channel = ma.fields.String(allow_none=True)
    content = ma.fields.String()
    score = ma.fields.Integer(allow_none=True)
    staff = ma.fields.String(allow_none=True)
    touch_id = ma.fields.String(allow_none=True)
    created_at = ma.fields.AwareDateTime()
    resolved_at = ma.fields.AwareDateTime(allow_none=True)
    resolution = ma.fields.String(allow_none=True)
    goodwill_points = ma.fields.Integer()


class InteractionPageSchema(ResponseSchema):
    data = ma.fields.List(ma.fields.Nested(InteractionSchema))
    next_cursor = ma.fields.String(allow_none=True)


class ResolveInSchema(ma.Schema):
    resolution = Text(max_length=2000, required=True)
    goodwill_points = StrictInteger(load_default=0, validate=ma.validate.Range(min=0, max=1_000_000))
