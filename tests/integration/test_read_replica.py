"""LOYALTY_READ_DATABASE_URL: the reads that may lag go to the replica, everything else to the primary.

No real replication runs here. The "replica" is a second database, migrated like the primary and
given a snapshot of it; then the primary moves on (a rename, an order, a new member), so the two
answer differently, as a lagging replica would. Which answer a view gives shows where it read.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.engine import make_url

from loyalty import create_app
from loyalty.config import Config
from loyalty.core.db import Base, Database
from loyalty.core.migrate import upgrade
from loyalty.insights import service as insights
from loyalty.members.models import Member
from tests.conftest import BACKEND, _admin_connection, _empty, make_config
from tests.factories import create_member, post_order


@pytest.fixture(scope="session")
def replica_url(database_url, tmp_path_factory):
    if BACKEND == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('replica') / 'replica.sqlite3'}"
        upgrade(url)
        yield url
        return
    name = f"loyalty_replica_{uuid.uuid4().hex[:12]}"
    with _admin_connection(database_url) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    url = make_url(database_url).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield url
    with _admin_connection(database_url) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def replica(replica_url):
    """The replica's own writable handle, for the test to load the snapshot with."""
    database = Database(replica_url)
    _empty(database)
    yield database
    database.dispose()


@pytest.fixture
def routed(database_url, replica_url, db):
    database = Database(database_url, read_url=replica_url)
    yield database
    database.dispose()


@pytest.fixture
def client(routed, database_url, replica_url):
    return create_app(make_config(database_url, read_database_url=replica_url), database=routed).test_client()


def _snapshot(primary: Database, replica: Database) -> None:
    """Copy every row: the replica as it was when replication last caught up."""
    _empty(replica)
    with primary.engine.connect() as source, replica.engine.begin() as target:
        for table in Base.metadata.sorted_tables:
            rows = [dict(row._mapping) for row in source.execute(select(table))]
            if rows:
                target.execute(table.insert(), rows)


def _statements(engine) -> list[str]:
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda _c, _cur, statement, *_: seen.append(statement))
    return seen


@pytest.fixture
def lagging(client, auth, db, replica):
    """Ada enrolled and ordered, a segment of everyone: replicated. Then, on the primary only,
    Ada renamed and a second order of hers, and Bo enrolled."""
    ada = create_member(client, auth, name="Ada Before", email="ada@example.com")
    post_order(client, auth, ada["id"], "o-1", "100.00")
    segment = client.post("/v1/segments", json={"name": "everyone", "filters": {}}, headers=auth("staff"))
    assert segment.status_code == 201
    _snapshot(db, replica)
    renamed = client.patch(f"/v1/members/{ada['id']}", json={"name": "Ada After"}, headers=auth("staff"))
    assert renamed.status_code == 200
    post_order(client, auth, ada["id"], "o-2", "300.00")
    bo = create_member(client, auth, name="Bo Primary", email="bo@example.com")
    return {"ada": ada, "bo": bo, "segment": segment.get_json()["id"]}


def test_reads_that_may_lag_are_answered_by_the_replica(client, auth, lagging, routed, db):
    ada = lagging["ada"]
    pos = client.get(f"/v1/pos/members/{ada['member_number']}", headers=auth("pos"))
    assert pos.status_code == 200
    assert pos.get_json()["display_name"] == "Ada Before" and pos.get_json()["available_points"] == 100
    # Bo is on the primary only: the till doesn't see him until the replica catches up.
    assert client.get(f"/v1/pos/members/{lagging['bo']['member_number']}", headers=auth("pos")).status_code == 404

    browse = client.get("/v1/members?q=ada", headers=auth("staff")).get_json()["data"]
    assert [m["name"] for m in browse] == ["Ada Before"]
    assert [m["name"] for m in client.get("/v1/members?limit=50", headers=auth("staff")).get_json()["data"]] == [
        "Ada Before"
    ]

    segment = lagging["segment"]
    assert client.get(f"/v1/segments/{segment}", headers=auth("staff")).get_json()["members"] == 1
    page = client.get(f"/v1/segments/{segment}/members", headers=auth("staff")).get_json()["data"]
    assert [m["name"] for m in page] == ["Ada Before"]
    export = client.get(f"/v1/segments/{segment}/export.csv", headers=auth("staff"))
    assert export.status_code == 200
    lines = export.get_data(as_text=True).splitlines()
    assert len(lines) == 2 and "Ada Before" in lines[1]

    summary = client.get("/v1/insights/summary", headers=auth("staff")).get_json()
    with routed.reader() as session:
        from_replica = insights.summary(session)["points_liability"]["points"]
    with db.unit_of_work() as session:
        from_primary = insights.summary(session)["points_liability"]["points"]
    assert (from_replica, from_primary) == (100, 400)
    assert summary["points_liability"]["points"] == 100


def test_writes_and_reads_that_decide_them_go_to_the_primary(client, auth, lagging, routed):
    ada, bo = lagging["ada"], lagging["bo"]
    on_replica = _statements(routed.read_engine)
    # Exact identifiers: what an integration looks up right after enrolling, or before enrolling.
    found = client.get("/v1/members?email=bo@example.com", headers=auth("storefront")).get_json()["data"]
    assert [m["id"] for m in found] == [bo["id"]]
    assert client.get(f"/v1/members/{ada['id']}", headers=auth("staff")).get_json()["name"] == "Ada After"
    assert client.get(f"/v1/members/{ada['id']}/balance", headers=auth("staff")).get_json()["available"] == 400
    # Bo exists on the primary only: his order and a duplicate of him both see him.
    post_order(client, auth, bo["id"], "o-3", "50.00")
    duplicate = client.post("/v1/members", json={"name": "Bo Again", "email": "bo@example.com"}, headers=auth("staff"))
    assert duplicate.status_code == 409
    assert on_replica == []


def test_a_write_sent_to_the_read_engine_is_refused(routed, lagging):
    with pytest.raises(Exception) as refused, routed.reader() as session:
        session.execute(text("DELETE FROM members"))
    assert "read" in str(refused.value).lower()  # "read-only transaction" / "readonly database"
    with routed.reader() as session:
        assert session.scalar(select(Member.name).where(Member.id == lagging["ada"]["id"])) == "Ada Before"


def test_without_the_setting_every_read_uses_the_primary(database_url, monkeypatch):
    monkeypatch.delenv("LOYALTY_READ_DATABASE_URL", raising=False)
    assert Config.from_env().read_database_url == ""
    monkeypatch.setenv("LOYALTY_READ_DATABASE_URL", database_url)
    assert Config.from_env().read_database_url == database_url
    same = Database(database_url, read_url=database_url)
    try:
        assert not same.has_replica and same.read_engine is same.engine
    finally:
        same.dispose()
