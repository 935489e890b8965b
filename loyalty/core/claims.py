"""Claiming queued work so several processes share a backlog without doing anything twice.

On PostgreSQL a batch is claimed with `SELECT ... FOR UPDATE SKIP LOCKED LIMIT n` inside the
transaction that does the batch's work: another process skips those rows and takes the next
batch instead of waiting, and a process that dies mid-batch has its transaction rolled back, so
its rows are free again at once. On SQLite `FOR UPDATE` is not rendered and none is needed: every
unit of work begins IMMEDIATE (loyalty/core/db.py), so one writer at a time claims, works and
commits, and the next one sees what the first one did.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVarTuple

from sqlalchemy import Select, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.types import String

if TYPE_CHECKING:
    from sqlalchemy.sql.selectable import _ForUpdateOfArgument

_Columns = TypeVarTuple("_Columns")


def skip_locked(
    statement: Select[*_Columns], *, limit: int, of: _ForUpdateOfArgument | None = None
) -> Select[*_Columns]:
    """`statement` as a claim of at most `limit` rows no other transaction holds."""
    return statement.limit(limit).with_for_update(skip_locked=True, of=of)


# What the advisory locks below are for, so they can't meet another feature's locks.
MEMBERS_IN_DISPATCH = 14_001
WEBHOOK_FAN_OUT = 14_002

_TRY_LOCKS = text("SELECT k FROM unnest(:keys) AS k WHERE pg_try_advisory_xact_lock(:space, hashtext(k))").bindparams(
    bindparam("keys", type_=ARRAY(String))
)


def lock_keys(session: Session, space: int, keys: list[str]) -> set[str]:
    """Of `keys`, those this transaction now holds a lock on, until it ends; another transaction
    holding one makes it missing, at once (no waiting). Two keys may share a lock (a 32-bit hash):
    that only makes one wait for a later batch. On SQLite, the one writer holds them all."""
    if not keys or session.get_bind().dialect.name != "postgresql":
        return set(keys)
    return set(session.scalars(_TRY_LOCKS, {"keys": sorted(set(keys)), "space": space}))
