"""The member timeline: everything that happened to a member, newest first.

Features above members add their own sources (orders, ledger, tiers, touches,
interactions) through the registry (`loyalty.wiring`); each source answers the
newest items before a cursor position and the timeline merges them.
"""

from __future__ import annotations

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from loyalty import registry
from loyalty.core.errors import InvalidCursor
from loyalty.core.pagination import decode_position, page
from loyalty.members.models import Member, MemberEvent
from loyalty.members.service import resolve

# A source yields dicts with "at" (aware datetime), "type", "id" and "data", newest first,
# strictly before (at, id) when a position is given.
Source = registry.TimelineSource


def before_clause(at_column, key_column, before, prefix: str, *, numeric: bool):
    """Rows of a source that come after the cursor `before` = (at, item id), newest first. Item ids
    are the source's prefix + its key (zero-padded when numeric), so ties on `at` order by id text."""
    at, item_id = before
    if item_id.startswith(prefix):
        key = item_id[len(prefix) :]
        if numeric:
            # ASCII digits only (`²` is a digit to isdigit() but not to int()), within a bigint.
            if not (key.isascii() and key.isdigit() and len(key) <= 18):
                raise InvalidCursor()
            key = int(key)
        return or_(at_column < at, and_(at_column == at, key_column < key))
    later = item_id > prefix  # another source's id: all of ours at that instant sort before or after it
    return or_(at_column < at, at_column == at) if later else at_column < at


def member_events(session: Session, member_ids: list[str], before, limit: int) -> list[dict]:
    query = select(MemberEvent).where(MemberEvent.member_id.in_(member_ids))
    if before:
        query = query.where(before_clause(MemberEvent.at, MemberEvent.id, before, "mev_", numeric=True))
    rows = session.scalars(query.order_by(MemberEvent.at.desc(), MemberEvent.id.desc()).limit(limit))
    return [{"at": r.at, "type": r.kind, "id": f"mev_{r.id:012d}", "data": r.data} for r in rows]


def sources() -> tuple[Source, ...]:
    return (member_events, *registry.current().timeline_sources)


def timeline(session: Session, *, member_id: str, limit: int, cursor: str | None = None) -> dict:
    member = resolve(session, member_id)
    ids = [member.id] + list(session.scalars(select(Member.id).where(Member.merged_into == member.id)))
    before = None
    before = decode_position(cursor)
    items: list[dict] = []
    for source in sources():
        items.extend(source(session, ids, before, limit + 1))
    items.sort(key=lambda item: (item["at"], item["id"]), reverse=True)
    return page(items[: limit + 1], limit, lambda item: [item["at"].isoformat(), item["id"]])
