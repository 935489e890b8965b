"""insights.refresh: per member RFM scores, lifecycle stage and churn risk, as of a date.

Set-based: one INSERT ... SELECT over members joined to their grouped orders writes every
member's figures, stage and churn risk (the rules of `insights/rules.py`, in SQL), then three
statements give the RFM quintiles (NTILE over all buyers)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import QueryableAttribute, Session

from loyalty.core.dates import add_months
from loyalty.core.db import insert_for, utcnow
from loyalty.core.jobs import JobContext, day_end
from loyalty.core.logging import get_logger
from loyalty.insights.figures import COLUMNS, figures
from loyalty.insights.models import MemberInsight
from loyalty.program.service import settings

log = get_logger("loyalty.jobs.insights")


def _score(session: Session, column: str, *order: ColumnElement[Any] | QueryableAttribute[Any]) -> None:
    ranked = (
        select(MemberInsight.member_id, func.ntile(5).over(order_by=order).label("fifth"))
        .where(MemberInsight.orders_total > 0)
        .subquery()
    )
    session.execute(
        update(MemberInsight)
        .where(MemberInsight.member_id == ranked.c.member_id)
        .values({column: ranked.c.fifth})
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(MemberInsight)
        .where(MemberInsight.orders_total == 0)
        .values({column: None})
        .execution_options(synchronize_session=False)
    )


def _figures(session: Session, *, now: datetime, since: datetime) -> None:
    """Every member's figures, stage and churn risk, as one INSERT ... SELECT (upsert)."""
    insert = insert_for(session)
    statement = insert(MemberInsight).from_select(COLUMNS, figures(session, now=now, since=since))
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["member_id"], set_={c: getattr(statement.excluded, c) for c in COLUMNS[1:]}
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
    with context.db.unit_of_work() as session:  # quintiles over all buyers: most recent, most often, most = 5
        _score(session, "r_score", MemberInsight.last_order_at.asc(), MemberInsight.member_id)
        _score(
            session,
            "f_score",
            MemberInsight.orders_12m.asc(),
            MemberInsight.orders_total.asc(),
            MemberInsight.member_id,
        )
        _score(session, "m_score", MemberInsight.spend_12m.asc(), MemberInsight.member_id)
    log.info("insights_refreshed", **counts)
    return counts
