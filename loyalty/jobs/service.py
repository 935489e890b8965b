from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from loyalty.core.models import JobRun
from loyalty.core.pagination import keyset_page


def list_runs(
    session: Session, *, limit: int, cursor: str | None = None, job: str | None = None, status: str | None = None
) -> dict[str, Any]:
    """Newest first; the id grows with each run started, so it is the keyset."""
    query = select(JobRun)
    if job:
        query = query.where(JobRun.job == job)
    if status:
        query = query.where(JobRun.status == status)
    result = keyset_page(session, query, JobRun.id, limit=limit, cursor=cursor, descending=True, kind=int)
    result["data"] = [_shown(run) for run in result["data"]]
    return result


def _shown(run: JobRun) -> dict[str, Any]:
    finished = run.finished_at
    return {
        "id": run.id,
        "job": run.job,
        "as_of": date.fromisoformat(run.as_of),
        "started_at": run.started_at,
        "finished_at": finished,
        "duration_seconds": (finished - run.started_at).total_seconds() if finished else None,
        "status": run.status,
        "counts": run.counts,
        "holder": run.holder,
        "error": run.error,
    }
