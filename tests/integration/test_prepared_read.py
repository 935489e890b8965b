"""PreparedRead (core/prepared_read.py): the POS lookup's statement, run straight on the driver on PostgreSQL,
gives the pool its connection back as it lent it, and a failed read spoils nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import bindparam, func, select, text

from loyalty.core.db import Database
from loyalty.core.prepared_read import PreparedRead
from loyalty.members.models import Member

_COUNT = PreparedRead(
    select(func.count()).select_from(Member).where(Member.id == bindparam("value")), params=("value",)
)


def test_a_read_answers_a_tuple_or_none(db):
    assert _COUNT.first(db.engine, {"value": "mem_nobody"}) == (0,)
    nothing = PreparedRead(select(Member.id).where(Member.id == bindparam("value")), params=("value",))
    assert nothing.first(db.engine, {"value": "mem_nobody"}) is None


@pytest.mark.postgres_only
def test_the_connection_goes_back_to_the_pool_in_a_transaction_again(database_url, db):
    database = Database(database_url, pool_size=1, max_overflow=0)  # one connection: the read's is the next one's
    try:
        _COUNT.first(database.engine, {"value": "mem_nobody"})
        with database.engine.connect() as connection:
            assert connection.connection.driver_connection.autocommit is False
            connection.execute(text("CREATE TEMP TABLE undone (n int)"))
            connection.rollback()  # would be a no-op on a connection left in autocommit
            assert connection.execute(text("SELECT to_regclass('pg_temp.undone')")).scalar() is None
    finally:
        database.dispose()


@pytest.mark.postgres_only
def test_a_failed_read_throws_its_connection_away(database_url, db):
    database = Database(database_url, pool_size=1, max_overflow=0)
    broken = PreparedRead(
        select(Member.id).where(Member.id == bindparam("value"), func.no_such_function() == 1), params=("value",)
    )
    try:
        with database.engine.connect() as connection:
            before = connection.execute(text("SELECT pg_backend_pid()")).scalar()
        with pytest.raises(Exception, match="no_such_function"):
            broken.first(database.engine, {"value": "x"})
        with database.engine.connect() as connection:  # a fresh connection, in a clean state
            assert connection.execute(text("SELECT pg_backend_pid()")).scalar() != before
            assert connection.connection.driver_connection.autocommit is False
        assert _COUNT.first(database.engine, {"value": "mem_nobody"}) == (0,)
    finally:
        database.dispose()


_BACKEND = PreparedRead(
    select(func.pg_backend_pid()).where(bindparam("value") == bindparam("value")), params=("value",)
)


@pytest.mark.postgres_only
def test_a_thread_keeps_its_connection_between_reads_while_the_pool_has_plenty(database_url, db):
    database = Database(database_url, pool_size=4, max_overflow=0)
    try:
        first = _BACKEND.first(database.engine, {"value": "x"})
        assert _BACKEND.first(database.engine, {"value": "x"}) == first
        assert database.engine.pool.checkedout() == 1  # held, in autocommit
        with database.engine.connect() as connection:  # everyone else still gets transactions
            assert connection.connection.driver_connection.autocommit is False
            assert connection.execute(text("SELECT pg_backend_pid()")).scalar() != first[0]
    finally:
        database.dispose()
    assert database.engine.pool.checkedout() == 0  # disposing the engine let the held one go


@pytest.mark.postgres_only
def test_under_pressure_the_connection_goes_back_after_each_read(database_url, db):
    database = Database(database_url, pool_size=4, max_overflow=0)
    try:
        busy = [database.engine.connect() for _ in range(2)]  # half the pool in use elsewhere
        _BACKEND.first(database.engine, {"value": "x"})
        assert database.engine.pool.checkedout() == 2
        for connection in busy:
            connection.close()
    finally:
        database.dispose()


@pytest.mark.postgres_only
def test_a_held_connection_that_died_is_replaced_and_the_read_answers(database_url, db):
    database = Database(database_url, pool_size=4, max_overflow=0)
    admin = Database(database_url)
    try:
        (victim,) = _BACKEND.first(database.engine, {"value": "x"})
        with admin.engine.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": victim})
        (replacement,) = _BACKEND.first(database.engine, {"value": "x"})
        assert replacement != victim
        assert _COUNT.first(database.engine, {"value": "mem_nobody"}) == (0,)
    finally:
        admin.dispose()
        database.dispose()
