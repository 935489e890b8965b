from __future__ import annotations

from typing import Any

from loyalty.core.api import Blueprint
from loyalty.core.auth import requires
from loyalty.core.web import request_session
from loyalty.jobs import schemas, service

blp = Blueprint("jobs", __name__, url_prefix="/v1/jobs", description="Scheduled job runs (admin)")


@blp.route("/runs", methods=["GET"])
@blp.doc(operationId="jobs.runs")
@blp.arguments(schemas.JobRunQueryArgsSchema, location="query")
@blp.response(200, schemas.JobRunPageSchema)
@requires()
def list_job_runs(args: dict[str, Any]) -> dict[str, Any]:
    """Recent scheduled job runs, newest first

    Every run the `loyalty scheduler` processes started: the job, when it started and finished, its
    outcome, what it did (counts), which scheduler ran it and, for a failed run, the error's type
    (never its message). Filter by job name and status; page with `limit` and `cursor`. Errors: 400
    invalid_cursor, 401 without a valid key, 403 for a role other than admin, 422 validation_error for
    a bad filter or limit.
    """
    return service.list_runs(request_session(), **args)
