"""A lease in the database: of several scheduler processes, the holder acts and the others wait."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Case, or_, update
from sqlalchemy.dialects.postgresql import Insert as PostgresqlInsert
from sqlalchemy.dialects.sqlite import Insert as SqliteInsert

from loyalty.core.db import Database, insert_for_dialect, utcnow
from loyalty.core.models import SchedulerLease


def hold(db: Database, name: str, holder: str, *, seconds: float, now: datetime | None = None) -> bool:
    """Take the lease, or renew it if this holder has it; False while another holds it unexpired."""
    now = now or utcnow()
    insert = insert_for_dialect(db.dialect)
    statement = insert(SchedulerLease).values(
        name=name, holder=holder, acquired_at=now, expires_at=now + timedelta(seconds=seconds)
    )
    upsert = statement.on_conflict_do_update(
        index_elements=[SchedulerLease.name],
        set_={
            "holder": statement.excluded.holder,
            "expires_at": statement.excluded.expires_at,
            "acquired_at": _acquired(statement, holder),
        },
        where=or_(SchedulerLease.holder == holder, SchedulerLease.expires_at <= now),
    ).returning(SchedulerLease.holder)
    with db.unit_of_work() as session:
        return session.execute(upsert).scalar() == holder


def _acquired(statement: PostgresqlInsert | SqliteInsert, holder: str) -> Case[Any]:
    from sqlalchemy import case

    # Renewing keeps the moment it was first taken; taking over starts a new one.
    return case((SchedulerLease.holder == holder, SchedulerLease.acquired_at), else_=statement.excluded.acquired_at)


def release(db: Database, name: str, holder: str) -> None:
    """Give the lease up at once (a clean shutdown), so another scheduler needn't wait it out."""
    with db.unit_of_work() as session:
        session.execute(
            update(SchedulerLease)
            .where(SchedulerLease.name == name, SchedulerLease.holder == holder)
            .values(expires_at=utcnow())
        )
