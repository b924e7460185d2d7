"""A small in-process TTL cache for reads, keyed per token so two users never share an entry.

Any mutation clears the whole cache (as the official SDK does); ``nocache=True`` on a read skips the lookup but
still stores the fresh answer.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Hashable
from typing import Any

__all__ = ["TtlCache", "token_fingerprint"]


def token_fingerprint(token: str | None) -> str:
    """Return a short, irreversible fingerprint of a token for cache keys (never the token itself)."""
    if not token:
        return "anonymous"
    return hashlib.sha256(token.encode()).hexdigest()[:16]


class TtlCache:
    """Entries expire ``ttl`` seconds after they were stored; the clock is injectable."""

    def __init__(self, clock: Callable[[], float], max_entries: int = 4096) -> None:
        self._clock = clock
        self._max = max_entries
        self._data: dict[Hashable, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> tuple[bool, Any]:
        """Return ``(True, value)`` for a live entry, else ``(False, None)``."""
        with self._lock:
            entry = self._data.get(key)
            if entry is None:
                return False, None
            if entry[0] <= self._clock():
                del self._data[key]
                return False, None
            return True, entry[1]

    def put(self, key: Hashable, value: Any, ttl: float) -> None:
        """Store a value for ``ttl`` seconds (a TTL of zero or less stores nothing)."""
        if ttl <= 0:
            return
        with self._lock:
            if len(self._data) >= self._max:
                now = self._clock()
                self._data = {k: v for k, v in self._data.items() if v[0] > now}
                if len(self._data) >= self._max:
                    self._data.pop(next(iter(self._data)))
            self._data[key] = (self._clock() + ttl, value)

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._data)
