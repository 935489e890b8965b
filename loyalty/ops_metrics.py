"""What /metrics reads from the database at each scrape: jobs, the scheduler lease, webhooks, care
touches, points flows and open holds.

Read from the database, not counted in memory, because most of this work happens in the
`loyalty scheduler` process (which serves no /metrics) and because database-derived values agree
whichever gunicorn worker answers the scrape and survive restarts. Every query uses an index (a
status prefix, a partial index, the primary key, or a time window on an indexed column), and on
PostgreSQL the whole scrape runs under a statement timeout so a slow database can't pile scrapes up.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from prometheus_client import Metric
from prometheus_client.core import CounterMetricFamily, GaugeHistogramMetricFamily, GaugeMetricFamily
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from loyalty.care.models import Touch
from loyalty.core.models import JobRun, SchedulerLease
from loyalty.points.models import LedgerEntry
from loyalty.redemptions.models import Redemption
from loyalty.webhooks.models import Delivery, OutboxEvent

SCRAPE_TIMEOUT_MS = 2000
WINDOW = timedelta(hours=24)
TOUCH_OUTCOMES = ("sent", "suppressed", "failed", "held_out", "callback", "done")
# The ledger kinds an operator watches, by the name the metric gives them.
POINT_FLOWS = {
    "earn": "issued",
    "bonus": "issued",
    "redeem": "redeemed",
    "expire": "expired",
    "reversal": "reversed",
    "return": "returned",
    "adjust": "adjusted",
}


def collect(session: Session, *, now: datetime, dialect: str, ledger: LedgerTotals) -> list[Metric]:
    """Every database-derived metric family, read in the caller's (read-only) transaction."""
    if dialect == "postgresql":
        session.execute(text(f"SET LOCAL statement_timeout = {SCRAPE_TIMEOUT_MS}"))
    return [
        *_jobs(session, now),
        _lease(session, now),
        *_webhooks(session, now),
        *_touches(session, now),
        _holds(session),
        ledger.family(session),
    ]


def _jobs(session: Session, now: datetime) -> list[Metric]:
    """Runs started in the last 24 h (the started_at index) by job and outcome, their durations as a
    histogram, and what each job's last finished run did."""
    runs = session.execute(
        select(JobRun.job, JobRun.status, JobRun.started_at, JobRun.finished_at, JobRun.counts)
        .where(JobRun.started_at >= now - WINDOW)
        .order_by(JobRun.id)
    ).all()
    outcomes = GaugeMetricFamily(
        "loyalty_job_runs_24h", "Job runs started in the last 24 h, by outcome", labels=["job", "status"]
    )
    items = GaugeMetricFamily(
        "loyalty_job_last_items", "Items (sum of the counts) the last finished run handled", labels=["job"]
    )
    last_duration = GaugeMetricFamily(
        "loyalty_job_last_duration_seconds", "How long the last finished run took", labels=["job"]
    )
    sums = GaugeMetricFamily(
        "loyalty_job_counts_24h",
        "Each count the runs of the last 24 h reported, summed (webhooks.deliver delivered/dead, "
        "care.dispatch sent/suppressed, points.expire points_expired, ...)",
        labels=["job", "count"],
    )
    totals: dict[tuple[str, str], int] = {}
    tally: dict[tuple[str, str], int] = {}
    durations: dict[str, list[float]] = {}
    last: dict[str, tuple[float, int]] = {}
    for job, status, started, finished, counts in runs:
        tally[(job, status)] = tally.get((job, status), 0) + 1
        if finished is not None:
            seconds = (finished - started).total_seconds()
            durations.setdefault(job, []).append(seconds)
            last[job] = (seconds, sum(v for v in (counts or {}).values() if isinstance(v, int)))
        for key, value in (counts or {}).items():
            if isinstance(value, int):
                totals[(job, key)] = totals.get((job, key), 0) + value
    for (job, status), count in sorted(tally.items()):
        outcomes.add_metric([job, status], count)
    for job, (seconds, handled) in sorted(last.items()):
        last_duration.add_metric([job], seconds)
        items.add_metric([job], handled)
    for (job, key), value in sorted(totals.items()):
        sums.add_metric([job, key], value)
    return [outcomes, _duration_histogram(durations), last_duration, items, sums]


DURATION_BUCKETS = (0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600)


def _duration_histogram(durations: dict[str, list[float]]) -> GaugeHistogramMetricFamily:
    family = GaugeHistogramMetricFamily(
        "loyalty_job_duration_seconds", "Durations of the runs finished in the last 24 h", labels=["job"]
    )
    for job, values in sorted(durations.items()):
        buckets = [(str(bound), sum(1 for v in values if v <= bound)) for bound in DURATION_BUCKETS]
        buckets.append(("+Inf", len(values)))
        family.add_metric([job], buckets, gsum_value=sum(values))
    return family


def _lease(session: Session, now: datetime) -> GaugeMetricFamily:
    family = GaugeMetricFamily(
        "loyalty_scheduler_lease_holder",
        "1 for the scheduler holding an unexpired lease (absent: nobody runs the daily jobs)",
        labels=["lease", "holder"],
    )
    for name, holder in session.execute(
        select(SchedulerLease.name, SchedulerLease.holder).where(SchedulerLease.expires_at > now)
    ):
        family.add_metric([name, holder], 1)
    return family


def _webhooks(session: Session, now: datetime) -> list[Metric]:
    deliveries = GaugeMetricFamily(
        "loyalty_webhook_deliveries",
        "Webhook deliveries pending (due or retrying) and dead (given up, kept until the retention purge)",
        labels=["status"],
    )
    # One (status, next_attempt_at) index range each. Not `delivered`: counting the whole delivered
    # history is the slow part of a scrape; delivered per run is in loyalty_job_counts_24h.
    for status in ("pending", "dead"):
        deliveries.add_metric(
            [status], session.scalar(select(func.count()).select_from(Delivery).where(Delivery.status == status)) or 0
        )
    backlog = GaugeMetricFamily("loyalty_outbox_backlog", "Outbox events not yet fanned out to subscriptions")
    oldest = GaugeMetricFamily(
        "loyalty_outbox_oldest_undelivered_age_seconds",
        "Age of the oldest event with a delivery still pending, or not yet fanned out",
    )
    undispatched = OutboxEvent.dispatched_at.is_(None)
    backlog.add_metric([], session.scalar(select(func.count()).select_from(OutboxEvent).where(undispatched)) or 0)
    # Event ids grow with time, so the smallest id in each partial index is the oldest event.
    first_new = select(func.min(OutboxEvent.id)).where(undispatched).scalar_subquery()
    first_pending = select(func.min(Delivery.event_id)).where(Delivery.status == "pending").scalar_subquery()
    found = [
        session.scalar(select(OutboxEvent.occurred_at).where(OutboxEvent.id == first))
        for first in (first_new, first_pending)
    ]
    times = [t for t in found if t is not None]
    oldest.add_metric([], max((now - min(times)).total_seconds(), 0.0) if times else 0.0)
    return [deliveries, backlog, oldest]


def _touches(session: Session, now: datetime) -> list[Metric]:
    planned = GaugeMetricFamily("loyalty_touches_planned", "Care touches planned and not yet sent or suppressed")
    planned.add_metric(
        [], session.scalar(select(func.count()).select_from(Touch).where(Touch.status == "planned")) or 0
    )
    done = GaugeMetricFamily(
        "loyalty_touches_24h", "Care touches due in the last 24 h, by outcome and reason", labels=["status", "reason"]
    )
    # (status, due_at) index: one range per outcome.
    rows = session.execute(
        select(Touch.status, Touch.reason, func.count())
        .where(Touch.status.in_(TOUCH_OUTCOMES), Touch.due_at >= now - WINDOW, Touch.due_at <= now)
        .group_by(Touch.status, Touch.reason)
    )
    for status, reason, count in rows:
        done.add_metric([status, reason or ""], count)
    return [planned, done]


def _holds(session: Session) -> GaugeMetricFamily:
    family = GaugeMetricFamily("loyalty_holds_open", "Redemption holds open (points held, not captured or given back)")
    family.add_metric(
        [], session.scalar(select(func.count()).select_from(Redemption).where(Redemption.status == "held")) or 0
    )
    return family


class LedgerTotals:
    """Points written to the ledger per flow, since the ledger began: a counter that survives restarts
    and agrees between workers. Summing the whole append-only ledger at every scrape would not be
    cheap, so each process sums it once, in primary-key chunks over successive scrapes (absent until
    caught up), then only the new rows. Rows are folded in one scrape after their id was first seen,
    so a transaction that took a lower id but committed later is still counted."""

    CHUNK = 200_000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._done_upto = 0  # ids <= this are summed
        self._seen_max: int | None = None  # the max id at the previous scrape: ids up to it may be folded
        self._caught_up = False
        self._totals: dict[str, int] = {}

    def family(self, session: Session) -> CounterMetricFamily:
        family = CounterMetricFamily(
            "loyalty_points", "Points written to the ledger, by flow (absolute values)", labels=["flow"]
        )
        with self._lock:
            self._advance(session)
            if self._caught_up:
                for flow, points in sorted(self._totals.items()):
                    family.add_metric([flow], points)
        return family

    def _advance(self, session: Session) -> None:
        current = session.scalar(select(func.max(LedgerEntry.id))) or 0
        target = self._seen_max if self._seen_max is not None else 0
        self._seen_max = current
        upto = min(target, self._done_upto + self.CHUNK)
        if upto > self._done_upto:
            for kind, points in session.execute(
                select(LedgerEntry.kind, func.sum(func.abs(LedgerEntry.points)))
                .where(LedgerEntry.id > self._done_upto, LedgerEntry.id <= upto)
                .group_by(LedgerEntry.kind)
            ):
                flow = POINT_FLOWS.get(kind, kind)
                self._totals[flow] = self._totals.get(flow, 0) + int(points or 0)
            self._done_upto = upto
        self._caught_up = self._done_upto >= target
