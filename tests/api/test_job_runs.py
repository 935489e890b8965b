"""GET /v1/jobs/runs: the scheduler's recorded runs, for admins, newest first, paged and filtered."""

from __future__ import annotations

from datetime import timedelta

from loyalty.core.models import JobRun
from tests.clock import NOW


def _runs(db) -> list[int]:
    """Five runs: points.expire ok, failed, ok; webhooks.deliver ok; care.plan still running."""
    plan = [
        ("points.expire", "ok", {"lots_expired": 2}, None),
        ("points.expire", "failed", None, "OperationalError psycopg.errors.QueryCanceled"),
        ("webhooks.deliver", "ok", {"delivered": 5}, None),
        ("points.expire", "ok", {"lots_expired": 0}, None),
        ("care.plan", "running", None, None),
    ]
    ids = []
    with db.unit_of_work() as session:
        for n, (job, status, counts, error) in enumerate(plan):
            started = NOW - timedelta(minutes=50 - n * 10)
            run = JobRun(
                job=job,
                holder="host-a:42:abc123",
                as_of="2026-11-18",
                started_at=started,
                status=status,
                counts=counts,
                error=error,
                finished_at=None if status == "running" else started + timedelta(seconds=3),
            )
            session.add(run)
            session.flush()
            ids.append(run.id)
    return ids


def test_only_admins_see_job_runs(client, auth):
    assert client.get("/v1/jobs/runs").status_code == 401
    for role in ("storefront", "pos", "staff"):
        assert client.get("/v1/jobs/runs", headers=auth(role)).status_code == 403
    assert client.get("/v1/jobs/runs", headers=auth("admin")).status_code == 200


def test_newest_first_with_what_each_run_did(client, auth, db):
    ids = _runs(db)
    body = client.get("/v1/jobs/runs", headers=auth()).get_json()
    assert [run["id"] for run in body["data"]] == ids[::-1]
    assert body["next_cursor"] is None
    running, *_, failed, first = body["data"]
    assert running["status"] == "running" and running["finished_at"] is None and running["duration_seconds"] is None
    assert failed["error"] == "OperationalError psycopg.errors.QueryCanceled" and failed["counts"] is None
    assert first == {
        "id": ids[0],
        "job": "points.expire",
        "as_of": "2026-11-18",
        "started_at": "2026-11-18T01:10:00+00:00",
        "finished_at": "2026-11-18T01:10:03+00:00",
        "duration_seconds": 3.0,
        "status": "ok",
        "counts": {"lots_expired": 2},
        "holder": "host-a:42:abc123",
        "error": None,
    }


def test_pages_with_limit_and_cursor(client, auth, db):
    ids = _runs(db)
    seen, cursor = [], None
    while True:
        query = "/v1/jobs/runs?limit=2" + (f"&cursor={cursor}" if cursor else "")
        body = client.get(query, headers=auth()).get_json()
        assert len(body["data"]) <= 2
        seen += [run["id"] for run in body["data"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == ids[::-1]
    refused = client.get("/v1/jobs/runs?cursor=nonsense", headers=auth())
    assert refused.status_code == 400 and refused.get_json()["code"] == "invalid_cursor"


def test_filters_by_job_and_status(client, auth, db):
    ids = _runs(db)
    by_job = client.get("/v1/jobs/runs?job=points.expire", headers=auth()).get_json()["data"]
    assert [run["id"] for run in by_job] == [ids[3], ids[1], ids[0]]
    both = client.get("/v1/jobs/runs?job=points.expire&status=ok", headers=auth()).get_json()["data"]
    assert [run["id"] for run in both] == [ids[3], ids[0]]
    assert client.get("/v1/jobs/runs?status=failed", headers=auth()).get_json()["data"][0]["id"] == ids[1]
    assert client.get("/v1/jobs/runs?status=lost", headers=auth()).status_code == 422
    assert client.get("/v1/jobs/runs?limit=0", headers=auth()).status_code == 422
