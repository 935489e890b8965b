"""insights.refresh: per member RFM scores, lifecycle stage and churn risk, as of a date.

Set-based: one INSERT ... SELECT over members joined to their grouped orders writes every
member's figures, stage and churn risk (the rules of `insights/rules.py`, in SQL), then three
statements give the RFM quintiles (NTILE over all buyers)."""

from __future__ import annotations

from datetime import datetime
from typing import Callable

from sqlalchemy import Numeric, and_, case, cast, func, literal, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from loyalty.core.db import UTCDateTime, utcnow
from loyalty.core.jobs import JobContext, day_end
from loyalty.core.logging import get_logger
from loyalty.insights import rules
from loyalty.insights.models import MemberInsight
from loyalty.members.models import Member
from loyalty.program.service import settings
from loyalty.core.dates import add_months

log = get_logger("loyalty.jobs.insights")
_stats_subquery: list[Callable] = []


def use_order_stats(subquery: Callable) -> None:
    """The orders feature (above this one) hands in its grouped figures per member, as a subquery."""
    _stats_subquery[:] = [subquery]


def _score(session, column, *order) -> None:
    ranked = (select(MemberInsight.member_id, func.ntile(5).over(order_by=order).label("fifth"))
              .where(MemberInsight.orders_total > 0).subquery())
    session.execute(update(MemberInsight).where(MemberInsight.member_id == ranked.c.member_id)
                    .values({column: ranked.c.fifth}).execution_options(synchronize_session=False))
    session.execute(update(MemberInsight).where(MemberInsight.orders_total == 0).values({column: None})
                    .execution_options(synchronize_session=False))


def _days(session, start, end):
    """Days from `start` to `end` as a float, in either database."""
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", end - start) / 86400.0
    return func.julianday(end) - func.julianday(start)


def _figures(session, *, now: datetime, since: datetime):
    """Every live member's figures, stage and churn risk, as one INSERT ... SELECT (upsert)."""
    postgres = session.get_bind().dialect.name == "postgresql"
    larger, smaller = (func.greatest, func.least) if postgres else (func.max, func.min)
    stats = _stats_subquery[0](since=since)
    moment = literal(now, UTCDateTime())
    orders = func.coalesce(stats.c.orders, 0)
    usual = case((and_(orders >= 2, stats.c.last > stats.c.first),
                  larger(_days(session, stats.c.first, stats.c.last) / (orders - 1), 1.0)),
                 else_=rules.SINGLE_ORDER_INTERVAL.days * 1.0)
    since_last = _days(session, stats.c.last, moment)
    stage = case((orders == 0, "prospect"), (since_last > 2 * usual, "lapsed"), (since_last > 1.5 * usual, "at_risk"),
                 (_days(session, stats.c.first, moment) <= rules.NEW_FOR.days, "new"), else_="active")
    churn = case((orders == 0, 0.0), else_=smaller(larger(since_last / (2 * usual), 0.0), 1.0))
    selected = (select(Member.id, orders, func.coalesce(stats.c.orders_recent, 0),
                       func.coalesce(stats.c.spend_recent, 0), func.coalesce(stats.c.spend, 0), stats.c.first,
                       stats.c.last, case((orders > 0, usual), else_=None), stage, func.round(cast(churn, Numeric), 3), moment)
                .select_from(Member).outerjoin(stats, stats.c.member_id == Member.id)
                .where(Member.merged_into.is_(None)))
    columns = ["member_id", "orders_total", "orders_12m", "spend_12m", "spend_total", "first_order_at",
               "last_order_at", "usual_interval_days", "stage", "churn_risk", "refreshed_at"]
    insert = pg_insert if postgres else sqlite_insert
    statement = insert(MemberInsight).from_select(columns, selected)
    session.execute(statement.on_conflict_do_update(index_elements=["member_id"], set_={
        c: getattr(statement.excluded, c) for c in columns[1:]}))


def refresh_insights(context: JobContext) -> dict[str, int]:
    with context.db.unit_of_work() as session:
        now = day_end(context.as_of, settings(session).timezone, utcnow())
    since = add_months(now, -12)
    with context.db.unit_of_work() as session:
        _figures(session, now=now, since=since)
        counts = {"members": 0, **dict(session.execute(
            select(MemberInsight.stage, func.count()).where(MemberInsight.refreshed_at == now)
            .group_by(MemberInsight.stage)).all())}
        counts["members"] = sum(v for k, v in counts.items() if k != "members")
    with context.db.unit_of_work() as session:  # quintiles over all buyers: most recent, most often, most = 5
        _score(session, "r_score", MemberInsight.last_order_at.asc(), MemberInsight.member_id)
        _score(session, "f_score", MemberInsight.orders_12m.asc(), MemberInsight.orders_total.asc(),
               MemberInsight.member_id)
        _score(session, "m_score", MemberInsight.spend_12m.asc(), MemberInsight.member_id)
    log.info("insights_refreshed", **counts)
    return counts
