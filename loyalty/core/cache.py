"""Small per-process caches for rarely changed settings read on hot paths (promotions, tiers).

A change made through this process clears the cache at once; other workers see it
within `ttl` seconds.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

T = TypeVar("T")
_all: list[TTLCache[Any]] = []


class TTLCache(Generic[T]):
    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._values: dict[str, tuple[float, T]] = {}
        self._lock = threading.Lock()
        _all.append(self)

    def get(self, key: str, load: Callable[[], T]) -> T:
        hit = self._values.get(key)
        if hit and time.monotonic() - hit[0] < self.ttl:
            return hit[1]
        value = load()
        with self._lock:
            self._values[key] = (time.monotonic(), value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


def clear_all() -> None:
    for cache in _all:
        cache.clear()


# Each engine's URL rendered once: rendering quotes every part of it, and the hot paths ask several
# times per request (a fifth of the POS lookup's own time).
_rendered: weakref.WeakKeyDictionary[Engine, str] = weakref.WeakKeyDictionary()


def database_key(bind: Session | Connection | Engine) -> str:
    """Which database a session or a connection talks to: caches are kept per database."""
    engine = bind.get_bind().engine if hasattr(bind, "get_bind") else bind.engine
    key = _rendered.get(engine)
    if key is None:
        key = _rendered[engine] = str(engine.url)
    return key
