"""Idempotency-Key for every POST and PATCH, stored in the database.

The record is claimed (``in_flight``) in its own short transaction before the
work starts, so a second process sees it at once. The response is written into
the record inside the request's own transaction, so "work done" and "response
remembered" commit together or not at all. A claim whose transaction died
(process crash) is taken over after ``lock_seconds``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from loyalty.core.db import affected_rows, insert_for, utcnow
from loyalty.core.errors import (
    IdempotencyInFlight,
    IdempotencyKeyReused,
    InvalidIdempotencyKey,
    MemberErased,
)
from loyalty.core.models import IdempotencyRecord


@dataclass(frozen=True)
class Replay:
    status: int
    body: str
    content_type: str


def request_fingerprint(method: str, path: str, body: bytes) -> str:
    # The same JSON with other whitespace or key order is the same request.
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode() if body else b""
    except (ValueError, UnicodeDecodeError, RecursionError):  # deep nesting: the view answers 400 malformed_json
        canonical = body
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + canonical).hexdigest()


def validate_key(key: str) -> None:
    if not 1 <= len(key) <= 255 or not all(32 < ord(c) < 127 for c in key):
        raise InvalidIdempotencyKey()


def claim(
    session: Session,
    *,
    key_prefix: str,
    key: str,
    method: str,
    path: str,
    fingerprint: str,
    ttl_hours: int,
    lock_seconds: int,
) -> int | Replay:
    """Claim the key for this request: its record id, or the first response to replay."""
    now = utcnow()
    session.execute(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.key_prefix == key_prefix,
            IdempotencyRecord.idempotency_key == key,
            IdempotencyRecord.created_at < now - timedelta(hours=ttl_hours),
        )
    )
    values = dict(
        key_prefix=key_prefix,
        idempotency_key=key,
        request_hash=fingerprint,
        method=method,
        path=path,
        state="in_flight",
        created_at=now,
        locked_at=now,
    )
    inserted: int | None = session.execute(
        insert_for(session)(IdempotencyRecord).values(**values).on_conflict_do_nothing().returning(IdempotencyRecord.id)
    ).scalar()
    if inserted is not None:
        return inserted
    record = session.scalars(
        select(IdempotencyRecord).where(
            IdempotencyRecord.key_prefix == key_prefix, IdempotencyRecord.idempotency_key == key
        )
    ).one()
    if record.request_hash != fingerprint:
        raise IdempotencyKeyReused(
            f"Idempotency-Key `{key}` was first used for {record.method} {record.path} with another body."
        )
    if record.state == "done":
        assert record.response_status is not None  # complete() sets it with state "done"
        return Replay(
            record.response_status, record.response_body or "", record.response_content_type or "application/json"
        )
    taken = affected_rows(
        session.execute(
            update(IdempotencyRecord)
            .where(
                IdempotencyRecord.id == record.id,
                IdempotencyRecord.state == "in_flight",
                IdempotencyRecord.locked_at < now - timedelta(seconds=lock_seconds),
            )
            .values(locked_at=now)
        )
    )
    if taken != 1:
        error = IdempotencyInFlight()
        error.headers["Retry-After"] = "1"
        raise error
    return record.id


def about_member(body: str) -> str | None:
    """The member a JSON response is about: its `member_id`, a member's own `id`, or the id of
    an embedded `member`. Erasure finds the remembered responses by it."""
    try:
        data = json.loads(body) if body.lstrip().startswith("{") else None
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    member = data.get("member")
    nested = member if isinstance(member, dict) else {}
    for candidate in (data.get("member_id"), data.get("id"), nested.get("id")):
        if isinstance(candidate, str) and candidate.startswith("mbr_") and len(candidate) <= 32:
            return candidate
    return None


def complete(session: Session, record_id: int, *, status: int, body: str, content_type: str) -> None:
    session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.id == record_id)
        .values(
            state="done",
            response_status=status,
            response_body=body,
            response_content_type=content_type,
            member_id=about_member(body),
        )
    )


def forget_member(session: Session, member_id: str) -> int:
    """Erasure: a remembered response about the member answers a replay with 409 member_erased
    instead of what was erased. The record stays, so the same key can't enrol them again."""
    body = json.dumps(MemberErased("The member this request was about was erased.").to_problem())
    return affected_rows(
        session.execute(
            update(IdempotencyRecord)
            .where(IdempotencyRecord.member_id == member_id)
            .values(response_status=409, response_body=body, response_content_type="application/problem+json")
            .execution_options(synchronize_session=False)
        )
    )


def release(session: Session, record_id: int) -> None:
    """Forget a claim whose request failed on our side, so the client may retry."""
    session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == record_id))


def purge_expired(session: Session, *, ttl_hours: int, now: datetime | None = None) -> int:
    now = now or utcnow()
    result = session.execute(
        delete(IdempotencyRecord).where(IdempotencyRecord.created_at < now - timedelta(hours=ttl_hours))
    )
    return affected_rows(result)
