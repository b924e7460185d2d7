"""A thread-safe LRU cache of encoded tiles, bounded by the total size of its values in bytes.

Keys carry the slide's file signature, so a changed file never serves stale tiles: its old entries are
simply no longer asked for and age out.

Example:
    >>> cache = ByteLRUCache(max_bytes=10)
    >>> cache.put("a", b"12345"); cache.put("b", b"67890"); cache.put("c", b"x")
    >>> cache.get("a") is None, cache.get("c"), cache.nbytes
    (True, b'x', 6)
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass

__all__ = ["ByteLRUCache", "CacheStats"]


@dataclass(frozen=True)
class CacheStats:
    """A snapshot of a cache's counters.

    Attributes:
        hits: Lookups that found their key.
        misses: Lookups that did not.
        evictions: Entries dropped to stay within the byte bound.
        entries: Entries held now.
        nbytes: Bytes held now.
        max_bytes: The bound.
    """

    hits: int
    misses: int
    evictions: int
    entries: int
    nbytes: int
    max_bytes: int


class ByteLRUCache:
    """Least-recently-used cache of ``bytes`` values whose total length stays within ``max_bytes``.

    A value larger than the whole bound is not stored. All methods are safe to call from several threads.

    Args:
        max_bytes: The bound on the sum of ``len(value)`` over all entries (0 disables caching).
    """

    def __init__(self, max_bytes: int) -> None:
        if max_bytes < 0:
            msg = f"max_bytes must not be negative, not {max_bytes}."
            raise ValueError(msg)
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Hashable, bytes] = OrderedDict()
        self._nbytes = 0
        self._lock = threading.Lock()
        self._hits = self._misses = self._evictions = 0

    def get(self, key: Hashable) -> bytes | None:
        """The value for ``key`` (marking it most recently used), or None."""
        with self._lock:
            value = self._entries.get(key)
            if value is None:
                self._misses += 1
                return None
            self._entries.move_to_end(key)
            self._hits += 1
            return value

    def put(self, key: Hashable, value: bytes) -> None:
        """Store ``value`` under ``key``, evicting least recently used entries beyond the bound."""
        size = len(value)
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._nbytes -= len(old)
            if size > self.max_bytes:
                return
            self._entries[key] = value
            self._nbytes += size
            while self._nbytes > self.max_bytes:
                _, evicted = self._entries.popitem(last=False)
                self._nbytes -= len(evicted)
                self._evictions += 1

    def pop(self, key: Hashable) -> bytes | None:
        """Remove and return the value for ``key``, if any."""
        with self._lock:
            value = self._entries.pop(key, None)
            if value is not None:
                self._nbytes -= len(value)
            return value

    def clear(self) -> None:
        """Drop every entry (the counters are kept)."""
        with self._lock:
            self._entries.clear()
            self._nbytes = 0

    @property
    def nbytes(self) -> int:
        """Bytes held now."""
        return self._nbytes

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._entries

    def stats(self) -> CacheStats:
        """A snapshot of the counters."""
        with self._lock:
            return CacheStats(
                self._hits, self._misses, self._evictions, len(self._entries), self._nbytes, self.max_bytes
            )
