"""/metrics shows what an operator pages on, read from the database at scrape time."""

from __future__ import annotations

import re
from datetime import timedelta

from loyalty.core.lease import hold
from loyalty.core.models import JobRun
from tests.clock import NOW
from tests.factories import create_member, post_order


def _value(text: str, name: str, **labels) -> float:
    """The sample `name{labels}` of the exposition text (labels in any order)."""
    for line in text.splitlines():
        match = re.match(r"^([a-zA-Z0-9_:]+)(\{(.*)\})? (\S+)$", line)
        if not match or match.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(3) or ""))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(match.group(4))
    raise AssertionError(f"no sample {name}{labels} in /metrics")


def _run(db, job: str, status: str, seconds: float, counts: dict | None, started=None) -> None:
    started = started or NOW - timedelta(hours=1)
    with db.unit_of_work() as session:
        run = JobRun(job=job, holder="host:1:abc", as_of="2026-11-18", started_at=started, status="running")
        session.add(run)
        session.flush()
        run.status, run.counts, run.finished_at = status, counts, started + timedelta(seconds=seconds)


def test_job_runs_by_outcome_duration_and_items(client, db):
    _run(db, "points.expire", "ok", 2.0, {"lots_expired": 3, "points_expired": 40})
    _run(db, "points.expire", "failed", 0.2, None, started=NOW - timedelta(minutes=10))
    _run(db, "points.expire", "ok", 9.0, {"lots_expired": 1}, started=NOW - timedelta(days=3))  # outside 24 h
    text = client.get("/metrics").get_data(as_text=True)
    assert _value(text, "loyalty_job_runs_24h", job="points.expire", status="ok") == 1
    assert _value(text, "loyalty_job_runs_24h", job="points.expire", status="failed") == 1
    assert _value(text, "loyalty_job_last_duration_seconds", job="points.expire") == 0.2
    assert _value(text, "loyalty_job_last_items", job="points.expire") == 0  # the failed run handled nothing
    assert _value(text, "loyalty_job_duration_seconds_bucket", job="points.expire", le="0.5") == 1
    assert _value(text, "loyalty_job_duration_seconds_bucket", job="points.expire", le="5") == 2
    assert _value(text, "loyalty_job_duration_seconds_gcount", job="points.expire") == 2
    assert _value(text, "loyalty_job_counts_24h", job="points.expire", count="points_expired") == 40


def test_lease_holder_while_unexpired(client, db):
    hold(db, "scheduler", "host-a:42:abc", seconds=30, now=NOW)
    text = client.get("/metrics").get_data(as_text=True)
    assert _value(text, "loyalty_scheduler_lease_holder", lease="scheduler", holder="host-a:42:abc") == 1
    hold(db, "scheduler", "host-a:42:abc", seconds=-1, now=NOW)  # run out
    assert "loyalty_scheduler_lease_holder{" not in client.get("/metrics").get_data(as_text=True)


def test_points_flows_backlog_holds_and_pool(client, auth, db):
    member = create_member(client, auth)
    post_order(client, auth, member["id"], "o-1", "100.00")
    first = client.get("/metrics").get_data(as_text=True)  # sees the ledger's ids; folds them next scrape
    assert _value(first, "loyalty_outbox_backlog") >= 2  # member.created and the order's events, not fanned out
    assert _value(first, "loyalty_outbox_oldest_undelivered_age_seconds") >= 0
    assert _value(first, "loyalty_holds_open") == 0
    text = client.get("/metrics").get_data(as_text=True)
    assert _value(text, "loyalty_points_total", flow="issued") > 0
    assert _value(text, "loyalty_touches_planned") == 0


def test_pool_connections_in_use(client, db):
    idle = _value(client.get("/metrics").get_data(as_text=True), "loyalty_db_pool_connections_in_use")
    with db.engine.connect(), db.engine.connect():
        held = _value(client.get("/metrics").get_data(as_text=True), "loyalty_db_pool_connections_in_use")
    assert held == idle + 2


def test_the_grafana_dashboard_charts_only_metrics_that_exist(client, auth, db):
    """docs/grafana-dashboard.json: every metric a panel queries is one /metrics can serve."""
    import json
    from pathlib import Path

    _run(db, "points.expire", "ok", 1.0, {"lots_expired": 1})
    hold(db, "scheduler", "host-a:1:x", seconds=30, now=NOW)
    types = dict(re.findall(r"^# TYPE (\w+) (\w+)", client.get("/metrics").get_data(as_text=True), re.MULTILINE))
    suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_sum", "_count"], "gaugehistogram": ["_bucket"]}
    served = {name + suffix for name, kind in types.items() for suffix in ["", *suffixes.get(kind, [])]}
    dashboard = json.loads((Path(__file__).resolve().parents[2] / "docs" / "grafana-dashboard.json").read_text())
    queried = {
        name
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"\b(loyalty_\w+)[{\[)]", target["expr"])
    }
    assert len(queried) >= 15
    assert queried <= served, queried - served


def test_webhook_deliveries_pending_and_dead_and_the_oldest_pending_event(client, db):
    from loyalty.webhooks.models import Delivery, OutboxEvent, Subscription

    with db.unit_of_work() as session:
        session.add(
            Subscription(
                id="sub_1", url="https://example.com/h", events=["*"], secret="whsec_x", active=True, created_at=NOW
            )
        )
        for n, status in enumerate(["pending", "pending", "dead", "delivered"]):
            session.add(
                OutboxEvent(
                    id=f"evt_{n:03d}",
                    type="member.created",
                    data={},
                    dispatched_at=NOW,
                    occurred_at=NOW - timedelta(minutes=40 - n),
                )
            )
            session.flush()
            session.add(
                Delivery(
                    id=f"dlv_{n}",
                    subscription_id="sub_1",
                    event_id=f"evt_{n:03d}",
                    status=status,
                    attempts=1,
                    created_at=NOW,
                    retrying_since=NOW,
                    next_attempt_at=NOW,
                )
            )
    text = client.get("/metrics").get_data(as_text=True)
    assert _value(text, "loyalty_webhook_deliveries", status="pending") == 2
    assert _value(text, "loyalty_webhook_deliveries", status="dead") == 1
    assert _value(text, "loyalty_outbox_backlog") == 0  # every event fanned out
    age = _value(text, "loyalty_outbox_oldest_undelivered_age_seconds")
    assert 40 * 60 <= age < 40 * 60 + 30  # evt_000, still pending (the pinned clock ticks on)
