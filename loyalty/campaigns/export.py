"""A segment's members as CSV, streamed in keyset batches and safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from loyalty.campaigns.filters import compile_filters
from loyalty.campaigns.segments import get, loaded
from loyalty.core.db import utcnow
from loyalty.members.models import Member

_PHONE = re.compile(r"\+[0-9]{6,15}")
EXPORT_COLUMNS = ("id", "member_number", "name", "email", "phone", "tier", "status", "city", "enrolled_at")


def export_rows(session: Session, *, segment_id: str, batch: int = 2000) -> Iterator[str]:
    """The segment's members as CSV lines, read in keyset batches so memory stays flat."""
    ids = compile_filters(loaded(get(session, segment_id).filters), now=utcnow()).subquery()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)
    yield _drain(buffer)
    after = ""
    while True:
        rows = session.execute(
            select(
                Member.id,
                Member.member_number,
                Member.name,
                Member.email,
                Member.phone,
                Member.tier_code,
                Member.status,
                Member.city,
                Member.enrolled_at,
            )
            .where(Member.id.in_(select(ids.c.id)), Member.id > after)
            .order_by(Member.id)
            .limit(batch)
        ).all()
        if not rows:
            return
        for row in rows:
            writer.writerow([_cell(value) for value in row])
        yield _drain(buffer)
        after = rows[-1][0]


def _cell(value) -> str:
    text = "" if value is None else (value.isoformat() if isinstance(value, datetime) else str(value))
    # A cell a spreadsheet would run as a formula is quoted as text (CSV injection); an E.164
    # phone number is a number, not a formula.
    if text[:1] in ("=", "+", "-", "@") and not _PHONE.fullmatch(text):
        return "'" + text
    return text


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
