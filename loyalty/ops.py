"""Unauthenticated ops endpoints: liveness, readiness, metrics."""

from __future__ import annotations

from collections.abc import Iterable

from flask import Blueprint, Response, current_app, jsonify
from flask.blueprints import BlueprintSetupState
from prometheus_client import Metric
from sqlalchemy import text

from loyalty.core import metrics
from loyalty.core.jobs import latest_successes
from loyalty.core.logging import get_logger
from loyalty.core.migrate import current_revisions, head_revisions, schema_state
from loyalty.core.web import problem_response

bp = Blueprint("ops", __name__)
log = get_logger("loyalty.ops")


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz() -> Response:
    engine = current_app.extensions["loyalty.db"].engine
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        current = current_revisions(engine)
    except Exception as error:  # any database failure means "not ready", with the reason logged
        log.warning("not_ready", error=type(error).__name__)
        return problem_response(503, "unavailable", "Service unavailable", "The database is not reachable.")
    heads = head_revisions()
    state = schema_state(current)
    if state == "ahead":  # a rolling upgrade migrated first: this instance keeps serving until replaced
        return jsonify(
            {"status": "ready", "revision": sorted(current), "code_revision": sorted(heads), "schema": "ahead"}
        )
    if state == "behind":
        return problem_response(
            503,
            "unavailable",
            "Service unavailable",
            "Database migrations are behind; run `loyalty db upgrade`.",
            database_revision=sorted(current),
            code_revision=sorted(heads),
        )
    return jsonify({"status": "ready", "revision": sorted(heads)})


@bp.record_once
def _count_pool(state: BlueprintSetupState) -> None:
    """Connections in use, counted at checkout and checkin so every worker's share adds up."""
    metrics.track_pool(state.app.extensions["loyalty.db"].engine)


@bp.get("/metrics")
def metrics_endpoint() -> Response:
    body, content_type = metrics.render()
    return Response(body + _job_metrics() + _database_metrics(), content_type=content_type)


def _database_metrics() -> bytes:
    """Jobs, lease, webhooks, touches, points and holds, read from the database (loyalty.ops_metrics)."""
    from prometheus_client import CollectorRegistry, generate_latest

    from loyalty import ops_metrics
    from loyalty.core.db import utcnow

    db = current_app.extensions["loyalty.db"]
    ledger = current_app.extensions.setdefault("loyalty.ledger_totals", ops_metrics.LedgerTotals())
    try:
        with db.sessions() as session:  # read only: closed (rolled back) without a commit
            families = ops_metrics.collect(session, now=utcnow(), dialect=db.dialect, ledger=ledger)
    except Exception as error:
        log.warning("database_metrics_unavailable", error=type(error).__name__)
        return b""

    class _Collector:
        def collect(self) -> Iterable[Metric]:
            return families

    registry = CollectorRegistry()
    registry.register(_Collector())
    return generate_latest(registry)


def _job_metrics() -> bytes:
    """What the scheduler process last did, read from job_runs (it runs elsewhere, so its own
    counters can't be scraped here): each job's last success, and the nightly ledger check's
    mismatches per check (alert on anything above 0)."""
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.core import GaugeMetricFamily

    try:
        with current_app.extensions["loyalty.db"].unit_of_work() as session:
            runs = latest_successes(session)
    except Exception as error:  # the database away: request metrics still answer
        log.warning("job_metrics_unavailable", error=type(error).__name__)
        return b""
    last = GaugeMetricFamily(
        "loyalty_job_last_success_timestamp_seconds",
        "When each scheduled job last finished without error",
        labels=["job"],
    )
    mismatches = GaugeMetricFamily(
        "loyalty_ledger_mismatches", "Rows breaking each ledger invariant at the last ledger.check", labels=["check"]
    )
    for run in runs:
        if run.finished_at is not None:  # always set on a run that finished "ok"
            last.add_metric([run.job], run.finished_at.timestamp())
        if run.job == "ledger.check":
            for key, value in (run.counts or {}).items():
                if key.endswith("_mismatches"):
                    mismatches.add_metric([key.removesuffix("_mismatches")], value)

    class _Collector:
        def collect(self) -> Iterable[Metric]:
            return [last, mismatches]

    registry = CollectorRegistry()
    registry.register(_Collector())
    return generate_latest(registry)
