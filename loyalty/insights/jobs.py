"""insights.refresh: per member RFM scores, lifecycle stage and churn risk, as of a date.

Set-based: one INSERT ... SELECT over members joined to their grouped orders writes every
member's figures, stage, churn risk (the rules of `insights/rules.py`, in SQL) and RFM quintiles
(NTILE over all buyers, in the same SELECT)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, null, select
from sqlalchemy.orm import Session

from loyalty.core.dates import add_months
from loyalty.core.db import insert_for, utcnow
from loyalty.core.jobs import JobContext, day_end
from loyalty.core.logging import get_logger
from loyalty.insights.figures import COLUMNS, figures
from loyalty.insights.models import MemberInsight
from loyalty.program.service import settings

log = get_logger("loyalty.jobs.insights")


SCORES = ["r_score", "f_score", "m_score"]


def _scored(session: Session, *, now: datetime, since: datetime) -> Select[Any]:
    """The figures with the RFM quintiles beside them, in the one SELECT that writes them: NTILE over
    all buyers (most recent, most often, most = 5; ties broken by member id), null for non-buyers.
    Rewriting a million rows three more times to score them cost more than computing the figures."""
    base = figures(session, now=now, since=since).subquery()
    buyer = base.c.orders_total > 0

    def fifth(*order: ColumnElement[Any]) -> ColumnElement[Any]:
        return case((buyer, func.ntile(5).over(partition_by=buyer, order_by=order)), else_=null())

    return select(
        *[base.c[column] for column in COLUMNS],
        fifth(base.c.last_order_at.asc(), base.c.member_id).label("r_score"),
        fifth(base.c.orders_12m.asc(), base.c.orders_total.asc(), base.c.member_id).label("f_score"),
        fifth(base.c.spend_12m.asc(), base.c.member_id).label("m_score"),
    ).where(base.c.member_id.is_not(None))  # a WHERE: SQLite would read the upsert's ON as a join's


def _figures(session: Session, *, now: datetime, since: datetime) -> None:
    """Every member's figures, stage, churn risk and RFM scores, as one INSERT ... SELECT (upsert)."""
    insert = insert_for(session)
    statement = insert(MemberInsight).from_select([*COLUMNS, *SCORES], _scored(session, now=now, since=since))
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["member_id"], set_={c: getattr(statement.excluded, c) for c in [*COLUMNS[1:], *SCORES]}
        )
    )


def refresh_insights(context: JobContext) -> dict[str, int]:
    with context.db.unit_of_work() as session:
        now = day_end(context.as_of, settings(session).timezone, utcnow())
    since = add_months(now, -12)
    with context.db.unit_of_work() as session:
        _figures(session, now=now, since=since)
        counts = {
            "members": 0,
            **dict(
                session.execute(
                    select(MemberInsight.stage, func.count())
                    .where(MemberInsight.refreshed_at == now)
                    .group_by(MemberInsight.stage)
                ).all()
            ),
        }
        counts["members"] = sum(v for k, v in counts.items() if k != "members")
    log.info("insights_refreshed", **counts)
    return counts
