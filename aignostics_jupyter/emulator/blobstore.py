"""Buckets on local disk: one directory per bucket, objects written atomically, an index of sizes and CRC32Cs.

Object keys are confined to their bucket directory; a key that would escape it (``..``, absolute paths, NUL
bytes) raises :class:`BadKeyError`. Uploads stream into ``{data_dir}/tmp`` (with direct I/O where the file system
allows it, see :mod:`~aignostics_jupyter.emulator.direct_io`) and are renamed into place, so a reader never sees
half an object and a failed upload leaves nothing behind.
"""

from __future__ import annotations

import mimetypes
import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from aignostics_jupyter.checksums import crc32c_file
from aignostics_jupyter.emulator.db import Database
from aignostics_jupyter.emulator.direct_io import receive_to_file

__all__ = ["BadKeyError", "BlobStore", "ChecksumMismatchError", "ObjectInfo"]

mimetypes.add_type("application/geo+json", ".geojson")
mimetypes.add_type("text/markdown", ".md")


class BadKeyError(ValueError):
    """The object key is empty or would escape its bucket."""


class ChecksumMismatchError(ValueError):
    """An uploaded body did not match the CRC32C its sender declared."""


@dataclass(frozen=True)
class ObjectInfo:
    """One stored object."""

    key: str
    size: int
    crc32c: str
    last_modified: str
    content_type: str | None

    def as_json(self) -> dict[str, object]:
        """The listing entry: key, size, last_modified, crc32c."""
        return {"key": self.key, "size": self.size, "last_modified": self.last_modified, "crc32c": self.crc32c}


class BlobStore:
    """All buckets of one local platform.

    Args:
        root: The directory holding one sub-directory per bucket.
        tmp_dir: Where uploads are staged (same file system as ``root``).
        db: The database holding the object index.
    """

    def __init__(self, root: Path, tmp_dir: Path, db: Database) -> None:
        self.root = root
        self.tmp_dir = tmp_dir
        self.db = db
        root.mkdir(parents=True, exist_ok=True)
        tmp_dir.mkdir(parents=True, exist_ok=True)

    def path_for(self, bucket: str, key: str) -> Path:
        """The file of an object, after checking the key stays inside the bucket.

        Raises:
            BadKeyError: When the key is empty, absolute, has ``..`` or NUL, or ends with ``/``.
        """
        if not key or "\x00" in key or key.startswith("/") or key.endswith("/") or "\\" in key:
            msg = f"invalid object key {key!r}"
            raise BadKeyError(msg)
        parts = key.split("/")
        if any(part in ("..", ".", "") for part in parts) or "/" in bucket or bucket in ("", ".", ".."):
            msg = f"object key {key!r} escapes the bucket"
            raise BadKeyError(msg)
        bucket_dir = (self.root / bucket).resolve()
        path = (bucket_dir / key).resolve()
        if not path.is_relative_to(bucket_dir):
            msg = f"object key {key!r} escapes the bucket"
            raise BadKeyError(msg)
        return path

    def info(self, bucket: str, key: str) -> ObjectInfo | None:
        """The object's index entry, or None when it does not exist."""
        path = self.path_for(bucket, key)
        if not path.is_file():
            return None
        row = self.db.one("SELECT * FROM objects WHERE bucket = ? AND key = ?", (bucket, key))
        if row is None:
            return self._index(bucket, key, path, None)
        return ObjectInfo(key, row["size"], row["crc32c"], row["last_modified"], row["content_type"])

    def _index(self, bucket: str, key: str, path: Path, content_type: str | None, crc: str | None = None) -> ObjectInfo:
        stat = path.stat()
        info = ObjectInfo(
            key=key,
            size=stat.st_size,
            crc32c=crc or crc32c_file(path),
            last_modified=datetime.fromtimestamp(stat.st_mtime, UTC).isoformat(),
            content_type=content_type or mimetypes.guess_type(key)[0],
        )
        self.db.execute(
            "INSERT OR REPLACE INTO objects VALUES (?, ?, ?, ?, ?, ?)",
            (bucket, key, info.size, info.crc32c, info.last_modified, info.content_type),
        )
        return info

    def index_file(self, bucket: str, key: str, content_type: str | None, crc32c: str | None = None) -> ObjectInfo:
        """Record an object file put in place by an upload; a generic content type gives way to the key's."""
        if content_type in (None, "application/octet-stream"):
            content_type = mimetypes.guess_type(key)[0] or content_type
        return self._index(bucket, key, self.path_for(bucket, key), content_type, crc32c)

    async def put_stream(
        self,
        bucket: str,
        key: str,
        chunks: AsyncIterator[bytes],
        *,
        expected_crc32c: str | None = None,
        content_type: str | None = None,
    ) -> ObjectInfo:
        """Store a streamed body as an object (any size), verifying an optional CRC32C.

        Raises:
            BadKeyError: For a key escaping the bucket.
            ChecksumMismatchError: When ``expected_crc32c`` does not match (nothing is kept).
        """
        path = self.path_for(bucket, key)
        fd, tmp_name = tempfile.mkstemp(dir=self.tmp_dir, prefix="upload-")
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            actual, _ = await receive_to_file(tmp, chunks)
            if expected_crc32c is not None and expected_crc32c != actual:
                msg = f"the body's CRC32C is {actual}, but x-aig-crc32c says {expected_crc32c}"
                raise ChecksumMismatchError(msg)
            path.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        return self.index_file(bucket, key, content_type, actual)

    def put_file(self, bucket: str, key: str, source: Path, *, content_type: str | None = None) -> ObjectInfo:
        """Copy (or move, when on the same file system) a local file in as an object."""
        path = self.path_for(bucket, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=self.tmp_dir, prefix="put-")
        os.close(fd)
        try:
            shutil.copyfile(source, tmp_name)
            os.replace(tmp_name, path)
        finally:
            Path(tmp_name).unlink(missing_ok=True)
        return self._index(bucket, key, path, content_type)

    def put_bytes(self, bucket: str, key: str, data: bytes, *, content_type: str | None = None) -> ObjectInfo:
        """Store a small object from memory."""
        path = self.path_for(bucket, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=self.tmp_dir, prefix="put-")
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
        os.replace(tmp_name, path)
        return self._index(bucket, key, path, content_type)

    def delete(self, bucket: str, key: str) -> bool:
        """Delete an object; True when it existed."""
        path = self.path_for(bucket, key)
        existed = path.is_file()
        path.unlink(missing_ok=True)
        self.db.execute("DELETE FROM objects WHERE bucket = ? AND key = ?", (bucket, key))
        for parent in path.parents:
            if parent == (self.root / bucket).resolve() or not parent.is_relative_to(self.root):
                break
            try:
                parent.rmdir()
            except OSError:
                break
        return existed

    def list(self, bucket: str, prefix: str = "") -> list[ObjectInfo]:
        """Every object whose key starts with a prefix, sorted by key."""
        if "\x00" in prefix or any(part in ("..", ".") for part in prefix.split("/")):
            msg = f"invalid prefix {prefix!r}"
            raise BadKeyError(msg)
        bucket_dir = (self.root / bucket).resolve()
        if not bucket_dir.is_dir():
            return []
        rows = self.db.all("SELECT * FROM objects WHERE bucket = ?", (bucket,))
        indexed = {r["key"]: r for r in rows}
        out: list[ObjectInfo] = []
        for path in sorted(bucket_dir.rglob("*")):
            if not path.is_file():
                continue
            key = path.relative_to(bucket_dir).as_posix()
            if not key.startswith(prefix):
                continue
            row = indexed.get(key)
            if row is not None and row["size"] == path.stat().st_size:
                out.append(ObjectInfo(key, row["size"], row["crc32c"], row["last_modified"], row["content_type"]))
            else:
                out.append(self._index(bucket, key, path, None))
        return out
