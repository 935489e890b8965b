from __future__ import annotations

import marshmallow as ma

from loyalty.audit.models import AuditEntry
from loyalty.core.fields import Instant, ResponseSchema
from loyalty.core.schemas import ListArgsSchema


class AuditQueryArgsSchema(ListArgsSchema):
    actor = ma.fields.String(
        validate=ma.validate.Length(min=1, max=20), metadata={"description": "A key's prefix, or `cli`"}
    )
    target = ma.fields.String(
        validate=ma.validate.Length(min=1, max=100),
        metadata={"description": "The id a change addressed, e.g. a member id"},
    )
    action = ma.fields.String(
        validate=ma.validate.Length(min=1, max=100),
        metadata={"description": "e.g. `members.update_member`, `tiers.put_tiers`, `keys.create`"},
    )
    from_ = Instant(data_key="from", metadata={"description": "From this instant (inclusive)"})
    to = Instant(metadata={"description": "Until this instant (exclusive)"})


class AuditEntrySchema(ResponseSchema):
    id = ma.fields.Integer()
    at = ma.fields.AwareDateTime()
    actor = ma.fields.Method(
        "_actor", metadata={"description": "Who: the key's prefix, name and role (`cli` for the command line)"}
    )
    action = ma.fields.String()
    target = ma.fields.String(allow_none=True)
    # `fields` would shadow Schema.fields (the bound fields) for the type checker: named apart, same key.
    fields_ = ma.fields.List(
        ma.fields.String(),
        attribute="fields",
        data_key="fields",
        metadata={"description": "Names of the fields sent; never their values"},
    )
    request_id = ma.fields.String(allow_none=True)

    def _actor(self, entry: AuditEntry) -> dict[str, str]:
        return {"prefix": entry.actor, "name": entry.actor_name, "role": entry.actor_role}


class AuditPageSchema(ResponseSchema):
    data = ma.fields.List(ma.fields.Nested(AuditEntrySchema))
    next_cursor = ma.fields.String(allow_none=True)
