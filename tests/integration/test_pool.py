"""Connections that died while idle in the pool are replaced before a request sees them."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from loyalty.core import db as core_db
from loyalty.core.db import Database


@pytest.mark.postgres_only
def test_a_connection_killed_while_idle_is_replaced_on_checkout(database_url, monkeypatch):
    database = Database(database_url, pool_size=1, max_overflow=0)
    try:
        with database.engine.connect() as connection:
            victim = connection.execute(text("SELECT pg_backend_pid()")).scalar()
        admin = Database(database_url)
        with admin.engine.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": victim})
        admin.dispose()
        monkeypatch.setattr(core_db, "IDLE_PING_SECONDS", 0.0)  # it has been idle "long enough"
        with database.engine.connect() as connection:
            assert connection.execute(text("SELECT pg_backend_pid()")).scalar() != victim
    finally:
        database.dispose()


@pytest.mark.postgres_only
def test_a_connection_in_steady_use_is_not_pinged(database_url):
    database = Database(database_url, pool_size=1, max_overflow=0)
    statements: list[str] = []
    try:
        from sqlalchemy import event

        with database.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        event.listen(database.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
        with database.engine.connect() as connection:
            connection.execute(text("SELECT 2"))
        assert statements == ["SELECT 2"]
    finally:
        database.dispose()
