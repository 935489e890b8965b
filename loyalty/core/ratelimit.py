"""Rate-limit counters: in process memory without a thread per request, or shared in Redis.

limits' MemoryStorage starts a 10 ms timer thread on nearly every hit to sweep expired
counters; under load that is a thread start per request. Counters are already checked
for expiry when read, so sweeping inline at most once a second loses nothing. Workers are
threaded (gunicorn gthread), so one thread sweeps at a time and only under the key's lock.
Pinned by requirements.lock; the rate-limit tests exercise it.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from limits.storage import MemoryStorage

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
