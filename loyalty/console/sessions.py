"""Console sign-in: an API key of role staff or admin opens a server-side session.

The browser keeps only a random session id (in Flask's signed cookie); the key is checked once,
at sign-in, exactly as the API checks it, and never stored anywhere. Every later request looks the
key row up again by id, so a revoked or expired key ends its console sessions at once (the API's
per-process key cache does not apply here).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from loyalty.console.models import ConsoleSecret, ConsoleSession
from loyalty.core.auth import Actor, KeyVerifier
from loyalty.core.db import utcnow
from loyalty.core.errors import LoyaltyError
from loyalty.core.models import ApiKey

CONSOLE_ROLES = frozenset({"staff", "admin"})
# A session seen within this long is not written again: a page view costs no write.
_TOUCH_EVERY = timedelta(seconds=60)


class SignInRefused(Exception):
    """Why a key may not open the console; `reason` is a message id the page translates."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class SignedIn:
    session_id: str  # the random id for the cookie
    actor: Actor


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def sign_in(session: Session, *, api_key: str, verifier: KeyVerifier) -> SignedIn:
    try:
        actor = verifier.verify(f"Bearer {api_key.strip()}", session=session)
    except LoyaltyError as error:
        raise SignInRefused(
            "revoked"
            if "revoked" in (error.detail or "")
            else "expired"
            if "expired" in (error.detail or "")
            else "invalid"
        ) from None
    if actor.role not in CONSOLE_ROLES:
        raise SignInRefused("role")
    session_id = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(ConsoleSession(id_hash=_hash(session_id), api_key_id=actor.key_id, created_at=now, last_seen_at=now))
    return SignedIn(session_id=session_id, actor=actor)


def current(session: Session, *, session_id: str, idle: timedelta) -> Actor | None:
    """The signed-in actor, or None when the session is unknown, idle too long, or its key no
    longer valid (revoked, expired, or its role no longer one of the console's)."""
    now = utcnow()
    row = session.execute(
        select(ConsoleSession, ApiKey)
        .join(ApiKey, ApiKey.id == ConsoleSession.api_key_id)
        .where(ConsoleSession.id_hash == _hash(session_id))
    ).first()
    if row is None:
        return None
    console_session, key = row
    if (
        console_session.last_seen_at + idle <= now
        or key.revoked_at is not None
        or (key.expires_at is not None and key.expires_at <= now)
        or key.role not in CONSOLE_ROLES
    ):
        session.delete(console_session)
        return None
    if now - console_session.last_seen_at >= _TOUCH_EVERY:
        console_session.last_seen_at = now
    return Actor(key_id=key.id, prefix=key.prefix, name=key.name, role=key.role)


def sign_out(session: Session, *, session_id: str) -> None:
    session.execute(delete(ConsoleSession).where(ConsoleSession.id_hash == _hash(session_id)))


def forget_idle(session: Session, *, idle: timedelta, now: datetime | None = None) -> int:
    cutoff = (now or utcnow()) - idle
    stale = delete(ConsoleSession).where(ConsoleSession.last_seen_at <= cutoff)
    result = cast(CursorResult[Any], session.execute(stale))
    return result.rowcount or 0


def cookie_secret(session: Session) -> str:
    """The database's own cookie-signing secret, made on first use (when LOYALTY_SECRET_KEY is unset).

    Two workers racing to make it both insert id 1: the loser's insert fails and it reads the winner's.
    """
    value = session.scalar(select(ConsoleSecret.value).where(ConsoleSecret.id == 1))
    if value:
        return value
    try:
        with session.begin_nested():
            session.add(ConsoleSecret(id=1, value=secrets.token_urlsafe(48)))
    except IntegrityError:  # another process made it first
        pass
    return session.execute(select(ConsoleSecret.value).where(ConsoleSecret.id == 1)).scalar_one()
