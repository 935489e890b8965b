from __future__ import annotations

import json

import pytest

from loyalty import create_app
from loyalty.core.db import Database
from loyalty.core.migrate import upgrade
from tests.conftest import make_config


def test_healthz(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_readyz_when_current(client):
    response = client.get("/readyz")
    assert response.status_code == 200 and response.get_json()["status"] == "ready"


def test_readyz_fails_while_migrations_are_behind(tmp_path):
    url = f"sqlite:///{tmp_path / 'behind.sqlite3'}"
    database = Database(url)
    app = create_app(make_config(url), database=database)
    client = app.test_client()
    response = client.get("/readyz")  # empty database: no migration applied
    assert response.status_code == 503
    assert response.content_type == "application/problem+json"
    assert "loyalty db upgrade" in response.get_json()["detail"]
    upgrade(url)
    assert client.get("/readyz").status_code == 200
    database.dispose()


def test_readyz_is_ready_on_a_database_a_newer_release_migrated(tmp_path):
    """A rolling upgrade runs `loyalty db upgrade` first: the instances still on the old release must
    stay in the load balancer until they are replaced. Behind is not ready; ahead is."""
    from sqlalchemy import text

    url = f"sqlite:///{tmp_path / 'ahead.sqlite3'}"
    upgrade(url)
    database = Database(url)
    app = create_app(make_config(url), database=database)
    with database.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999_from_the_next_release'"))
    response = app.test_client().get("/readyz")
    assert response.status_code == 200 and response.get_json()["schema"] == "ahead"
    with database.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0001'"))  # a known, older one
    assert app.test_client().get("/readyz").status_code == 503
    database.dispose()


def test_readyz_fails_when_the_database_is_unreachable(tmp_path):
    url = "postgresql+psycopg://nobody@127.0.0.1:1/none"
    app = create_app(make_config(url), database=Database(url, pool_pre_ping=False))
    response = app.test_client().get("/readyz")
    assert response.status_code == 503 and response.get_json()["code"] == "unavailable"


def test_metrics_count_requests_by_endpoint_and_status(client, auth):
    client.get("/v1/members", headers=auth())
    client.get("/v1/members/mbr_none", headers=auth())
    text = client.get("/metrics").get_data(as_text=True)
    assert 'loyalty_http_requests_total{endpoint="/v1/members",method="GET",status="200"}' in text
    assert 'endpoint="/v1/members/<member_id>",method="GET",status="404"' in text
    assert "loyalty_http_request_duration_seconds_bucket" in text


def _json_lines(err: str) -> list[dict]:
    lines = [line for line in err.splitlines() if line.strip()]
    records = []
    for line in lines:
        try:
            records.append(json.loads(line))
        except ValueError:
            raise AssertionError(f"log line is not JSON: {line!r}") from None
    return records


def test_a_readiness_probe_logs_only_json_lines(database_url, db, capsys):
    app = create_app(make_config(database_url), database=db)  # logging bound to the captured stderr
    client = app.test_client()
    capsys.readouterr()
    for _ in range(2):
        assert client.get("/readyz").status_code == 200
    records = _json_lines(capsys.readouterr().err)
    assert [r["event"] for r in records] == ["request", "request"]
    assert all(r["endpoint"] == "/readyz" and r["level"] == "info" and r["request_id"] for r in records)


def test_library_log_lines_are_json_too(tmp_path, capsys):
    """Alembic, APScheduler and werkzeug log through the standard logging module: rendered as JSON too."""
    import logging

    url = f"sqlite:///{tmp_path / 'logs.sqlite3'}"
    database = Database(url)
    client = create_app(make_config(url), database=database).test_client()
    assert client.get("/readyz").status_code == 503
    upgrade(url)  # Alembic says "Context impl SQLiteImpl." and "Running upgrade ..." at INFO
    logging.getLogger("apscheduler.scheduler").warning("Run time of job %r was missed", "x", extra={"job": "x"})
    assert client.get("/readyz").status_code == 200
    database.dispose()
    records = _json_lines(capsys.readouterr().err)
    alembic = [r for r in records if r.get("logger", "").startswith("alembic")]
    assert any(r["event"] == "Context impl SQLiteImpl." for r in alembic) and all(r["level"] == "info" for r in alembic)
    assert any(
        r.get("logger") == "apscheduler.scheduler" and r["job"] == "x" and r["level"] == "warning" for r in records
    )


def test_the_connection_pool_is_a_setting(monkeypatch):
    from loyalty.config import Config

    monkeypatch.setenv("LOYALTY_DB_POOL_SIZE", "4")
    monkeypatch.setenv("LOYALTY_DB_MAX_OVERFLOW", "6")
    config = Config.from_env().with_(database_url="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    database = Database.from_config(config)
    assert (database.engine.pool.size(), database.engine.pool._max_overflow) == (4, 6)
    database.dispose()
    monkeypatch.setenv("LOYALTY_DB_POOL_SIZE", "0")
    with pytest.raises(ValueError, match="LOYALTY_DB_POOL_SIZE"):
        Config.from_env()
