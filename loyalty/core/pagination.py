"""Opaque cursors for keyset pagination.

A cursor is the last row's sort key, base64url-encoded JSON. It is not signed:
it only says where to resume, and a forged one can only page through rows the
caller may list anyway. Anything that does not decode is a 400 ``invalid_cursor``.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import QueryableAttribute, Session

from loyalty.core.errors import InvalidCursor

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


def encode_cursor(key: list[Any]) -> str:
    raw = json.dumps(key, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, arity: int, types: tuple[type, ...] | None = None) -> list[Any] | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidCursor() from None
    if not isinstance(key, list) or len(key) != arity:
        raise InvalidCursor()
    if not all(isinstance(part, (str, int)) and not isinstance(part, bool) for part in key):
        raise InvalidCursor()
    if any(isinstance(part, int) and not -(2**62) < part < 2**62 for part in key):
        raise InvalidCursor()
    # What a database can't hold: NUL (PostgreSQL refuses it), lone surrogates (not UTF-8), huge text.
    if any(isinstance(part, str) and (len(part) > 200 or "\x00" in part or not _encodable(part)) for part in key):
        raise InvalidCursor()
    if types is not None and not all(
        isinstance(part, kind) and not isinstance(part, bool) for part, kind in zip(key, types)
    ):
        raise InvalidCursor()
    return key


def _encodable(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def decode_position(cursor: str | None) -> tuple[datetime, str] | None:
    """A cursor of (aware timestamp, id), the timestamp in UTC; anything else is `invalid_cursor`
    (a naive time, or one like 9999-12-31T23:59:59-14:00 that overflows when turned into UTC)."""
    position = decode_cursor(cursor, 2, (str, str))
    if not position:
        return None
    try:
        at = datetime.fromisoformat(position[0])
        if at.tzinfo is None:
            raise ValueError("naive")
        at = at.astimezone(UTC)
    except (ValueError, OverflowError):
        raise InvalidCursor() from None
    return at, position[1]


def page(rows: list[Any], limit: int, key_of: Callable[[Any], list[Any]]) -> dict[str, Any]:
    """Rows were fetched with ``limit + 1``; the extra one says a next page exists."""
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(key_of(rows[-1])) if has_more and rows else None
    return {"data": rows, "next_cursor": next_cursor}


def keyset_page(
    session: Session,
    query: Select[Any],
    column: QueryableAttribute[Any],
    *,
    limit: int,
    cursor: str | None = None,
    descending: bool = False,
    kind: type = str,
) -> dict[str, Any]:
    """One page of `query` ordered by a unique `column`, resuming after the cursor's value."""
    after = decode_cursor(cursor, 1, (kind,))
    if after:
        query = query.where(column < after[0] if descending else column > after[0])
    rows = list(session.scalars(query.order_by(column.desc() if descending else column).limit(limit + 1)))
    return page(rows, limit, lambda row: [getattr(row, column.key)])
