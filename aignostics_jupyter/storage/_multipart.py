"""Resumable, parallel S3 multipart uploads: an interrupted upload continues where it stopped.

The upload id and part size are kept in a small state file (mode 0600) named after the bucket, key and the file's
size, modification time and CRC32C, so running the same upload again asks the store which parts it already holds
(``ListParts``), checks each against the local bytes (its ETag is the part's MD5), and sends only the rest, several
at a time. The state file goes away when the upload completes; when the store no longer knows the upload (aborted,
expired) it starts over. A changed file gets a different state file, so stale parts are never reused.

Example:
    >>> uploader = MultipartUploader(call_s3, state_dir=Path("~/.cache/uploads"))  # doctest: +SKIP
    >>> uploader.upload(Path("slide.svs"), "bucket", "me/slide.svs", crc32c="64RKKA==", metadata={...})
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aignostics_jupyter.storage._types import ProgressCallback

__all__ = ["MAX_PARTS", "MIN_PART_SIZE", "MultipartUploader", "part_size_for"]

#: S3's smallest part (except the last) and largest part count.
MIN_PART_SIZE = 5 * 1024 * 1024
MAX_PARTS = 10_000
_DEFAULT_PART_SIZE = 16 * 1024 * 1024

CallS3 = Callable[..., Any]


def part_size_for(size: int, preferred: int = _DEFAULT_PART_SIZE) -> int:
    """A part size of at least ``preferred`` (and S3's minimum) that needs at most 10,000 parts, in whole MiB."""
    mib = 1024 * 1024
    needed = math.ceil(size / MAX_PARTS)
    return max(MIN_PART_SIZE, preferred, math.ceil(needed / mib) * mib)


@dataclass
class _State:
    upload_id: str
    part_size: int


def _is_missing_upload(exc: BaseException) -> bool:
    if isinstance(exc, FileNotFoundError):  # s3fs's translation of NoSuchUpload
        return True
    text = f"{type(exc).__name__} {exc}"
    return "NoSuchUpload" in text or "404" in text


class MultipartUploader:
    """Uploads files in parts through an s3fs ``call_s3`` (thread-safe; one instance per bucket backend).

    Args:
        call_s3: ``S3FileSystem.call_s3`` (a synchronous call of one S3 API operation).
        state_dir: Where interrupted uploads are remembered.
        max_concurrency: Parts in flight at once.
        part_size: Preferred part size in bytes (raised when a file would need more than 10,000 parts).
    """

    def __init__(
        self,
        call_s3: CallS3,
        *,
        state_dir: Path,
        max_concurrency: int = 4,
        part_size: int = _DEFAULT_PART_SIZE,
    ) -> None:
        if part_size < MIN_PART_SIZE:
            msg = f"part_size must be at least {MIN_PART_SIZE} bytes (S3's minimum), not {part_size}"
            raise ValueError(msg)
        self._call = call_s3
        self.state_dir = state_dir
        self.max_concurrency = max(1, max_concurrency)
        self.part_size = part_size
        self.parts_sent = 0  # parts actually transferred by this instance (tests and progress reports read it)

    def _state_file(self, path: Path, bucket: str, key: str, crc32c: str) -> Path:
        stat = path.stat()
        ident = json.dumps([bucket, key, str(path.resolve()), stat.st_size, stat.st_mtime_ns, crc32c])
        return self.state_dir / f"{hashlib.sha256(ident.encode()).hexdigest()[:32]}.json"

    def _load(self, state_file: Path) -> _State | None:
        try:
            raw = json.loads(state_file.read_text())
            return _State(upload_id=str(raw["upload_id"]), part_size=int(raw["part_size"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _save(self, state_file: Path, state: _State) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = state_file.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as stream:
            json.dump({"upload_id": state.upload_id, "part_size": state.part_size}, stream)
        tmp.replace(state_file)

    def _stored_parts(self, bucket: str, key: str, upload_id: str) -> dict[int, dict[str, Any]] | None:
        """The parts the store holds for an upload, or None when it does not know the upload."""
        parts: dict[int, dict[str, Any]] = {}
        marker = 0
        while True:
            try:
                page = self._call(
                    "list_parts", Bucket=bucket, Key=key, UploadId=upload_id, PartNumberMarker=marker, MaxParts=1000
                )
            except Exception as exc:
                if _is_missing_upload(exc):
                    return None
                raise
            for part in page.get("Parts", []):
                parts[int(part["PartNumber"])] = part
            if not page.get("IsTruncated"):
                return parts
            marker = int(page.get("NextPartNumberMarker") or max(parts, default=0))

    def upload(
        self,
        path: Path,
        bucket: str,
        key: str,
        *,
        crc32c: str,
        metadata: Mapping[str, str],
        content_type: str = "application/octet-stream",
        on_progress: ProgressCallback | None = None,
    ) -> None:
        """Upload ``path`` to ``bucket/key`` in parts, continuing an earlier interrupted upload of the same file.

        Raises:
            Exception: What ``call_s3`` or reading the file raised (the state file is kept, so a retry resumes).
        """
        size = path.stat().st_size
        state_file = self._state_file(path, bucket, key, crc32c)
        state = self._load(state_file)
        stored: dict[int, dict[str, Any]] = {}
        if state is not None:
            found = self._stored_parts(bucket, key, state.upload_id)
            if found is None:
                state = None
            else:
                stored = found
        if state is None:
            created = self._call(
                "create_multipart_upload", Bucket=bucket, Key=key, Metadata=dict(metadata), ContentType=content_type
            )
            state = _State(upload_id=str(created["UploadId"]), part_size=part_size_for(size, self.part_size))
            self._save(state_file, state)

        count = max(1, math.ceil(size / state.part_size))
        etags: dict[int, str] = {}
        done = 0
        with path.open("rb") as stream:
            for number, part in stored.items():
                offset = (number - 1) * state.part_size
                length = min(state.part_size, size - offset)
                if number > count or int(part.get("Size", -1)) != length:
                    continue
                stream.seek(offset)
                digest = hashlib.md5(stream.read(length), usedforsecurity=False).hexdigest()
                if str(part.get("ETag", "")).strip('"') == digest:
                    etags[number] = str(part["ETag"])
                    done += length
        lock = threading.Lock()
        if on_progress is not None:
            on_progress(done, size)

        def send(number: int) -> None:
            nonlocal done
            offset = (number - 1) * state.part_size
            length = min(state.part_size, size - offset)
            with path.open("rb") as source:
                source.seek(offset)
                body = source.read(length)
            answer = self._call(
                "upload_part", Bucket=bucket, Key=key, UploadId=state.upload_id, PartNumber=number, Body=body
            )
            with lock:
                etags[number] = str(answer["ETag"])
                self.parts_sent += 1
                done += length
                if on_progress is not None:
                    on_progress(done, size)

        missing = [n for n in range(1, count + 1) if n not in etags]
        pool = ThreadPoolExecutor(max_workers=self.max_concurrency, thread_name_prefix="aignostics-part")
        try:
            for future in [pool.submit(send, n) for n in missing]:
                future.result()
        finally:
            # On an error or Ctrl-C, parts not started yet are dropped; the stored ones are found on the next try.
            pool.shutdown(wait=True, cancel_futures=True)
        parts = [{"PartNumber": n, "ETag": etags[n]} for n in range(1, count + 1)]
        self._call(
            "complete_multipart_upload",
            Bucket=bucket,
            Key=key,
            UploadId=state.upload_id,
            MultipartUpload={"Parts": parts},
        )
        with contextlib.suppress(OSError):
            state_file.unlink()
