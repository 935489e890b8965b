"""Segments' in and out shapes: the filters, each optional, all given must hold."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import marshmallow as ma

from loyalty.core.fields import DecimalString, ResponseSchema, StrictBoolean, StrictInteger, Text
from loyalty.core.schemas import ListArgsSchema
from loyalty.insights.models import STAGES
from loyalty.members.models import CONSENT_KEYS, STATUSES
from loyalty.members.schemas import MemberSchema

_score = dict(validate=ma.validate.Range(min=1, max=5))


def _some(most: int) -> ma.validate.Length:
    # An empty list would match nobody, or everybody: neither is what anyone means. Leave it out.
    return ma.validate.Length(
        min=1, max=most, error="Give at least one value (leave the filter out for any), at most {max}."
    )


_short = ma.fields.String(validate=ma.validate.Length(min=1, max=100))


class SegmentFiltersSchema(ma.Schema):
    """Every filter optional; all given must hold. An unknown filter is a 422 naming it."""

    tiers = ma.fields.List(ma.fields.String(validate=ma.validate.Length(min=1, max=20)), validate=_some(50))
    statuses = ma.fields.List(ma.fields.String(validate=ma.validate.OneOf(STATUSES)), validate=_some(3))
    tags = ma.fields.List(_short, validate=_some(50))
    cities = ma.fields.List(_short, validate=_some(200))
    stages = ma.fields.List(ma.fields.String(validate=ma.validate.OneOf(STAGES)), validate=_some(5))
    r_min, r_max = StrictInteger(**_score), StrictInteger(**_score)
    f_min, f_max = StrictInteger(**_score), StrictInteger(**_score)
    m_min, m_max = StrictInteger(**_score), StrictInteger(**_score)
    last_order_before = ma.fields.Date(metadata={"description": "No order since this day (or none at all)"})
    last_order_after = ma.fields.Date()
    spend_12m_min = DecimalString(minimum=Decimal(0), max_places=2)
    birthday_months = ma.fields.List(StrictInteger(validate=ma.validate.Range(min=1, max=12)), validate=_some(12))
    age_min = StrictInteger(validate=ma.validate.Range(min=0, max=130))
    age_max = StrictInteger(validate=ma.validate.Range(min=0, max=130))
    balance_min = StrictInteger(validate=ma.validate.Range(min=-(10**12), max=10**12))
    balance_max = StrictInteger(validate=ma.validate.Range(min=-(10**12), max=10**12))
    consent = ma.fields.Dict(keys=ma.fields.String(validate=ma.validate.OneOf(CONSENT_KEYS)), values=StrictBoolean())
    enrolled_after = ma.fields.Date()
    enrolled_before = ma.fields.Date()

    @ma.validates_schema
    def _ranges(self, data: dict[str, Any], **_kwargs: Any) -> None:
        for low, high in (
            ("r_min", "r_max"),
            ("f_min", "f_max"),
            ("m_min", "m_max"),
            ("age_min", "age_max"),
            ("balance_min", "balance_max"),
            ("last_order_after", "last_order_before"),
            ("enrolled_after", "enrolled_before"),
        ):
            if data.get(low) is not None and data.get(high) is not None and data[low] > data[high]:
                raise ma.ValidationError(f"`{low}` is above `{high}`: nobody could match.", low)


class SegmentInSchema(ma.Schema):
    name = Text(max_length=200, required=True)
    filters = ma.fields.Nested(SegmentFiltersSchema, required=True)


class SegmentUpdateSchema(ma.Schema):
    """Only what is sent changes; `filters` replaces the filters whole."""

    name = Text(max_length=200)
    filters = ma.fields.Nested(SegmentFiltersSchema, metadata={"description": "Replaces the filters whole"})


class StoredFilters(ma.fields.Nested):
    """A segment's filters as stored: already validated and plain JSON (dates and amounts as
    strings), so answered as they are. Documented as the same `SegmentFilters` component the
    request takes — an inline object here would be a second shape a client generator names
    `SegmentFilters` too (openapi-python-client then drops `Segment`)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(SegmentFiltersSchema, **kwargs)

    # marshmallow's Nested renames Field's `value` to `nested_obj`: no name matches both signatures.
    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> dict[str, Any] | None:  # type: ignore[override]
        return None if value is None else dict(value)


class SegmentSchema(ResponseSchema):
    id = ma.fields.String()
    name = ma.fields.String()
    filters = StoredFilters()
    members = ma.fields.Integer(metadata={"description": "How many members it holds now"})
    created_at = ma.fields.AwareDateTime()
    created_by = ma.fields.String(allow_none=True)


class SegmentListItemSchema(ResponseSchema):
    id = ma.fields.String()
    name = ma.fields.String()
    filters = StoredFilters()
    created_at = ma.fields.AwareDateTime()


class SegmentPageSchema(ResponseSchema):
    data = ma.fields.List(ma.fields.Nested(SegmentListItemSchema))
    next_cursor = ma.fields.String(allow_none=True)


class SegmentMembersPageSchema(ResponseSchema):
    data = ma.fields.List(ma.fields.Nested(MemberSchema))
    next_cursor = ma.fields.String(allow_none=True)


SegmentMembersArgsSchema = ListArgsSchema
