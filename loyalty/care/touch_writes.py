"""Writing a dispatch batch's verdicts: one statement per kind of change, not one per touch.

A flush of a thousand changed Touch objects is a thousand UPDATEs for the database to run; on
PostgreSQL one UPDATE joined to the new values (loyalty/core/rowsets.py) changes them all. SQLite
runs an executemany in-process, so it keeps that.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, bindparam, update
from sqlalchemy.orm import Session

from loyalty.care.models import Touch
from loyalty.core.rowsets import rowset, rowset_values

_TOUCHES = cast(Table, Touch.__table__)


def update_touches(session: Session, rows: list[dict[str, Any]]) -> None:
    """Set each row's columns on the touch with its `id`; every row names the same columns."""
    if not rows:
        return
    names = [name for name in rows[0] if name != "id"]
    if session.get_bind().dialect.name == "postgresql":
        given = rowset(_TOUCHES, ["id", *names])
        statement = update(_TOUCHES).where(_TOUCHES.c.id == given.c.id).values({n: given.c[n] for n in names})
        session.execute(statement, rowset_values(["id", *names], rows))
    else:
        statement = (
            update(_TOUCHES)
            .where(_TOUCHES.c.id == bindparam("_id"))
            .values({name: bindparam(f"_{name}") for name in names})
        )
        session.execute(statement, [{f"_{name}": value for name, value in row.items()} for row in rows])
    _forget_stale(session, {row["id"] for row in rows})


def _forget_stale(session: Session, written: set[str]) -> None:
    """Touches this session had loaded before (a caller's own) are read again when next used: the
    statements above went past them."""
    for held in list(session.identity_map.values()):
        if isinstance(held, Touch) and held.id in written:
            session.expire(held)
