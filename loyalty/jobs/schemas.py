from __future__ import annotations

import marshmallow as ma

from loyalty.core.fields import ResponseSchema
from loyalty.core.schemas import ListArgsSchema

STATUSES = ("running", "ok", "failed")


class JobRunQueryArgsSchema(ListArgsSchema):
    job = ma.fields.String(
        validate=ma.validate.Length(min=1, max=40),
        metadata={"description": "Only this job's runs, e.g. `points.expire` (`loyalty jobs list`)"},
    )
    status = ma.fields.String(validate=ma.validate.OneOf(STATUSES), metadata={"description": "Only runs in this state"})


class JobRunSchema(ResponseSchema):
    id = ma.fields.Integer()
    job = ma.fields.String(metadata={"description": "The job's name, e.g. `points.expire`"})
    as_of = ma.fields.Date(metadata={"description": "The day the run worked as of, in the program's time zone"})
    started_at = ma.fields.AwareDateTime()
    finished_at = ma.fields.AwareDateTime(allow_none=True, metadata={"description": "Null while running"})
    duration_seconds = ma.fields.Float(allow_none=True, metadata={"description": "Null while running"})
    status = ma.fields.String(
        validate=ma.validate.OneOf(STATUSES),
        metadata={"description": "`running`, `ok`, or `failed` (a run that died with its scheduler stays `running`)"},
    )
    counts = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Integer(),
        allow_none=True,
        metadata={"description": "What the run did (e.g. `lots_expired`); null unless ok"},
    )
    holder = ma.fields.String(metadata={"description": "The scheduler process that ran it (host:pid:tag)"})
    error = ma.fields.String(
        allow_none=True,
        metadata={
            "description": "Why a failed run failed: the exception's type, the driver's and the constraint's name, "
            "never a message (which may hold personal data)"
        },
    )


class JobRunPageSchema(ResponseSchema):
    data = ma.fields.List(ma.fields.Nested(JobRunSchema))
    next_cursor = ma.fields.String(
        allow_none=True, metadata={"description": "Pass as `cursor` for the next page; null on the last"}
    )
