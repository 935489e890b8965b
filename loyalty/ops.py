"""Unauthenticated ops endpoints: liveness, readiness, metrics."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify
from sqlalchemy import text

from loyalty.core import metrics
from loyalty.core.logging import get_logger
from loyalty.core.migrate import current_revisions, head_revisions
from loyalty.core.web import problem_response

bp = Blueprint("ops", __name__)
log = get_logger("loyalty.ops")


@bp.get("/healthz")
def healthz():
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz():
    engine = current_app.extensions["loyalty.db"].engine
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        current = current_revisions(engine)
    except Exception as error:  # any database failure means "not ready", with the reason logged
        log.warning("not_ready", error=type(error).__name__)
        return problem_response(503, "unavailable", "Service unavailable", "The database is not reachable.")
    heads = head_revisions()
    if current != heads:
        return problem_response(
            503, "unavailable", "Service unavailable",
            "Database migrations are behind; run `loyalty db upgrade`.",
            database_revision=sorted(current), code_revision=sorted(heads),
        )
    return jsonify({"status": "ready", "revision": sorted(heads)})


@bp.get("/metrics")
def metrics_endpoint():
    body, content_type = metrics.render()
    return Response(body, content_type=content_type)
