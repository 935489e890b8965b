from __future__ import annotations

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
