"""Per-process rate-limit counters without a thread per request.

limits' MemoryStorage starts a 10 ms timer thread on nearly every hit to sweep expired
counters; under load that is a thread start per request. Counters are already checked
for expiry when read, so sweeping inline at most once a second loses nothing.
Pinned by requirements.lock; the rate-limit tests exercise it.
"""

from __future__ import annotations

import time

from limits.storage import MemoryStorage

SCHEME = "loyalty-memory"


class SweepingMemoryStorage(MemoryStorage):
    STORAGE_SCHEME = [SCHEME]

    _last_sweep = 0.0

    def _MemoryStorage__schedule_expiry(self) -> None:  # replaces the timer-thread version
        now = time.monotonic()
        if now - self._last_sweep >= 1.0:
            self._last_sweep = now
            self._MemoryStorage__expire_events()


def storage_uri(configured: str) -> str:
    return f"{SCHEME}://" if configured == "memory://" else configured
