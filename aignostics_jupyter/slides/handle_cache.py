"""A bounded cache of open handles (slides, overlays) that closes what it evicts and reopens changed files.

Opening a slide costs milliseconds (and a DICOM series more); reading a tile costs about one. So handles are
kept open, at most ``max_open`` of them, least recently used evicted first. Each lookup compares the file's
signature (mtime and size) with the one it was opened at and reopens on a change. A handle that is in use
(leased) when it is evicted or replaced is closed when its last lease ends, never under a reader.

Example:
    >>> cache = HandleCache(open_slide, max_open=8)  # doctest: +SKIP
    >>> with cache.lease(Path("slide.svs")) as slide:  # doctest: +SKIP
    ...     slide.read_region((0, 0), 0, (256, 256))
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, Protocol, TypeVar

from aignostics_jupyter.slides.source import FileSignature, file_signature

__all__ = ["Closable", "HandleCache"]


class Closable(Protocol):
    """Anything with a ``close()``."""

    def close(self) -> None:
        """Release resources."""


T = TypeVar("T", bound=Closable)


@dataclass
class _Entry(Generic[T]):
    handle: T
    signature: FileSignature
    leases: int = 0
    retired: bool = False


class HandleCache(Generic[T]):
    """Keeps up to ``max_open`` handles open, keyed by resolved path; thread-safe.

    Args:
        opener: Opens a path (e.g. :func:`~aignostics_jupyter.slides.open_slide`); its errors pass through.
        max_open: How many handles may stay open.
        signature: How to fingerprint a path (injectable for tests).
    """

    def __init__(
        self,
        opener: Callable[[Path], T],
        *,
        max_open: int = 16,
        signature: Callable[[Path], FileSignature] = file_signature,
    ) -> None:
        if max_open < 1:
            msg = f"max_open must be at least 1, not {max_open}."
            raise ValueError(msg)
        self._opener = opener
        self._signature = signature
        self.max_open = max_open
        self._entries: OrderedDict[Path, _Entry[T]] = OrderedDict()
        self._lock = threading.Lock()
        self.opens = 0

    @staticmethod
    def _key(path: Path) -> Path:
        return Path(path).resolve()

    def _retire(self, entry: _Entry[T]) -> None:
        """Close now, or when the last lease ends. Called with the lock held."""
        entry.retired = True
        if entry.leases == 0:
            entry.handle.close()

    def _acquire(self, path: Path) -> _Entry[T]:
        key = self._key(path)
        try:
            current: FileSignature | None = self._signature(key)
        except OSError:
            current = None
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry.signature == current:
                self._entries.move_to_end(key)
                entry.leases += 1
                return entry
            if entry is not None:  # changed or deleted on disk
                del self._entries[key]
                self._retire(entry)
        # Open outside the lock: it may take a while, and other slides should not wait for it.
        handle = self._opener(key)
        opened = _Entry(handle, current if current is not None else self._signature(key), leases=1)
        with self._lock:
            self.opens += 1
            previous = self._entries.pop(key, None)
            if previous is not None:  # another thread opened it meanwhile; keep ours, retire theirs
                self._retire(previous)
            self._entries[key] = opened
            while len(self._entries) > self.max_open:
                _, evicted = self._entries.popitem(last=False)
                self._retire(evicted)
        return opened

    def _release(self, entry: _Entry[T]) -> None:
        with self._lock:
            entry.leases -= 1
            if entry.retired and entry.leases == 0:
                entry.handle.close()

    @contextmanager
    def lease(self, path: Path) -> Iterator[T]:
        """Use the open handle for ``path`` (opening or reopening it as needed) for the ``with`` block."""
        entry = self._acquire(path)
        try:
            yield entry.handle
        finally:
            self._release(entry)

    def get(self, path: Path) -> T:
        """The open handle for ``path``, without a lease: for single-threaded users (worker processes)."""
        entry = self._acquire(path)
        self._release(entry)
        return entry.handle

    def discard(self, path: Path) -> None:
        """Close and forget the handle for ``path`` (e.g. after it failed)."""
        with self._lock:
            entry = self._entries.pop(self._key(path), None)
            if entry is not None:
                self._retire(entry)

    def close_all(self) -> None:
        """Close every handle (leased ones when their lease ends)."""
        with self._lock:
            for entry in self._entries.values():
                self._retire(entry)
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, path: object) -> bool:
        return isinstance(path, str | Path) and self._key(Path(path)) in self._entries
