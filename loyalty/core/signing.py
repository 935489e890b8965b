"""Standard Webhooks signing: `whsec_` secrets and `v1,` HMAC-SHA256 signatures.

The signed content is "{webhook-id}.{webhook-timestamp}.{body}", keyed with the base64-decoded
secret, so receivers can verify with any Standard Webhooks library. While a secret is being
rotated, each request carries one `v1,` signature per secret in force, space-separated, as the
specification allows: a receiver that has either the previous or the new secret verifies.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from datetime import datetime

PREFIX = "whsec_"
MIN_BYTES, MAX_BYTES = 24, 64


def new_secret(size: int = 32) -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(size)).decode()


def secret_key(secret: str) -> bytes:
    """The key inside a `whsec_` secret; ValueError when it isn't one."""
    if not secret.startswith(PREFIX):
        raise ValueError("A secret starts with whsec_.")
    try:
        key = base64.b64decode(secret[len(PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("After whsec_ comes base64.") from None
    if not MIN_BYTES <= len(key) <= MAX_BYTES:
        raise ValueError(f"The key must be {MIN_BYTES} to {MAX_BYTES} bytes.")
    return key


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    content = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def sign_all(secrets_in_force: Sequence[str], message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value for several secrets: their `v1,` signatures, space-separated,
    in the order given (the new secret first), each secret once."""
    unique = list(dict.fromkeys(secrets_in_force))
    if not unique:
        raise ValueError("At least one secret signs.")
    return " ".join(sign(secret, message_id, timestamp, body) for secret in unique)


def in_force(current: str, previous: str | None, previous_until: datetime | None, *, now: datetime) -> tuple[str, ...]:
    """The secrets that sign at `now`: the current one, and the one it replaced until its grace
    period ends (the end itself is outside it)."""
    if previous and previous_until is not None and now < previous_until and previous != current:
        return current, previous
    return (current,)


def verify(secret: str, message_id: str, timestamp: int, body: bytes, header: str) -> bool:
    """What a receiver does: any of the space-separated `v1,` signatures may match."""
    expected = sign(secret, message_id, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in header.split())
