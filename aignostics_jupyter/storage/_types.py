"""What every storage backend offers, and what it returns."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, ConfigDict

__all__ = ["ObjectInfo", "ProgressCallback", "StorageBackend"]

#: Called with ``(bytes_done, bytes_total)`` as a transfer progresses.
ProgressCallback = Callable[[int, int], None]


class ObjectInfo(BaseModel):
    """One object of a bucket."""

    model_config = ConfigDict(frozen=True)

    key: str
    size: int
    last_modified: datetime | None = None
    crc32c: str | None = None


class StorageBackend(Protocol):
    """The operations a bucket backend implements (local platform storage, S3-compatible stores)."""

    bucket: str

    def ls(self, prefix: str) -> list[ObjectInfo]:
        """List the objects whose keys start with ``prefix``."""
        ...

    def head(self, key: str) -> ObjectInfo | None:
        """Return one object's info, or None when it does not exist."""
        ...

    def upload(self, path: Path, key: str, *, crc32c: str | None, on_progress: ProgressCallback | None) -> ObjectInfo:
        """Upload a local file as ``key`` (its CRC32C when known; else the backend computes it) and verify it."""
        ...

    def download(self, key: str, dest: Path, *, on_progress: ProgressCallback | None) -> None:
        """Download ``key`` into the file ``dest`` (resuming a partial ``dest`` where the backend allows)."""
        ...

    def delete(self, keys: Iterable[str]) -> None:
        """Delete objects (missing ones are ignored)."""
        ...

    def sign(self, key: str, method: str, expires_in: int) -> str:
        """Return a presigned URL for GET or PUT of one object."""
        ...
