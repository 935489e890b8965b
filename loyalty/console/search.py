"""One search box for members: a member number, an email, a phone, a tag (#vip) or a name."""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from loyalty.core.errors import LoyaltyError
from loyalty.core.ids import luhn_valid
from loyalty.members.search import search_members

_PHONE = re.compile(r"^\+?[\d\s\-()]{6,20}$")


def interpret(q: str) -> dict[str, str]:
    """Which filter the text most likely is. A number that passes the member-number check digit is a
    member number; other digit strings are phones; `#tag` or `tag:x` a tag; anything else a name."""
    q = q.strip()
    if not q:
        return {}
    if "@" in q:
        return {"email": q}
    if q.startswith("#") or q.lower().startswith("tag:"):
        return {"tag": q.split(":", 1)[1].strip() if q.lower().startswith("tag:") else q[1:].strip()}
    compact = q.replace(" ", "").replace("-", "")
    if compact.isdigit() and luhn_valid(compact) and len(compact) == 12:
        return {"member_number": compact}
    if _PHONE.match(q):
        return {"phone": q}
    return {"q": q}


def find_members(session: Session, *, q: str, limit: int, cursor: str | None) -> dict:
    """A page of members for the text; a name also matches a tag spelled exactly so."""
    filters = interpret(q)
    if not filters:
        return {"data": [], "next_cursor": None, "searched": None}
    try:
        found = search_members(session, role="staff", limit=limit, cursor=cursor, **filters)
    except LoyaltyError:  # e.g. a phone that can't be a number in the program's country
        found = {"data": [], "next_cursor": None}
    if "member_number" in filters and not found["data"]:
        found = search_members(session, role="staff", limit=limit, cursor=cursor, phone=q)
    if "q" in filters and not found["data"] and cursor is None:
        found = search_members(session, role="staff", limit=limit, tag=q.strip())
    return {**found, "searched": next(iter(filters))}
