"""PreparedStatement (core/prepared_statement.py): the checkout's statements, run straight on the
driver on PostgreSQL inside the caller's transaction, bind and read values as SQLAlchemy would, and
a connection that dies under one never goes back into the pool."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import psycopg
import pytest
from sqlalchemy import bindparam, insert, select, text

from loyalty.core.db import Database
from loyalty.core.prepared_statement import PreparedStatement
from loyalty.webhooks.models import OutboxEvent
from tests.clock import now

_WRITE = PreparedStatement(
    insert(OutboxEvent)
    .values(
        id=bindparam("id"),
        type=bindparam("type"),
        occurred_at=bindparam("at"),
        data=bindparam("data"),
        member_id=bindparam("member_id"),
    )
    .returning(OutboxEvent.id, OutboxEvent.occurred_at, OutboxEvent.data)
)
_READ = PreparedStatement(select(OutboxEvent.id, OutboxEvent.occurred_at).where(OutboxEvent.id == bindparam("id")))


def _event(n: int, at: datetime) -> dict:
    return {"id": f"evt_{n:026d}", "type": "member.created", "at": at, "data": {"n": n}, "member_id": None}


def test_values_are_bound_and_read_through_the_columns_types(db):
    shanghai = datetime(2026, 11, 1, 18, 0, tzinfo=timezone(timedelta(hours=8)))
    with db.unit_of_work() as session:
        if db.dialect == "postgresql":  # the driver alone would answer in the session's time zone
            session.execute(text("SET LOCAL TIME ZONE 'Asia/Shanghai'"))
        written = _WRITE.rows(session.connection(), _event(1, shanghai))
    assert written == [("evt_00000000000000000000000001", datetime(2026, 11, 1, 10, 0, tzinfo=UTC), {"n": 1})]
    assert written[0][1].tzinfo == UTC  # as UTCDateTime reads it, whatever the session's time zone
    with db.unit_of_work() as session:
        assert _READ.first(session.connection(), {"id": "evt_00000000000000000000000001"}) == written[0][:2]
        assert _READ.first(session.connection(), {"id": "evt_nothing"}) is None


def test_a_naive_datetime_is_refused_as_sqlalchemy_refuses_it(db):
    with db.unit_of_work() as session, pytest.raises(Exception, match="naive datetime"):
        _WRITE.rows(session.connection(), _event(2, datetime(2026, 11, 1, 10, 0)))


def test_it_writes_in_the_callers_transaction(db):
    with db.sessions() as session:
        _WRITE.rows(session.connection(), _event(3, now()))
        assert _READ.first(session.connection(), {"id": "evt_00000000000000000000000003"}) is not None
        session.rollback()
    with db.unit_of_work() as session:
        assert _READ.first(session.connection(), {"id": "evt_00000000000000000000000003"}) is None


@pytest.mark.postgres_only
def test_a_connection_that_dies_under_it_is_not_pooled_again(database_url, db):
    database = Database(database_url, pool_size=1, max_overflow=0)
    try:
        with database.sessions() as session:
            victim = session.connection().execute(text("SELECT pg_backend_pid()")).scalar()
            with db.engine.connect() as other:
                other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": victim})
                other.commit()
            with pytest.raises(psycopg.OperationalError):
                _READ.first(session.connection(), {"id": "evt_x"})
        with database.engine.connect() as connection:  # a fresh connection, not the dead one
            assert connection.execute(text("SELECT pg_backend_pid()")).scalar() != victim
    finally:
        database.dispose()
