"""insights.refresh: per member RFM scores, lifecycle stage and churn risk, as of a date.

Two passes: keyset batches of members write each one's order figures, stage and churn risk;
then three set-based statements give the RFM quintiles (NTILE over all buyers)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Callable

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from loyalty.core.db import utcnow
from loyalty.core.jobs import JobContext, day_end
from loyalty.core.logging import get_logger
from loyalty.insights import rules
from loyalty.insights.models import MemberInsight
from loyalty.members import queries
from loyalty.program.service import settings
from loyalty.core.dates import add_months

BATCH = 5000
log = get_logger("loyalty.jobs.insights")
_stats: list[Callable[..., dict]] = []


def use_order_stats(source: Callable[..., dict]) -> None:
    """The orders feature (above this one) hands in how to read members' order figures."""
    _stats[:] = [source]


def figures(member_ids: list[str], stats: dict, *, now: datetime) -> list[dict]:
    rows = []
    for member_id in member_ids:
        total, recent, spend, spend_recent, first, last = stats.get(member_id, (0, 0, 0, 0, None, None))
        total = int(total or 0)
        usual = rules.usual_interval(first, last, total) if total else None
        rows.append({
            "member_id": member_id, "orders_total": total, "orders_12m": int(recent or 0),
            "spend_total": Decimal(spend or 0).quantize(Decimal("0.01")),
            "spend_12m": Decimal(spend_recent or 0).quantize(Decimal("0.01")),
            "first_order_at": first, "last_order_at": last,
            "usual_interval_days": Decimal(usual.total_seconds() / 86400).quantize(Decimal("0.01")) if usual else None,
            "stage": rules.stage(first=first, last=last, orders=total, now=now),
            "churn_risk": rules.churn_risk(first=first, last=last, orders=total, now=now),
            "refreshed_at": now,
        })
    return rows


def _upsert(session, rows: list[dict]) -> None:
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(MemberInsight)
    columns = [c for c in rows[0] if c != "member_id"]
    session.execute(statement.on_conflict_do_update(index_elements=["member_id"],
                                                    set_={c: getattr(statement.excluded, c) for c in columns}), rows)


def _score(session, column, *order) -> None:
    ranked = (select(MemberInsight.member_id, func.ntile(5).over(order_by=order).label("fifth"))
              .where(MemberInsight.orders_total > 0).subquery())
    session.execute(update(MemberInsight).where(MemberInsight.member_id == ranked.c.member_id)
                    .values({column: ranked.c.fifth}).execution_options(synchronize_session=False))
    session.execute(update(MemberInsight).where(MemberInsight.orders_total == 0).values({column: None})
                    .execution_options(synchronize_session=False))


def refresh_insights(context: JobContext) -> dict[str, int]:
    with context.db.unit_of_work() as session:
        now = day_end(context.as_of, settings(session).timezone, utcnow())
    since = add_months(now, -12)
    counts = {"members": 0}
    after = ""
    while True:
        with context.db.unit_of_work() as session:
            ids = queries.page(session, after=after, limit=BATCH)
            if not ids:
                break
            rows = figures(ids, _stats[0](session, ids, since=since) if _stats else {}, now=now)
            _upsert(session, rows)
            for row in rows:
                counts[row["stage"]] = counts.get(row["stage"], 0) + 1
        counts["members"] += len(ids)
        after = ids[-1]
    with context.db.unit_of_work() as session:  # quintiles over all buyers: most recent, most often, most = 5
        _score(session, "r_score", MemberInsight.last_order_at.asc(), MemberInsight.member_id)
        _score(session, "f_score", MemberInsight.orders_12m.asc(), MemberInsight.orders_total.asc(),
               MemberInsight.member_id)
        _score(session, "m_score", MemberInsight.spend_12m.asc(), MemberInsight.member_id)
    log.info("insights_refreshed", **counts)
    return counts
