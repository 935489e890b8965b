"""Segment filters compiled to one SQL query over members.

This compiler is the one place that joins across features — members, their tags, insights and
points — because a segment over a million members has to be answered by the database in one
statement, not assembled in Python.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, extract, func, or_, select

from loyalty.insights.models import MemberInsight
from loyalty.members.models import Member, MemberTag
from loyalty.points import balances


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def compile_filters(
    filters: Mapping[str, Any], *, now: datetime, after: str = "", until: str | None = None
) -> Select[str]:
    """The members a segment holds, as one SELECT of member ids (live members only); `after` and
    `until`: only those with ids in (after, until] (a keyset page, a window of a walk), said in every
    join as well, so the database reads the insights and lots of that range only (it doesn't carry
    a range across a join by itself: each page of a walk scanned them whole)."""
    insight = MemberInsight
    query = (
        select(Member.id)
        .select_from(Member)
        .outerjoin(insight, and_(insight.member_id == Member.id, *_within(insight.member_id, after, until)))
        .where(Member.merged_into.is_(None), Member.erased_at.is_(None), *_within(Member.id, after, until))
    )
    conditions: list[ColumnElement[bool]] = []
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
        conditions.append(
            or_(insight.last_order_at.is_(None), insight.last_order_at < _day_start(filters["last_order_before"]))
        )
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
        query, available = _with_balance(query, now=now, after=after, until=until, floor=filters.get("balance_min"))
        if filters.get("balance_min") is not None:
            conditions.append(available >= filters["balance_min"])
        if filters.get("balance_max") is not None:
            conditions.append(available <= filters["balance_max"])
    for channel, wanted in (filters.get("consent") or {}).items():
        flag = Member.consent[channel].as_boolean()
        conditions.append(flag.is_(True) if wanted else or_(flag.is_(None), flag.is_(False)))
    return query.where(and_(*conditions)) if conditions else query


def _within(member_id: Any, after: str, until: str | None) -> list[ColumnElement[bool]]:
    return ([member_id > after] if after else []) + ([member_id <= until] if until is not None else [])


def _with_balance(
    query: Select[str], *, now: datetime, after: str, until: str | None, floor: int | None
) -> tuple[Select[str], ColumnElement[int]]:
    """The query joined once to every member's available points at `now`, as points.service's
    `available_points` counts them (points.balances: the stored balance where it holds, else the
    lots live); 0 without an account (no lots, no debt). Summing every member's lots took a pass
    over all the lots (1.0-1.4 s for a million members); this is a pass over the accounts.

    `floor` (balance_min) above 0: a member without an account has 0, so only accounts reaching it
    can qualify: the balances keep those alone and are joined, not LEFT JOINed."""
    reaching = floor is not None and floor > 0
    points = balances.available(
        now, floor=floor if reaching else None, within=lambda member_id: _within(member_id, after, until)
    )
    joined = query.join(points, points.c.member_id == Member.id, isouter=not reaching)
    return joined, func.coalesce(points.c.points, 0)


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)
