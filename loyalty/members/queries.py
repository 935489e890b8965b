"""Set-based reads of members for batch jobs (care planning, campaigns): who celebrates on a day,
who is live, in keyset pages."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from loyalty.core.db import among
from loyalty.members.models import Member


def _month_day(session: Session, column):
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(column, "MM-DD")
    return func.strftime("%m-%d", column)


def _live(query):
    """Members one may still contact: not merged away, not erased, not blocked."""
    return query.where(Member.merged_into.is_(None), Member.erased_at.is_(None), Member.status != "blocked")


def birthdays_on(session: Session, month_days: set[str]) -> list[tuple[str, date, str | None]]:
    """(id, birthday, time zone) of live members born on any of the "MM-DD" days."""
    return [
        tuple(row)
        for row in session.execute(
            _live(
                select(Member.id, Member.birthday, Member.timezone).where(
                    Member.birthday.is_not(None), _month_day(session, Member.birthday).in_(sorted(month_days))
                )
            )
        )
    ]


def enrolled_on(session: Session, month_days: set[str]) -> list[tuple[str, datetime]]:
    """(id, enrolled at) of live members enrolled on any of the "MM-DD" days (UTC)."""
    return [
        tuple(row)
        for row in session.execute(
            _live(
                select(Member.id, Member.enrolled_at).where(
                    _month_day(session, Member.enrolled_at).in_(sorted(month_days))
                )
            )
        )
    ]


def live_page(session: Session, *, after: str, limit: int) -> list[str]:
    return list(session.scalars(_live(select(Member.id).where(Member.id > after)).order_by(Member.id).limit(limit)))


def live_among(session: Session, member_ids: list[str]) -> set[str]:
    if not member_ids:
        return set()
    return set(session.scalars(_live(select(Member.id).where(among(session, Member.id, member_ids)))))


def counts_by_tier_and(session: Session, column, member_key) -> list[tuple[str | None, str | None, int]]:
    """(tier, value of `column`, members) for live members, `column` from a table joined on `member_key`."""
    return [
        tuple(row)
        for row in session.execute(
            select(Member.tier_code, column, func.count())
            .select_from(Member)
            .outerjoin(member_key.table, member_key == Member.id)
            .where(Member.merged_into.is_(None), Member.erased_at.is_(None))
            .group_by(Member.tier_code, column)
        )
    ]


def birthdays_within(
    session: Session, month_days: list[set[str]], *, limit: int, after: tuple[int, str] | None = None
) -> list[tuple[int, str, str | None, date, str | None, str | None]]:
    """(day index, id, name, birthday, time zone, tier) of live members whose birthday falls on the
    i-th set of "MM-DD" days (a week, say: a 29 February birthday can sit with the 28th), by day then
    id, resuming after (index, id)."""
    month_day = _month_day(session, Member.birthday)
    index = case(*((month_day.in_(sorted(days)), i) for i, days in enumerate(month_days) if days), else_=None)
    wanted = sorted(set().union(*month_days))
    query = _live(
        select(index.label("day"), Member.id, Member.name, Member.birthday, Member.timezone, Member.tier_code).where(
            Member.birthday.is_not(None), month_day.in_(wanted)
        )
    )
    if after:
        query = query.where(or_(index > after[0], and_(index == after[0], Member.id > after[1])))
    return [tuple(row) for row in session.execute(query.order_by(index, Member.id).limit(limit))]
