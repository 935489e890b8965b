"""marshmallow shapes every feature's API shares."""

from __future__ import annotations

import marshmallow as ma

from loyalty.core.pagination import DEFAULT_LIMIT, MAX_LIMIT


class ListArgsSchema(ma.Schema):
    limit = ma.fields.Integer(
        load_default=DEFAULT_LIMIT,
        validate=ma.validate.Range(min=1, max=MAX_LIMIT),
        metadata={"description": "Page size, 1-500 (default 50)"},
    )
    cursor = ma.fields.String(
        validate=ma.validate.Length(max=500),
        metadata={"description": "Opaque cursor from the previous page's `next_cursor`; omit for the first page"},
    )
