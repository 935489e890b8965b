"""Per member figures, lifecycle stage and churn risk as one SELECT: the rules of insights/rules.py
in SQL, the same on both databases.

insights.refresh writes it for every member; a member it hasn't seen yet (enrolled since the last
refresh) is read through the same SELECT, so the member endpoint and the summary give one answer
(no orders: `prospect`, in both).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Numeric, Select, and_, case, cast, func, literal, select
from sqlalchemy.orm import QueryableAttribute, Session

from loyalty.core.db import UTCDateTime
from loyalty.insights import rules
from loyalty.insights.models import MemberInsight
from loyalty.members.models import Member
from loyalty.purchases.facts import order_stats_subquery

COLUMNS = [
    "member_id",
    "orders_total",
    "orders_12m",
    "spend_12m",
    "spend_total",
    "first_order_at",
    "last_order_at",
    "usual_interval_days",
    "stage",
    "churn_risk",
    "refreshed_at",
]


_Instant = ColumnElement[Any] | QueryableAttribute[Any]


def _days(session: Session, start: _Instant, end: _Instant) -> ColumnElement[Any]:
    """Days from `start` to `end` as a float, in either database."""
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", end - start) / 86400.0
    return func.julianday(end) - func.julianday(start)


def figures(
    session: Session, *, now: datetime, since: datetime, members: Sequence[str] | Select[Any] | None = None
) -> Select[Any]:
    """Every member's (or only `members`': ids, or a SELECT of them) figures as of `now`, one row
    each, labelled as COLUMNS; merged members are left out."""
    postgres = session.get_bind().dialect.name == "postgresql"
    larger, smaller = (func.greatest, func.least) if postgres else (func.max, func.min)
    stats = order_stats_subquery(since=since, members=members)
    moment = literal(now, UTCDateTime())
    orders = func.coalesce(stats.c.orders, 0)
    usual = case(
        (
            and_(orders >= 2, stats.c.last > stats.c.first),
            larger(_days(session, stats.c.first, stats.c.last) / (orders - 1), 1.0),
        ),
        else_=rules.SINGLE_ORDER_INTERVAL.days * 1.0,
    )
    since_last = _days(session, stats.c.last, moment)
    stage = case(
        (orders == 0, "prospect"),
        (since_last > 2 * usual, "lapsed"),
        (since_last > 1.5 * usual, "at_risk"),
        (_days(session, stats.c.first, moment) <= rules.NEW_FOR.days, "new"),
        else_="active",
    )
    churn = case((orders == 0, 0.0), else_=smaller(larger(since_last / (2 * usual), 0.0), 1.0))
    values = (
        Member.id,
        orders,
        func.coalesce(stats.c.orders_recent, 0),
        func.coalesce(stats.c.spend_recent, 0),
        func.coalesce(stats.c.spend, 0),
        stats.c.first,
        stats.c.last,
        case((orders > 0, usual), else_=None),
        stage,
        func.round(cast(churn, Numeric), 3),
        moment,
    )
    selected = (
        select(*(value.label(name) for value, name in zip(values, COLUMNS)))
        .select_from(Member)
        .outerjoin(stats, stats.c.member_id == Member.id)
        .where(Member.merged_into.is_(None))
    )
    return selected if members is None else selected.where(Member.id.in_(members))


def unrefreshed() -> Select[str]:
    """Live members insights.refresh hasn't seen yet, as a SELECT of their ids."""
    return (
        select(Member.id)
        .outerjoin(MemberInsight, MemberInsight.member_id == Member.id)
        .where(MemberInsight.member_id.is_(None), Member.merged_into.is_(None), Member.erased_at.is_(None))
    )
