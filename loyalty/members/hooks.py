"""Points where features above `members` join in a member's life without members importing them.

`loyalty.wiring` registers the callbacks; each runs inside the caller's transaction.
"""

from __future__ import annotations

from typing import Callable

from sqlalchemy.orm import Session

# (session, member) after a member is enrolled, before the transaction commits.
on_enrolled: list[Callable[[Session, object], None]] = []
# (session, survivor, tombstone) after a merge, in registration order: what the
# tombstone owned (holds, points, orders) follows the survivor.
on_merged: list[Callable[[Session, object, object], None]] = []
# (session, member_id) when a member is erased, in the erasing transaction: each feature
# scrubs the free text it keeps about the member (messages, notes, complaints).
on_erased: list[Callable[[Session, str], None]] = []


def register(hooks: list, callback) -> None:
    if callback not in hooks:
        hooks.append(callback)
