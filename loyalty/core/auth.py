"""API keys and roles.

A key looks like ``lk_<prefix>_<secret>``. Only its SHA-256 is stored: the
secret carries 256 random bits, so a slow password hash would add latency to
every call and no security. The prefix finds the row and names the key in
``keys list``/``keys revoke``/``keys rotate``, in logs and in the audit log. A key may carry an
expiry; a rotation sets one on the old key (its grace period).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from loyalty.core.api import Blueprint
from loyalty.core.db import affected_rows, utcnow
from loyalty.core.errors import LoyaltyError
from loyalty.core.fields import TEXT_PATTERN
from loyalty.core.models import ApiKey

ROLES = ("storefront", "pos", "staff", "admin")
_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"


class Unauthorized(LoyaltyError):
    status, code, title = 401, "unauthorized", "Authentication required"

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.headers["WWW-Authenticate"] = 'Bearer realm="loyalty"'


class Forbidden(LoyaltyError):
    status, code, title = 403, "forbidden", "Not allowed for this API key"


class Actor(NamedTuple):
    """The verified caller. (A tuple: made on every request, cheaper than a frozen dataclass.)"""

    key_id: int
    prefix: str
    name: str
    role: str

    @property
    def label(self) -> str:
        return f"key:{self.prefix}"


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(session: Session, *, role: str, name: str, expires_at: datetime | None = None) -> tuple[ApiKey, str]:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    name = name.strip()
    if not name or len(name) > 100:
        raise ValueError("name must be 1-100 characters")
    # The name shows in the audit log, the console and `keys list`: nothing that hides or disguises text.
    if not re.match(TEXT_PATTERN, name):
        raise ValueError("name must have no control, bidi or zero-width characters")
    if expires_at is not None and expires_at <= utcnow():
        raise ValueError("the expiry must lie in the future")
    prefix = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    key = f"lk_{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiKey(prefix=prefix, key_hash=_hash(key), name=name, role=role, created_at=utcnow(), expires_at=expires_at)
    session.add(row)
    session.flush()
    return row, key


def list_keys(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.id)))


def revoke_key(session: Session, prefix: str) -> bool:
    result = session.execute(
        update(ApiKey).where(ApiKey.prefix == prefix, ApiKey.revoked_at.is_(None)).values(revoked_at=utcnow())
    )
    return affected_rows(result) == 1


def rotate_key(session: Session, prefix: str, *, grace: timedelta) -> tuple[ApiKey, ApiKey, str] | None:
    """A replacement with the same role and name; the old key keeps working for `grace` (never longer
    than it would have anyway), so a shop deploys the new key before the old one stops."""
    old = session.scalars(select(ApiKey).where(ApiKey.prefix == prefix).with_for_update()).first()
    now = utcnow()
    if old is None or old.revoked_at is not None or (old.expires_at is not None and old.expires_at <= now):
        return None
    new, key = create_key(session, role=old.role, name=old.name)
    ends = now + grace
    old.expires_at = min(ends, old.expires_at) if old.expires_at else ends
    session.flush()
    return old, new, key


class _KeyRow(NamedTuple):
    id: int
    key_hash: str
    name: str
    role: str
    revoked_at: datetime | None
    expires_at: datetime | None


def _key_row(session: Session, prefix: str) -> _KeyRow | None:
    row = session.execute(
        select(ApiKey.id, ApiKey.key_hash, ApiKey.name, ApiKey.role, ApiKey.revoked_at, ApiKey.expires_at).where(
            ApiKey.prefix == prefix
        )
    ).first()
    return _KeyRow(*row) if row else None


class KeyVerifier:
    """Verifies bearer keys, caching rows per process for a short time.

    The POS path must not pay a database read for the key on every scan; the
    price is that a revocation reaches every worker within ``ttl`` seconds.
    """

    def __init__(self, open_session: Callable[[], Session], ttl: float) -> None:
        self._open_session = open_session
        self._ttl = ttl
        self._cache: dict[str, tuple[float, _KeyRow | None]] = {}
        self._lock = threading.Lock()

    def _row(self, prefix: str) -> _KeyRow | None:
        now = time.monotonic()
        cached = self._cache.get(prefix)
        if cached and now - cached[0] < self._ttl:
            return cached[1]
        with self._open_session() as session:
            value = _key_row(session, prefix)
            session.rollback()
        with self._lock:
            if len(self._cache) > 10_000:  # unknown prefixes must not grow memory without bound
                self._cache.clear()
            self._cache[prefix] = (now, value)
        return value

    def verify(self, authorization: str | None, *, session: Session | None = None) -> Actor:
        """The caller's key, checked. With `session`, read there and now, bypassing the cache (the
        console's sign-in: within its request's transaction, never a second connection waiting on it)."""
        if not authorization:
            raise Unauthorized("Missing Authorization header; send `Authorization: Bearer <key>`.")
        scheme, _, key = authorization.partition(" ")
        key = key.strip()
        if scheme.lower() != "bearer" or not key:
            raise Unauthorized("Authorization must be `Bearer <key>`.")
        parts = key.split("_")
        if len(parts) < 3 or parts[0] != "lk" or len(parts[1]) != 8:
            raise Unauthorized("The API key is not valid.")
        row = self._row(parts[1]) if session is None else _key_row(session, parts[1])
        if row is None or not hmac.compare_digest(row.key_hash, _hash(key)):
            raise Unauthorized("The API key is not valid.")
        if row.revoked_at is not None:
            raise Unauthorized("The API key was revoked.")
        # Compared on every call, cached row or not: an expiry is exact, not late by the cache time.
        if row.expires_at is not None and row.expires_at <= utcnow():
            raise Unauthorized("The API key has expired.")
        return Actor(key_id=row.id, prefix=parts[1], name=row.name, role=row.role)

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()


ROLES_ATTR = "_loyalty_roles"


_View = TypeVar("_View", bound=Callable[..., Any])


def requires(*roles: str) -> Callable[[_View], _View]:
    """Declare which roles may call a view (admin always may).

    The check itself runs before argument parsing (in the request hook), so an
    unauthenticated caller gets 401, never a 422 that reveals the body's shape.
    """
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {unknown}")
    allowed = frozenset(roles) | {"admin"}
    document = Blueprint.doc(
        security=[{"bearerAuth": []}],
        responses={
            "400": "BAD_REQUEST",
            "401": "Unauthorized",
            "403": "Forbidden",
            "405": "METHOD_NOT_ALLOWED",
            "429": "TooManyRequests",
        },
    )

    def decorator(func: _View) -> _View:
        setattr(func, ROLES_ATTR, allowed)
        documented: _View = document(func)
        return documented

    return decorator


# For views that read a JSON body: malformed JSON, too large, not JSON.
accepts_json = Blueprint.doc(
    responses={"400": "BAD_REQUEST", "413": "REQUEST_ENTITY_TOO_LARGE", "415": "UNSUPPORTED_MEDIA_TYPE"}
)


# For every POST and PATCH: the Idempotency-Key header (the behaviour itself lives in core.idempotency).
idempotent = Blueprint.doc(
    parameters=[
        {
            "in": "header",
            "name": "Idempotency-Key",
            "required": False,
            "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x21-\\x7e]+$"},
            "description": "Same key and body within 24 h: the first response is returned again "
            "(header Idempotent-Replayed: true). Another body: 422 idempotency_key_reused. "
            "Still running: 409 idempotency_in_flight.",
        }
    ],
    responses={
        "409": "Conflict",
        "413": "REQUEST_ENTITY_TOO_LARGE",
        "415": "UNSUPPORTED_MEDIA_TYPE",
        "422": "UNPROCESSABLE_ENTITY",
    },
)  # a reused key is 422; any body is checked for size and type


def check_role(actor: Actor, allowed: frozenset[str]) -> None:
    if actor.role not in allowed:
        raise Forbidden(f"Role `{actor.role}` may not call this endpoint; allowed: {', '.join(sorted(allowed))}.")
