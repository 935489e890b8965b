"""Points where features above `members` join in a member's life without members importing them.

The callbacks are the registry's (`loyalty.registry`, filled by `loyalty.wiring`); each runs inside
the caller's transaction, in the registry's order.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from loyalty import registry
from loyalty.members.models import Member


def enrolled(session: Session, member: Member) -> None:
    """After a member is enrolled, before the transaction commits."""
    for hook in registry.current().on_enrolled:
        hook(session, member)


def merged(session: Session, survivor: Member, tombstone: Member) -> None:
    """After a merge: what the tombstone owned (holds, points, orders) follows the survivor."""
    for hook in registry.current().on_merged:
        hook(session, survivor, tombstone)


def erased(session: Session, member_id: str) -> None:
    """When a member is erased: each feature scrubs the free text it keeps about the member
    (messages, notes, complaints)."""
    for hook in registry.current().on_erased:
        hook(session, member_id)
