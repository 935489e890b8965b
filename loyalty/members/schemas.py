from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import marshmallow as ma

from loyalty.core.fields import ResponseSchema, StrictBoolean, Text, validate_timezone
from loyalty.core.schemas import ListArgsSchema
from loyalty.members.identity import InvalidIdentifier, normalise_email
from loyalty.members.models import STATUSES

GENDERS = ("female", "male", "other", "undisclosed")
_LOCALE = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8}){0,3}$")
_EXTERNAL_ID = re.compile(r"^[\x21-\x7e]{1,100}$")
_MAX_TAGS = 50


def _birthday(value: date) -> None:
    # "Today" wherever the member lives: the earliest zone is UTC+14, and the host's own zone is no one's.
    latest = (datetime.now(UTC) + timedelta(hours=14)).date()
    if value < date(1900, 1, 1) or value > latest:
        raise ma.ValidationError("Must be a date between 1900-01-01 and today.")


_external_id = ma.validate.Regexp(_EXTERNAL_ID, error="1-100 printable ASCII characters without spaces.")
_locale = ma.validate.Regexp(_LOCALE, error="Not a locale tag (e.g. `zh-CN`, `en`).")


class Email(ma.fields.String):
    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if len(text) > 320:
            raise ma.ValidationError("At most 320 characters.")
        try:
            return normalise_email(text)
        except InvalidIdentifier as error:
            raise ma.ValidationError(str(error)) from None


class ConsentSchema(ma.Schema):
    openapi_name = "ConsentIn"

    email = StrictBoolean()
    sms = StrictBoolean()
    phone = StrictBoolean()
    push = StrictBoolean()
    marketing = StrictBoolean()


class Tags(ma.fields.List):
    def __init__(self, **kwargs) -> None:
        super().__init__(Text(max_length=50), validate=ma.validate.Length(max=_MAX_TAGS), **kwargs)


class _MemberFields(ma.Schema):
    external_id = ma.fields.String(
        validate=_external_id, allow_none=True, metadata={"description": "The storefront's customer id (unique)"}
    )
    name = Text(max_length=200, allow_none=True)
    email = Email(allow_none=True, metadata={"description": "Unique; stored lower-cased", "format": "email"})
    phone = ma.fields.String(
        validate=ma.validate.Length(min=1, max=40),
        allow_none=True,
        metadata={
            "description": "Unique; any common format, stored as E.164 (national numbers use the program's country)"
        },
    )
    birthday = ma.fields.Date(validate=_birthday, allow_none=True)
    gender = ma.fields.String(validate=ma.validate.OneOf(GENDERS), allow_none=True)
    city = Text(max_length=100, allow_none=True)
    occupation = Text(max_length=100, allow_none=True)
    timezone = ma.fields.String(
        validate=validate_timezone, allow_none=True, metadata={"description": "IANA zone; the program's when absent"}
    )
    locale = ma.fields.String(validate=_locale, allow_none=True)
    tags = Tags()
    consent = ma.fields.Nested(
        ConsentSchema, metadata={"description": "Per channel and for marketing; absent keys are false (opt-in)"}
    )


class MemberCreateSchema(_MemberFields):
    """Every field is optional: a card handed out at the till may carry only its member number."""

    openapi_name = "MemberIn"

    referral_code = Text(
        max_length=32,
        metadata={
            "description": "The referral code the member signs up with, as typed (case and separators ignored); "
            "answered as `referred_by_code`"
        },
    )


class MemberUpdateSchema(_MemberFields):
    status = ma.fields.String(validate=ma.validate.OneOf(STATUSES))
    consent = ma.fields.Nested(ConsentSchema, metadata={"description": "Only the channels sent change"})


class SignupReferralSchema(ResponseSchema):
    id = ma.fields.String()
    status = ma.fields.String(metadata={"enum": ["pending", "rejected"]})
    reason = ma.fields.String(allow_none=True, metadata={"description": "Why no referral was made (e.g. unknown_code)"})


class MemberSchema(ResponseSchema):
    optional_fields = frozenset({"referral"})

    id = ma.fields.String()
    member_number = ma.fields.String(metadata={"description": "12 digits, the last a Luhn check digit"})
    external_id = ma.fields.String(allow_none=True)
    name = ma.fields.String(allow_none=True)
    email = ma.fields.String(allow_none=True)
    phone = ma.fields.String(allow_none=True)
    birthday = ma.fields.Date(allow_none=True)
    gender = ma.fields.String(allow_none=True)
    city = ma.fields.String(allow_none=True)
    occupation = ma.fields.String(allow_none=True)
    timezone = ma.fields.String(allow_none=True)
    locale = ma.fields.String(allow_none=True)
    tags = ma.fields.List(ma.fields.String())
    consent = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Boolean())
    share_code = ma.fields.String(
        allow_none=True,
        metadata={
            "description": "The member's own referral code, to share with friends (as at /v1/members/{id}/referral); "
            "null once erased"
        },
    )
    referred_by_code = ma.fields.String(
        allow_none=True,
        metadata={
            "description": "The referral code the member signed up with, upper-cased without separators "
            "(null if none; whether it was accepted: `GET /v1/referrals?referee_id=`)"
        },
    )
    referral_code = ma.fields.Function(
        lambda member: member.referred_by_code,
        allow_none=True,
        metadata={
            "type": "string",
            "deprecated": True,
            "description": "Deprecated, kept for older clients: the same as `referred_by_code`. "
            "Not the member's own code, which is `share_code`",
        },
    )
    status = ma.fields.String(metadata={"enum": list(STATUSES)})
    tier = ma.fields.String(allow_none=True)
    enrolled_at = ma.fields.AwareDateTime()
    updated_at = ma.fields.AwareDateTime()
    erased_at = ma.fields.AwareDateTime(allow_none=True)
    referral = ma.fields.Nested(
        SignupReferralSchema,
        metadata={"description": "Only when enrolling with a referral_code: the referral made, or why none was"},
    )


class MemberQueryArgsSchema(ListArgsSchema):
    """An empty filter is refused, not ignored: `?email=` must not list everyone."""

    q = Text(max_length=100, metadata={"description": "Fragment of the name, case-insensitive"})
    external_id = ma.fields.String(
        validate=ma.validate.Length(min=1, max=100),
        metadata={"description": "Exact external id given by the storefront"},
    )
    email = ma.fields.String(
        validate=ma.validate.Length(min=1, max=320), metadata={"description": "Exact email address (case-insensitive)"}
    )
    phone = ma.fields.String(
        validate=ma.validate.Length(min=1, max=40),
        metadata={"description": "Phone number in any common format; compared as E.164"},
    )
    member_number = ma.fields.String(
        validate=ma.validate.Length(min=1, max=20),
        metadata={"description": "Exact member number (12 digits, Luhn check digit)"},
    )
    tag = Text(max_length=50, metadata={"description": "Members carrying this tag (staff and admin)"})
    tier = ma.fields.String(
        validate=ma.validate.Length(min=1, max=20),
        metadata={"description": "Members in this tier, by tier code (staff and admin)"},
    )
    status = ma.fields.String(
        validate=ma.validate.OneOf(STATUSES), metadata={"description": "Members with this status (staff and admin)"}
    )


class MemberPageSchema(ResponseSchema):
    data = ma.fields.List(ma.fields.Nested(MemberSchema))
    next_cursor = ma.fields.String(allow_none=True)


class MergeSchema(ma.Schema):
    openapi_name = "MergeIn"

    member_id = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=32),
        metadata={"description": "The member merged into this one; it becomes a tombstone"},
    )


class TimelineItemSchema(ResponseSchema):
    at = ma.fields.AwareDateTime()
    type = ma.fields.String(metadata={"description": "e.g. member.enrolled, member.updated, member.merged"})
    id = ma.fields.String()
    data = ma.fields.Dict()


class TimelinePageSchema(ResponseSchema):
    data = ma.fields.List(ma.fields.Nested(TimelineItemSchema))
    next_cursor = ma.fields.String(allow_none=True)
