"""Segment filters compiled to one SQL query over members.

This compiler is the one place that joins across features — members, their tags, insights and
points — because a segment over a million members has to be answered by the database in one
statement, not assembled in Python.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, time, timezone
from decimal import Decimal
from typing import Iterator

from sqlalchemy import and_, extract, func, or_, select
from sqlalchemy.orm import Session

from loyalty.core.db import utcnow
from loyalty.core.errors import NotFound, ValidationFailed
from loyalty.tiers.models import Tier
from loyalty.core.ids import new_id
from loyalty.core.pagination import keyset_page
from loyalty.campaigns.models import Segment
from loyalty.insights.models import MemberInsight
from loyalty.members.models import Member, MemberTag
from loyalty.points.service import available_points_of


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=timezone.utc)


def compile_filters(filters: dict, *, now: datetime):
    """The members a segment holds, as one SELECT of member ids (live members only)."""
    insight = MemberInsight
    query = (select(Member.id).select_from(Member).outerjoin(insight, insight.member_id == Member.id)
             .where(Member.merged_into.is_(None), Member.erased_at.is_(None)))
    conditions = []
    if filters.get("tiers"):
        conditions.append(Member.tier_code.in_(filters["tiers"]))
    if filters.get("statuses"):
        conditions.append(Member.status.in_(filters["statuses"]))
    if filters.get("tags"):
        conditions.append(Member.id.in_(select(MemberTag.member_id).where(MemberTag.tag.in_(filters["tags"]))))
    if filters.get("cities"):
        conditions.append(Member.city.in_(filters["cities"]))
    if filters.get("stages"):
        stage = func.coalesce(insight.stage, "prospect")
        conditions.append(stage.in_(filters["stages"]))
    for letter in ("r", "f", "m"):
        column = getattr(insight, f"{letter}_score")
        if filters.get(f"{letter}_min") is not None:
            conditions.append(column >= filters[f"{letter}_min"])
        if filters.get(f"{letter}_max") is not None:
            conditions.append(column <= filters[f"{letter}_max"])
    if filters.get("last_order_before"):
        conditions.append(or_(insight.last_order_at.is_(None), insight.last_order_at < _day_start(filters["last_order_before"])))
    if filters.get("last_order_after"):
        conditions.append(insight.last_order_at >= _day_start(filters["last_order_after"]))
    if filters.get("spend_12m_min") is not None:
        conditions.append(insight.spend_12m >= filters["spend_12m_min"])
    if filters.get("birthday_months"):
        conditions.append(extract("month", Member.birthday).in_(filters["birthday_months"]))
    today = now.date()
    if filters.get("age_min") is not None:  # born on or before today minus age_min years
        conditions.append(Member.birthday <= _years_before(today, filters["age_min"]))
    if filters.get("age_max") is not None:  # not yet age_max + 1
        conditions.append(Member.birthday > _years_before(today, filters["age_max"] + 1))
    if filters.get("enrolled_after"):
        conditions.append(Member.enrolled_at >= _day_start(filters["enrolled_after"]))
    if filters.get("enrolled_before"):
        conditions.append(Member.enrolled_at < _day_start(filters["enrolled_before"]))
    if filters.get("balance_min") is not None or filters.get("balance_max") is not None:
        available = available_points_of(Member.id)
        if filters.get("balance_min") is not None:
            conditions.append(available >= filters["balance_min"])
        if filters.get("balance_max") is not None:
            conditions.append(available <= filters["balance_max"])
    for channel, wanted in (filters.get("consent") or {}).items():
        flag = Member.consent[channel].as_boolean()
        conditions.append(flag.is_(True) if wanted else or_(flag.is_(None), flag.is_(False)))
    query = query.where(and_(*conditions)) if conditions else query
    return query.params(now=now)  # the balance expression counts points available now


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def create(session: Session, *, name: str, filters: dict, actor: str) -> Segment:
    known = set(session.scalars(select(Tier.code)))
    unknown = {f"filters.tiers.{i}": [f"No tier `{code}` (the ladder has {', '.join(sorted(known)) or 'none'})."]
               for i, code in enumerate(filters.get("tiers") or []) if code not in known}
    if unknown:
        raise ValidationFailed(unknown)
    segment = Segment(id=new_id("seg"), name=name, filters=_plain(filters), created_at=utcnow(), created_by=actor)
    session.add(segment)
    session.flush()
    return segment


def _plain(filters: dict) -> dict:
    return {k: (v.isoformat() if isinstance(v, date) else str(v) if isinstance(v, Decimal) else v)
            for k, v in filters.items() if v is not None}


def loaded(filters: dict) -> dict:
    """Stored filters with their dates and amounts back."""
    def back(key, value):
        if key in _DATES and isinstance(value, str):
            return date.fromisoformat(value)
        return Decimal(value) if key == "spend_12m_min" else value
    return {k: back(k, v) for k, v in filters.items()}


_DATES = {"last_order_before", "last_order_after", "enrolled_after", "enrolled_before"}


def get(session: Session, segment_id: str) -> Segment:
    segment = session.get(Segment, segment_id)
    if segment is None:
        raise NotFound(f"No segment `{segment_id}`.")
    return segment


def count(session: Session, filters: dict, *, now: datetime | None = None) -> int:
    members = compile_filters(loaded(filters), now=now or utcnow()).subquery()
    return session.scalar(select(func.count()).select_from(members))


def with_count(session: Session, segment: Segment) -> dict:
    return {"id": segment.id, "name": segment.name, "filters": segment.filters, "created_at": segment.created_at,
            "created_by": segment.created_by, "members": count(session, segment.filters)}


def list_segments(session: Session, *, limit: int, cursor: str | None = None) -> dict:
    return keyset_page(session, select(Segment), Segment.id, limit=limit, cursor=cursor, descending=True)


def members_page(session: Session, *, segment_id: str, limit: int, cursor: str | None = None) -> dict:
    ids = compile_filters(loaded(get(session, segment_id).filters), now=utcnow()).subquery()
    return keyset_page(session, select(Member).where(Member.id.in_(select(ids.c.id))), Member.id,
                       limit=limit, cursor=cursor)


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
        rows = session.execute(select(Member.id, Member.member_number, Member.name, Member.email, Member.phone,
                                      Member.tier_code, Member.status, Member.city, Member.enrolled_at)
                               .where(Member.id.in_(select(ids.c.id)), Member.id > after)
                               .order_by(Member.id).limit(batch)).all()
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
