"""Multipart uploads to the local platform's buckets: parts in parallel, resumable, one checksum for the whole.

A client names an upload (``upload_id``, its own choice, e.g. derived from the file) and sends parts of the object
as separate PUTs, each with its byte offset (a multiple of 4096) and its own CRC32C. Parts land directly at their
offset in one staging file under ``{data_dir}/tmp`` and are recorded in the database with their size and checksum;
they arrive through the API port (:meth:`MultipartUploads.put_part`) or the part endpoint (:mod:`.part_endpoint`,
which uses :meth:`~MultipartUploads.staging_for_part` and :meth:`~MultipartUploads.record_part`).
Anyone holding the object's signed PUT URL can ask which parts have arrived (to resume after an interruption),
complete the upload with the whole object's size and CRC32C (checked by combining the parts' checksums, without
reading the data again), or abort it. Completing renames the staging file into place, so readers never see a
partial object.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from aignostics_jupyter.checksums import crc32c_base64, crc32c_combine
from aignostics_jupyter.emulator.blobstore import BadKeyError, BlobStore, ChecksumMismatchError, ObjectInfo
from aignostics_jupyter.emulator.direct_io import receive_to_file

__all__ = ["IncompleteUploadError", "MultipartUploads", "PartInfo"]

_UPLOAD_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_ALIGN = 4096


class IncompleteUploadError(ValueError):
    """Completing an upload whose parts do not cover the object exactly."""


@dataclass(frozen=True)
class PartInfo:
    """One stored part."""

    offset: int
    size: int
    crc32c: str

    def as_json(self) -> dict[str, object]:
        """The part as the status listing shows it."""
        return {"offset": self.offset, "size": self.size, "crc32c": self.crc32c}


def _crc_value(text: str) -> int:
    try:
        raw = base64.b64decode(text, validate=True)
    except ValueError as exc:
        msg = f"{text!r} is not a base64 CRC32C"
        raise ChecksumMismatchError(msg) from exc
    if len(raw) != 4:
        msg = f"{text!r} is not a base64 CRC32C"
        raise ChecksumMismatchError(msg)
    return int.from_bytes(raw, "big")


class MultipartUploads:
    """The multipart uploads of one :class:`BlobStore`.

    Args:
        blobs: The store whose buckets receive the completed objects.
    """

    def __init__(self, blobs: BlobStore) -> None:
        self.blobs = blobs

    def _staging(self, bucket: str, key: str, upload_id: str) -> Path:
        self.blobs.path_for(bucket, key)  # the key must be valid before anything is written
        if not _UPLOAD_ID.match(upload_id):
            msg = "upload_id must be 8-64 characters of A-Z, a-z, 0-9, '_' or '-'"
            raise BadKeyError(msg)
        digest = hashlib.sha256(f"{bucket}\0{key}\0{upload_id}".encode()).hexdigest()[:40]
        return self.blobs.tmp_dir / f"multipart-{digest}"

    def staging_for_part(self, bucket: str, key: str, upload_id: str, offset: int) -> Path:
        """Check a part's address before any byte is written; returns the staging file it goes into.

        Raises:
            BadKeyError: For an invalid key, upload id or offset.
        """
        staging = self._staging(bucket, key, upload_id)
        if offset < 0 or offset % _ALIGN:
            msg = f"a part's offset must be a non-negative multiple of {_ALIGN}, not {offset}"
            raise BadKeyError(msg)
        return staging

    def record_part(
        self, bucket: str, key: str, upload_id: str, *, offset: int, size: int, crc32c: str, expected: str | None
    ) -> PartInfo:
        """Record a part written by :meth:`put_part` or another receiver (after checking it against ``expected``).

        Raises:
            ChecksumMismatchError: When ``crc32c`` is not ``expected`` (the part is not recorded).
        """
        if expected is not None and crc32c != expected:
            msg = f"the part's CRC32C is {crc32c}, but x-aig-crc32c says {expected}"
            raise ChecksumMismatchError(msg)
        self.blobs.db.execute(
            "INSERT OR REPLACE INTO upload_parts VALUES (?, ?, ?, ?, ?, ?)",
            (bucket, key, upload_id, offset, size, crc32c),
        )
        return PartInfo(offset, size, crc32c)

    async def put_part(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        *,
        offset: int,
        chunks: AsyncIterator[bytes],
        expected_crc32c: str | None = None,
    ) -> PartInfo:
        """Store one part at ``offset`` (a multiple of 4096), verified against its CRC32C when one is given.

        Without ``expected_crc32c`` the part's CRC32C is returned for the sender to compare (a sender streaming a
        part computes its checksum while sending it, so it cannot put it in a header).

        Raises:
            BadKeyError: For an invalid key, upload id or offset.
            ChecksumMismatchError: When the body does not match ``expected_crc32c`` (the part is not recorded).
        """
        staging = self.staging_for_part(bucket, key, upload_id, offset)
        actual, size = await receive_to_file(staging, chunks, offset=offset)
        return self.record_part(
            bucket, key, upload_id, offset=offset, size=size, crc32c=actual, expected=expected_crc32c
        )

    def parts(self, bucket: str, key: str, upload_id: str) -> list[PartInfo]:
        """The parts stored so far, by offset (empty for an unknown upload)."""
        staging = self._staging(bucket, key, upload_id)
        if not staging.exists():
            return []
        rows = self.blobs.db.all(
            "SELECT offset, size, crc32c FROM upload_parts WHERE bucket = ? AND key = ? AND upload_id = ? "
            "ORDER BY offset",
            (bucket, key, upload_id),
        )
        return [PartInfo(r["offset"], r["size"], r["crc32c"]) for r in rows]

    def complete(
        self, bucket: str, key: str, upload_id: str, *, size: int, crc32c: str, content_type: str | None = None
    ) -> ObjectInfo:
        """Turn the parts into the object, after checking they cover ``size`` bytes and combine to ``crc32c``.

        Raises:
            IncompleteUploadError: Parts are missing, overlap or run past ``size`` (the upload stays open).
            ChecksumMismatchError: The parts' combined CRC32C is not ``crc32c`` (the upload stays open).
        """
        parts = self.parts(bucket, key, upload_id)
        position = 0
        combined = 0
        for index, part in enumerate(parts):
            if part.size % _ALIGN and index != len(parts) - 1:
                # Direct I/O pads a part's last block: only the last part may end off a block boundary.
                msg = (
                    f"the part at offset {part.offset} is {part.size} bytes; all but the last must be multiples of 4096"
                )
                raise IncompleteUploadError(msg)
            if part.offset != position:
                missing = "bytes" if part.offset > position else "overlapping bytes"
                msg = f"the parts leave {missing} at offset {position} (next part at {part.offset})"
                raise IncompleteUploadError(msg)
            combined = crc32c_combine(combined, _crc_value(part.crc32c), part.size)
            position += part.size
        if position != size:
            msg = f"the parts hold {position} bytes, but the object has {size}"
            raise IncompleteUploadError(msg)
        if crc32c_base64(combined) != crc32c:
            msg = f"the parts' CRC32C is {crc32c_base64(combined)}, but the object's is {crc32c}"
            raise ChecksumMismatchError(msg)
        staging = self._staging(bucket, key, upload_id)
        if not staging.exists():  # an empty object never got a part
            staging.touch(mode=0o600)
        os.truncate(staging, size)  # the last part's padding for direct I/O goes
        path = self.blobs.path_for(bucket, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging, path)
        self._forget(bucket, key, upload_id)
        return self.blobs.index_file(bucket, key, content_type, crc32c)

    def abort(self, bucket: str, key: str, upload_id: str) -> bool:
        """Drop an upload's parts; True when there was something to drop."""
        staging = self._staging(bucket, key, upload_id)
        existed = staging.exists()
        staging.unlink(missing_ok=True)
        self._forget(bucket, key, upload_id)
        return existed

    def expire(self, max_age: float, *, now: float | None = None) -> int:
        """Drop unfinished uploads nobody has written to for ``max_age`` seconds; returns how many files went.

        That is multipart staging files and the temp files of single uploads a crash left behind (an upload in
        progress writes to its file all the time), and the part records of uploads whose staging file is gone.
        """
        now = time.time() if now is None else now
        removed = 0
        for pattern in ("multipart-*", "upload-*"):
            for path in self.blobs.tmp_dir.glob(pattern):
                with contextlib.suppress(FileNotFoundError):  # finished meanwhile
                    if now - path.stat().st_mtime > max_age:
                        path.unlink()
                        removed += 1
        uploads = self.blobs.db.all("SELECT DISTINCT bucket, key, upload_id FROM upload_parts")
        for row in uploads:  # recorded addresses were checked when their part was stored
            if not self._staging(row["bucket"], row["key"], row["upload_id"]).exists():
                self._forget(row["bucket"], row["key"], row["upload_id"])
        return removed

    def _forget(self, bucket: str, key: str, upload_id: str) -> None:
        self.blobs.db.execute(
            "DELETE FROM upload_parts WHERE bucket = ? AND key = ? AND upload_id = ?", (bucket, key, upload_id)
        )
