"""core/db's shared helpers on the database under test: the dialect's INSERT with ON CONFLICT,
get_or_404's row or NotFound in the wording the API answers, and `among`'s IN."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, literal, select

from loyalty.core.db import among, get_or_404, insert_for, insert_for_dialect
from loyalty.core.errors import NotFound
from loyalty.core.models import SchedulerLease
from tests.clock import now


def _lease(name: str) -> dict:
    return {"name": name, "holder": "a", "acquired_at": now(), "expires_at": now() + timedelta(minutes=1)}


def test_insert_for_is_the_sessions_dialect(db):
    with db.unit_of_work() as session:
        dialect = session.get_bind().dialect.name
        assert insert_for(session) is insert_for_dialect(dialect)
        assert insert_for(session).__module__.startswith(f"sqlalchemy.dialects.{dialect}.")


def test_insert_for_skips_a_conflicting_row(db):
    with db.unit_of_work() as session:
        for _ in range(2):
            session.execute(insert_for(session)(SchedulerLease).values(**_lease("twice")).on_conflict_do_nothing())
    with db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(SchedulerLease)) == 1


def test_insert_for_dialect_picks_each_databases_insert():
    assert insert_for_dialect("sqlite").__module__ == "sqlalchemy.dialects.sqlite.dml"
    assert insert_for_dialect("postgresql").__module__ == "sqlalchemy.dialects.postgresql.dml"


@pytest.mark.parametrize("lock", [False, True])
def test_get_or_404_returns_the_row(db, lock):
    with db.unit_of_work() as session:
        session.add(SchedulerLease(**_lease("held")))
    with db.unit_of_work() as session:
        assert get_or_404(session, SchedulerLease, "held", what="lease", lock=lock).holder == "a"


def test_get_or_404_names_what_is_missing(db):
    with db.unit_of_work() as session, pytest.raises(NotFound) as raised:
        get_or_404(session, SchedulerLease, "gone", what="lease")
    assert raised.value.detail == "No lease `gone`."
    assert raised.value.status == 404


LEASES = ["a", "b,c", "b", "c", "", "d d", "é"]


@pytest.mark.parametrize(
    "wanted",
    [["a"], ["a", "b", "é"], ["b,c"], ["b", "c"], ["b,c", "d d"], [""], ["", "a"], [], ["zz"], LEASES],
    ids=repr,
)
def test_among_finds_exactly_the_values_given(db, wanted):
    """However the values are sent (one text split by PostgreSQL, or an array when a value has the
    separator in it or is empty), the rows are those whose value is one of them."""
    with db.unit_of_work() as session:
        for name in LEASES:
            session.add(SchedulerLease(**_lease(name)))
    with db.unit_of_work() as session:
        found = session.scalars(select(SchedulerLease.name).where(among(session, SchedulerLease.name, iter(wanted))))
        assert sorted(found) == sorted(set(wanted) & set(LEASES))


def test_among_takes_numbers_too(db):
    with db.unit_of_work() as session:
        assert session.scalar(select(func.count()).where(among(session, literal(3), [1, 2, 3]))) == 1
        assert session.scalar(select(func.count()).where(among(session, literal(4), [1, 2, 3]))) == 0
