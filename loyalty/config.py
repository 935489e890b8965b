"""Configuration, read from ``LOYALTY_*`` environment variables.

Every setting has a default that serves the embedded SQLite demo; production
overrides the database URL and usually the rate-limit storage.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE_PATH = PROJECT_ROOT / "var" / "loyalty.sqlite3"


def _env(name: str, default: str) -> str:
    return os.environ.get(f"LOYALTY_{name}", default)


@dataclass(frozen=True)
class Config:
    database_url: str = f"sqlite:///{DEFAULT_SQLITE_PATH}"
    # A read replica for the reads that may lag (the POS lookup, member browsing, insights, segment
    # counts and exports); empty: every read goes to the primary. Nothing that decides a write reads it.
    read_database_url: str = ""
    log_level: str = "INFO"
    log_json: bool = True
    # A request over this size is refused with 413 before it is parsed.
    max_request_bytes: int = 1_048_576
    # `limits` syntax ("1200 per minute"; several joined with ";" all apply); per API key, or per address without one.
    rate_limit: str = "1200 per minute"
    # memory:// counts per worker process; a redis:// URL shares the count.
    rate_limit_storage_url: str = "memory://"
    rate_limit_enabled: bool = True
    idempotency_ttl_hours: int = 24
    # An in-flight idempotency record older than this is taken to belong to a
    # crashed request (its transaction never committed) and may be retried.
    idempotency_lock_seconds: int = 60
    # Outbox events and their delivery log (which may name members) are deleted this many days
    # after they occurred, once nothing of them is left to send (the events.purge job).
    event_retention_days: int = 30
    # Verified API keys are cached this long per process: revocation takes
    # effect everywhere within this many seconds.
    api_key_cache_seconds: int = 30
    # Used when the program row is first created; the admin may change them later.
    program_timezone: str = "Asia/Shanghai"
    program_currency: str = "CNY"
    program_country: str = "CN"
    # When set (a whsec_ secret), subscriptions made without a secret of their own are signed with
    # this one instead of a fresh random one: for a shop whose one receiver (the messaging gateway)
    # is configured with it. Each subscription keeps the secret it was made with.
    webhook_secret: str = ""
    # Lets webhooks target loopback, private and link-local addresses: development and tests only.
    webhook_allow_private: bool = False
    # One delivery attempt (connect, send, read) ends after this long, whatever the receiver does.
    webhook_attempt_seconds: float = 10.0
    # Connections per process to PostgreSQL: a pool of this many kept open, and up to this many more
    # under load (docs/DEPLOY.md: instances x workers x (pool + overflow) must fit max_connections).
    db_pool_size: int = 10
    db_max_overflow: int = 20
    # Signs the staff console's cookies. Empty: a secret made once and kept in the database, shared
    # by every worker and instance on it; set it to rotate (every console user signs in again).
    secret_key: str = ""
    # A console session unused this long is signed out.
    console_idle_minutes: int = 30
    testing: bool = False
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> Config:
        return cls(
            database_url=_env("DATABASE_URL", cls.database_url),
            read_database_url=_env("READ_DATABASE_URL", ""),
            log_level=_env("LOG_LEVEL", cls.log_level).upper(),
            log_json=_env("LOG_JSON", "1") not in ("0", "false", "no"),
            max_request_bytes=int(_env("MAX_REQUEST_BYTES", str(cls.max_request_bytes))),
            rate_limit=_env("RATE_LIMIT", cls.rate_limit),
            rate_limit_storage_url=_env("RATE_LIMIT_STORAGE_URL", cls.rate_limit_storage_url),
            rate_limit_enabled=_env("RATE_LIMIT_ENABLED", "1") not in ("0", "false", "no"),
            idempotency_ttl_hours=int(_env("IDEMPOTENCY_TTL_HOURS", "24")),
            idempotency_lock_seconds=int(_env("IDEMPOTENCY_LOCK_SECONDS", "60")),
            event_retention_days=int(_env("EVENT_RETENTION_DAYS", "30")),
            api_key_cache_seconds=int(_env("API_KEY_CACHE_SECONDS", "30")),
            program_timezone=_env("PROGRAM_TIMEZONE", cls.program_timezone),
            program_currency=_env("PROGRAM_CURRENCY", cls.program_currency),
            program_country=_env("PROGRAM_COUNTRY", cls.program_country),
            webhook_secret=_env("WEBHOOK_SECRET", ""),
            webhook_allow_private=_env("WEBHOOK_ALLOW_PRIVATE", "false").lower() in ("1", "true", "yes"),
            webhook_attempt_seconds=float(_env("WEBHOOK_ATTEMPT_SECONDS", "10")),
            secret_key=_env("SECRET_KEY", ""),
            db_pool_size=int(_env("DB_POOL_SIZE", "10")),
            db_max_overflow=int(_env("DB_MAX_OVERFLOW", "20")),
            console_idle_minutes=int(_env("CONSOLE_IDLE_MINUTES", "30")),
        )

    def __post_init__(self) -> None:
        if self.webhook_secret:
            from loyalty.core.signing import secret_key

            try:
                secret_key(self.webhook_secret)
            except ValueError as error:  # fail at start, not at the first subscription
                raise ValueError(f"LOYALTY_WEBHOOK_SECRET is not a webhook secret: {error}") from None
        if self.db_pool_size < 1 or self.db_max_overflow < 0:
            raise ValueError("LOYALTY_DB_POOL_SIZE must be at least 1 and LOYALTY_DB_MAX_OVERFLOW at least 0.")
        if self.console_idle_minutes < 1:
            raise ValueError("LOYALTY_CONSOLE_IDLE_MINUTES must be at least 1.")
        if self.secret_key and len(self.secret_key) < 32:
            raise ValueError("LOYALTY_SECRET_KEY must be at least 32 characters.")
        if not 0 < self.webhook_attempt_seconds <= 10:
            raise ValueError("LOYALTY_WEBHOOK_ATTEMPT_SECONDS must be more than 0 and at most 10.")

    def with_(self, **changes: Any) -> Config:
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise TypeError(f"unknown config keys: {sorted(unknown)}")
        return replace(self, **changes)
