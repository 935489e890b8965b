"""Rate limits: one fixed-window allowance per caller, counted in process memory (without a thread
per request) or shared in Redis.

Built on `limits` directly rather than through Flask-Limiter: its per-request bookkeeping (resolving
route, blueprint and application limits, exemptions, its own request context) was a quarter of the
POS lookup's CPU, for one application-wide limit and one sign-in limit. Here a request costs one
counter increment and one window read.

limits' MemoryStorage starts a 10 ms timer thread on nearly every hit to sweep expired
counters; under load that is a thread start per request. Counters are already checked
for expiry when read, so sweeping inline at most once a second loses nothing. Workers are
threaded (gunicorn gthread), so one thread sweeps at a time and only under the key's lock.
Pinned by requirements.lock; the rate-limit tests exercise it.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Any, NamedTuple

from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage, Storage, storage_from_string

from loyalty.core.logging import get_logger

log = get_logger("loyalty.ratelimit")

SCHEME = "loyalty-memory"


class SweepingMemoryStorage(MemoryStorage):
    STORAGE_SCHEME = [SCHEME]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # limits' constructor starts a one-shot timer that sweeps 10 ms later without our lock: a
        # sweep racing the first hits ("dictionary changed size during iteration"). Ours sweeps instead.
        self.timer.cancel()
        self._last_sweep = 0.0
        self._sweeping = threading.Lock()
        # One lock for the fixed-window counters: limits' own `get` drops an expired (or not yet
        # dated) counter and its lock without holding it, so a first hit racing another thread's
        # first hit could be lost. A dict update under one lock costs less than that race.
        self._counting = threading.Lock()

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        self._MemoryStorage__schedule_expiry()
        with self._counting:
            now = time.time()
            if self.expirations.get(key, 0) <= now:
                self.storage.pop(key, None)
                self.expirations.pop(key, None)
            self.storage[key] += amount
            if self.storage[key] == amount:
                self.expirations[key] = now + expiry
            return self.storage[key]

    def get(self, key: str) -> int:
        with self._counting:
            if self.expirations.get(key, 0) <= time.time():
                self.storage.pop(key, None)
                self.expirations.pop(key, None)
            return self.storage.get(key, 0)

    def _MemoryStorage__schedule_expiry(self) -> None:  # replaces the timer-thread version
        now = time.monotonic()
        if now - self._last_sweep < 1.0 or not self._sweeping.acquire(blocking=False):
            return
        try:
            self._last_sweep = now
            self._sweep()
        finally:
            self._sweeping.release()

    def _sweep(self) -> None:
        # The fixed-window strategy keeps counters in `storage` with their `expirations`.
        with self._counting:
            now = time.time()
            for key in [key for key, at in list(self.expirations.items()) if at <= now]:
                self.storage.pop(key, None)
                self.expirations.pop(key, None)


def storage_uri(configured: str) -> str:
    return f"{SCHEME}://" if configured == "memory://" else configured


def is_shared(configured: str) -> bool:
    """Counters kept outside the process (Redis), which can be down while the service is up."""
    return not configured.startswith("memory://")


def shared_options() -> dict[str, float]:
    # Bounds on every Redis round trip: a limiter that waits on a hung Redis stalls every request.
    return {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}


def warn_if_per_worker(*, workers: int, configured: str | None = None) -> bool:
    """Log a warning when counters kept in memory meet several worker processes: each counts alone."""
    from loyalty.config import Config
    from loyalty.core.logging import configure_logging, get_logger

    config = Config.from_env()
    configured = configured if configured is not None else config.rate_limit_storage_url
    if workers <= 1 or not configured.startswith("memory://") or not config.rate_limit_enabled:
        return False
    configure_logging(config.log_level, config.log_json)
    get_logger("loyalty.ratelimit").warning(
        "rate_limit_per_worker",
        workers=workers,
        storage=configured,
        detail=f"LOYALTY_RATE_LIMIT is counted in each of {workers} workers separately, so a caller gets up to "
        f"{workers}x the limit; set LOYALTY_RATE_LIMIT_STORAGE_URL=redis://... to share the count.",
    )
    return True


class Allowance(NamedTuple):
    """What one counted request was told: refused or not, and the window it was counted in. (A
    tuple: made on every request, and a frozen dataclass cost four times as much to make.)"""

    allowed: bool
    limit: int
    remaining: int
    reset: int  # whole seconds until the window ends (at least 1 for a refusal: when to come back)


class RateLimiter:
    """Counts requests per caller key against fixed-window limits ("1200 per minute"; several joined
    with `;` all apply). A shared store (Redis) that fails is not the service failing: each worker
    counts in memory instead and tries the shared store again after a few seconds, and a hung store
    is given up on within its socket timeout."""

    RETRY_SHARED_AFTER = 5.0

    def __init__(self, storage_url: str) -> None:
        self._shared = is_shared(storage_url)
        storage = storage_from_string(storage_uri(storage_url), **(shared_options() if self._shared else {}))
        assert isinstance(storage, Storage)  # a synchronous store: the service's workers are not asyncio
        self._store = storage
        self._memory: Storage = SweepingMemoryStorage() if self._shared else storage
        errors = storage.base_exceptions if self._shared else ()
        self._store_errors: tuple[type[Exception], ...] = errors if isinstance(errors, tuple) else (errors,)
        self._store_down_until = 0.0

    @staticmethod
    def parse(limit: str) -> list[RateLimitItem]:
        """ValueError for text that isn't a limit, so a bad setting fails at start, not per request."""
        items = parse_many(limit)
        if not items:
            raise ValueError(f"No rate limit in {limit!r}")
        return items

    def hit(self, items: list[RateLimitItem], key: str) -> Allowance:
        if self._shared and time.monotonic() >= self._store_down_until:
            try:
                return self._count(self._store, items, key)
            except self._store_errors as error:
                log.warning("rate_limit_store_unavailable", error=type(error).__name__)
                self._store_down_until = time.monotonic() + self.RETRY_SHARED_AFTER
        return self._count(self._memory, items, key)

    @staticmethod
    def _count(store: Storage, items: list[RateLimitItem], key: str) -> Allowance:
        answers: list[Allowance] = []
        for item in items:
            # A fixed window, counted as limits' FixedWindowRateLimiter counts it (refused requests
            # count too), in two calls to the store instead of its three.
            counter = item.key_for(key)
            count = store.incr(counter, item.get_expiry())
            seconds = max(0, math.ceil(store.get_expiry(counter) - time.time()))
            allowed = count <= item.amount
            answers.append(
                Allowance(allowed, item.amount, max(0, item.amount - count), seconds if allowed else max(1, seconds))
            )
        if len(answers) == 1:  # the usual single limit: nothing to choose between
            return answers[0]
        # What the caller is told is the limit that binds: a refusing one, else the one nearest its end.
        return min(answers, key=lambda answer: (answer.allowed, answer.remaining))
