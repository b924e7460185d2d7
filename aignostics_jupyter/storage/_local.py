"""The local platform's storage: buckets at ``{api_root}/storage/{bucket}`` behind HMAC-signed URLs.

Uploads are one streamed PUT with the ``x-aig-crc32c`` header (the server rejects a body that does not match), or,
for large files, parallel resumable parts (:mod:`~aignostics_jupyter.storage._local_multipart`);
downloads use HTTP Range to resume a partial file; listings are JSON. Every request is signed locally with the
organization's HMAC key pair (see :mod:`aignostics_jupyter.storage.signing`); no bearer token is ever sent.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import httpx

from aignostics_jupyter.checksums import Crc32c
from aignostics_jupyter.exceptions import (
    AignosticsError,
    IntegrityError,
)
from aignostics_jupyter.storage._http import response_error, translate_error
from aignostics_jupyter.storage._local_multipart import DEFAULT_PART_SIZE, LocalMultipartUpload
from aignostics_jupyter.storage._types import ObjectInfo, ProgressCallback
from aignostics_jupyter.storage.signing import sign_url

__all__ = ["LocalStorageBackend"]

CHUNK_SIZE = 1024 * 1024
_SIGN_SECONDS = 3600


class LocalStorageBackend:
    """A bucket of the local platform, reached over HTTP with signed URLs.

    Args:
        storage_root: ``{api_root}/storage``.
        bucket: The bucket name.
        access_key_id: The HMAC access key id.
        secret: The HMAC secret (never shown).
        http: The httpx client (its transport may be a test fake or the in-process platform).
        timeout: Seconds per request (a whole upload may take longer; this bounds each read/write).
        clock: Unix time source for signatures.
        part_size: Bytes per part of a multipart upload (files above twice this go up in parts).
        concurrency: Parts in flight at once.
    """

    def __init__(
        self,
        storage_root: str,
        bucket: str,
        *,
        access_key_id: str,
        secret: str,
        http: httpx.Client,
        timeout: float = 60.0,
        clock: Callable[[], float] = time.time,
        part_size: int = DEFAULT_PART_SIZE,
        concurrency: int = 3,
    ) -> None:
        self.storage_root = storage_root.rstrip("/")
        self.bucket = bucket
        self._key_id = access_key_id
        self._secret = secret
        self._http = http
        self._timeout = timeout
        self._clock = clock
        self.part_size = part_size
        self.concurrency = concurrency

    def __repr__(self) -> str:
        return f"LocalStorageBackend({self.storage_root!r}, bucket={self.bucket!r})"

    def sign(self, key: str, method: str, expires_in: int) -> str:
        """Return a signed URL (GET, HEAD, PUT, DELETE for one object; LIST for a prefix)."""
        return sign_url(
            self.storage_root,
            self.bucket,
            key,
            method=method,
            access_key_id=self._key_id,
            secret=self._secret,
            expires_in=expires_in,
            now=self._clock(),
        )

    def _send(self, method: str, url: str, what: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, url, timeout=self._timeout, **kwargs)
        except httpx.HTTPError as exc:
            raise translate_error(exc, what) from exc
        if response.status_code >= 400:
            raise response_error(response, what)
        return response

    def ls(self, prefix: str) -> list[ObjectInfo]:
        """List objects under ``prefix``."""
        response = self._send("GET", self.sign(prefix, "LIST", _SIGN_SECONDS), f"Listing {self.bucket}/{prefix}")
        try:
            return [ObjectInfo.model_validate(entry) for entry in response.json()]
        except ValueError as exc:
            raise AignosticsError(f"The listing of {self.bucket}/{prefix} is not valid JSON") from exc

    def head(self, key: str) -> ObjectInfo | None:
        """Return an object's info (from a listing of its exact key), or None."""
        return next((o for o in self.ls(key) if o.key == key), None)

    def upload(self, path: Path, key: str, *, crc32c: str | None, on_progress: ProgressCallback | None) -> ObjectInfo:
        """Upload a file to ``key``: in parallel parts above ``2 * part_size`` (resumable), else in one PUT.

        Raises:
            IntegrityError: The server stored something else than was sent.
        """
        if path.stat().st_size > 2 * self.part_size:
            upload = LocalMultipartUpload(
                self._send,
                self.sign(key, "PUT", _SIGN_SECONDS),
                path,
                part_size=self.part_size,
                concurrency=self.concurrency,
                timeout=self._timeout,
            )
            return upload.run(key, crc32c=crc32c, on_progress=on_progress)
        return self._upload_whole(path, key, crc32c=crc32c, on_progress=on_progress)

    def _upload_whole(
        self, path: Path, key: str, *, crc32c: str | None, on_progress: ProgressCallback | None
    ) -> ObjectInfo:
        """Stream a file to ``key`` in one PUT.

        With ``crc32c`` the server verifies the body against it; without, the CRC32C is computed while streaming
        (one read of the file instead of two) and compared with the one the server computed.

        Raises:
            IntegrityError: The server stored something else than was sent (the object was deleted).
        """
        total = path.stat().st_size
        running = Crc32c()

        def body() -> Iterator[bytes]:
            done = 0
            with path.open("rb") as stream:
                while chunk := stream.read(CHUNK_SIZE):
                    done += len(chunk)
                    if crc32c is None:
                        running.update(chunk)
                    yield chunk
                    if on_progress is not None:
                        on_progress(done, total)

        headers = {"Content-Type": "application/octet-stream", "Content-Length": str(total)}
        if crc32c is not None:
            headers["x-aig-crc32c"] = crc32c
        response = self._send(
            "PUT", self.sign(key, "PUT", _SIGN_SECONDS), f"Uploading {path.name}", content=body(), headers=headers
        )
        if total == 0 and on_progress is not None:
            on_progress(0, 0)
        sent = crc32c or running.base64()
        try:
            info = ObjectInfo.model_validate(response.json())
        except ValueError:
            info = ObjectInfo(key=key, size=total, crc32c=None)
        stored = info.crc32c or response.headers.get("x-aig-crc32c")
        if stored and stored != sent:
            self.delete([key])
            raise IntegrityError(f"{path.name} arrived damaged (CRC32C {stored}, sent {sent}); the object was deleted")
        return info.model_copy(update={"crc32c": sent})

    def download(self, key: str, dest: Path, *, on_progress: ProgressCallback | None) -> None:
        """Download ``key`` into ``dest``, resuming from the length ``dest`` already has."""
        offset = dest.stat().st_size if dest.exists() else 0
        headers = {"Range": f"bytes={offset}-"} if offset else {}
        what = f"Downloading {self.bucket}/{key}"
        try:
            with self._http.stream(
                "GET", self.sign(key, "GET", _SIGN_SECONDS), headers=headers, timeout=self._timeout
            ) as r:
                if r.status_code == 416:  # nothing left to fetch
                    return
                if r.status_code >= 400:
                    r.read()
                    raise response_error(r, what)
                if r.status_code != 206:
                    offset = 0
                length = int(r.headers.get("content-length", 0) or 0)
                total = offset + length
                done = offset
                with dest.open("ab" if offset else "wb") as stream:
                    for chunk in r.iter_bytes(CHUNK_SIZE):
                        stream.write(chunk)
                        done += len(chunk)
                        if on_progress is not None:
                            on_progress(done, total)
        except httpx.HTTPError as exc:
            raise translate_error(exc, what) from exc

    def delete(self, keys: Iterable[str]) -> None:
        """Delete objects; missing ones are ignored."""
        for key in keys:
            try:
                self._send("DELETE", self.sign(key, "DELETE", _SIGN_SECONDS), f"Deleting {self.bucket}/{key}")
            except AignosticsError as exc:
                if exc.status_code != 404:
                    raise
