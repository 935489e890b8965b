"""Prometheus metrics: request counts and latency by endpoint and status.

Under gunicorn with several workers set ``PROMETHEUS_MULTIPROC_DIR`` to an
empty directory; /metrics then aggregates every worker's files.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

REQUESTS = Counter("loyalty_http_requests_total", "HTTP requests handled", ["method", "endpoint", "status"])
LATENCY = Histogram(
    "loyalty_http_request_duration_seconds",
    "Time spent handling a request",
    ["method", "endpoint", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

# Summed over live workers in multiprocess mode; in one process simply the pool's checkedout().
POOL_IN_USE = Gauge(
    "loyalty_db_pool_connections_in_use", "Database connections checked out of the pool", multiprocess_mode="livesum"
)


def track_pool(engine: Engine) -> None:
    """Count connections in use by the pool's checkout/checkin events (cheap: no query, no lock of ours)."""
    from sqlalchemy import event

    if getattr(engine, "_loyalty_pool_tracked", False):  # one engine shared by several apps (tests)
        return
    setattr(engine, "_loyalty_pool_tracked", True)  # noqa: B010 — a mark of ours on SQLAlchemy's object
    event.listen(engine, "checkout", lambda *_: POOL_IN_USE.inc())
    event.listen(engine, "checkin", lambda *_: POOL_IN_USE.dec())


# Each label set's two children, looked up once: `labels()` takes the metric's lock every time.
# The label values are bounded (known methods, route patterns, status codes; see core/web.py).
_children: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def observe(method: str, endpoint: str, status: int, seconds: float) -> None:
    key = (method, endpoint, status)
    children = _children.get(key)
    if children is None:
        labels = (method, endpoint, str(status))
        children = _children[key] = (REQUESTS.labels(*labels), LATENCY.labels(*labels))
    children[0].inc()
    children[1].observe(seconds)


def render() -> tuple[bytes, str]:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        # prometheus-client leaves this constructor unannotated (the library's gap, not ours).
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    from prometheus_client import REGISTRY

    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
