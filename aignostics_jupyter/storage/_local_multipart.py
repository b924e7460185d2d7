"""Parallel, resumable multipart uploads to the local platform's buckets.

The server side is :mod:`aignostics_jupyter.emulator.multipart`. The upload id is derived from the file (path,
size, modification time) and the key, so running the same upload again after an interruption finds the parts
already stored without any state on the client. Each part's CRC32C is computed while it is streamed and compared
with the one the server computed; the parts' checksums combine into the whole file's, which the server checks once
more on completion. Several parts travel at once, so reading the file, checksumming and sending overlap with the
server's receiving and writing.

Parts go to the part endpoint the server names in its listing (:mod:`._part_sender`: plain HTTP/1.1, the file read
with direct I/O), or through the API port with httpx when it names none or cannot be reached.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from aignostics_jupyter.checksums import Crc32c, crc32c_base64, crc32c_combine, crc32c_value
from aignostics_jupyter.exceptions import IntegrityError
from aignostics_jupyter.storage._part_sender import EndpointUnreachableError, PartSender
from aignostics_jupyter.storage._types import ObjectInfo, ProgressCallback

__all__ = ["DEFAULT_PART_SIZE", "LocalMultipartUpload", "upload_id_for"]

DEFAULT_PART_SIZE = 32 * 1024 * 1024
_log = logging.getLogger(__name__)
_CHUNK = 1024 * 1024

#: Sends one request: (method, url, what, keyword arguments for httpx) → response (errors already translated).
Send = Callable[..., httpx.Response]


def upload_id_for(path: Path, key: str) -> str:
    """A stable id for uploading this version of ``path`` to ``key`` (32 hex characters)."""
    stat = path.stat()
    ident = f"{path.resolve()}\0{stat.st_size}\0{stat.st_mtime_ns}\0{key}"
    return hashlib.sha256(ident.encode()).hexdigest()[:32]


class LocalMultipartUpload:
    """One multipart upload of a file to a local-platform bucket.

    Args:
        send: The backend's request function (translates transport errors and HTTP errors).
        put_url: The object's signed PUT URL (every multipart request is authorised by it).
        path: The local file.
        part_size: Bytes per part (a multiple of 4096).
        concurrency: Parts in flight at once.
        timeout: Seconds a request to the part endpoint may wait to connect, send or receive.
    """

    def __init__(
        self, send: Send, put_url: str, path: Path, *, part_size: int, concurrency: int, timeout: float = 60.0
    ) -> None:
        if part_size <= 0 or part_size % 4096:
            msg = f"part_size must be a positive multiple of 4096, not {part_size}"
            raise ValueError(msg)
        self._send = send
        self._url = put_url
        self.path = path
        self.part_size = part_size
        self.concurrency = max(1, concurrency)
        self.size = path.stat().st_size
        self.parts_sent = 0
        self._timeout = timeout

    def _url_with(self, params: dict[str, str]) -> str:
        return self._url + "".join(f"&{k}={v}" for k, v in params.items())

    def _request(self, method: str, what: str, params: dict[str, str], **kwargs: Any) -> httpx.Response:
        return self._send(method, self._url_with(params), what, **kwargs)

    def _grid(self) -> list[tuple[int, int]]:
        return [(offset, min(self.part_size, self.size - offset)) for offset in range(0, self.size, self.part_size)]

    def _local_crc(self, offset: int, length: int) -> int:
        with self.path.open("rb") as stream:
            stream.seek(offset)
            return crc32c_value(stream.read(length))

    def _part_sender(self, endpoint: object) -> PartSender | None:
        """A sender for the part endpoint the server named (None: it named none, or nothing usable)."""
        if not isinstance(endpoint, str):
            return None
        try:
            return PartSender(endpoint, self.path, timeout=self._timeout)
        except ValueError:
            _log.info("ignoring the part endpoint %r; sending parts through the API port", endpoint)
            return None

    def _put_part_via_api(
        self, offset: int, length: int, what: str, params: dict[str, str], advance: Callable[[int], None]
    ) -> tuple[str | None, int]:
        """PUT one part through the API port; returns the CRC32C the server stored and the one of the bytes sent."""
        running = Crc32c()

        def body() -> Iterator[bytes]:
            with self.path.open("rb") as stream:
                stream.seek(offset)
                left = length
                while left > 0:
                    chunk = stream.read(min(_CHUNK, left))
                    if not chunk:
                        msg = f"{self.path.name} became shorter while it was being uploaded"
                        raise IntegrityError(msg)
                    left -= len(chunk)
                    running.update(chunk)
                    yield chunk
                    advance(len(chunk))

        answer = self._request(
            "PUT",
            what,
            params,
            content=body(),
            headers={"Content-Type": "application/octet-stream", "Content-Length": str(length)},
        )
        return answer.headers.get("x-aig-crc32c"), running.value

    def run(self, key: str, *, crc32c: str | None, on_progress: ProgressCallback | None) -> ObjectInfo:
        """Upload (or finish uploading) the file; returns the stored object.

        Raises:
            IntegrityError: A part or the whole object arrived damaged, or the file is not what ``crc32c`` says.
            AignosticsError: What the server or the transport answered (parts already stored stay for a retry).
        """
        upload_id = upload_id_for(self.path, key)
        name = self.path.name
        listing = self._request("GET", f"Resuming the upload of {name}", {"uploadId": upload_id}).json()
        grid = self._grid()
        expected = dict(grid)
        crcs: dict[int, int] = {}
        stored = [p for p in listing.get("parts", []) if isinstance(p, dict)]
        if any(int(p.get("offset", -1)) not in expected for p in stored):
            self._request("DELETE", f"Restarting the upload of {name}", {"uploadId": upload_id})
            stored = []
        for part in stored:  # keep only parts whose bytes are this file's (a part is read again to check)
            offset, length = int(part["offset"]), int(part["size"])
            if expected[offset] != length:
                continue
            local = self._local_crc(offset, length)
            if crc32c_base64(local) == part.get("crc32c"):
                crcs[offset] = local

        lock = threading.Lock()
        done = sum(expected[o] for o in crcs)
        if on_progress is not None:
            on_progress(done, self.size)

        def advance(count: int) -> None:
            nonlocal done
            with lock:
                done += count
                if on_progress is not None:
                    on_progress(done, self.size)

        sender = self._part_sender(listing.get("part_endpoint"))
        reachable = sender is not None

        def send_part(offset: int, length: int) -> None:
            nonlocal reachable
            what = f"Uploading {name} (bytes {offset}-{offset + length - 1}; run the same upload again to resume it)"
            params = {"uploadId": upload_id, "partOffset": str(offset)}
            sent: tuple[str | None, int] | None = None
            if sender is not None and reachable:
                url = urlsplit(self._url_with(params))
                try:
                    headers, value = sender.send(f"{url.path}?{url.query}", offset, length, what=what, on_chunk=advance)
                    sent = headers.get("x-aig-crc32c"), value
                except EndpointUnreachableError as exc:
                    _log.info("%s; sending parts through the API port", exc)
                    reachable = False
            if sent is None:
                sent = self._put_part_via_api(offset, length, what, params, advance)
            stored, value = sent
            if stored != crc32c_base64(value):
                msg = f"a part of {name} arrived damaged (CRC32C {stored}, sent {crc32c_base64(value)})"
                raise IntegrityError(msg)
            with lock:
                crcs[offset] = value
                self.parts_sent += 1

        missing = [(o, n) for o, n in grid if o not in crcs]
        pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="aignostics-part")
        try:
            for future in [pool.submit(send_part, o, n) for o, n in missing]:
                future.result()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            if sender is not None:
                sender.close()

        whole = 0
        for offset, length in grid:
            whole = crc32c_combine(whole, crcs[offset], length)
        sent = crc32c_base64(whole)
        if crc32c is not None and crc32c != sent:
            self._request("DELETE", f"Abandoning the upload of {name}", {"uploadId": upload_id})
            msg = f"{name} changed since its CRC32C was taken ({crc32c}; the uploaded bytes have {sent})"
            raise IntegrityError(msg)
        response = self._request(
            "POST",
            f"Completing the upload of {name}",
            {"uploadId": upload_id},
            json={"size": self.size, "crc32c": sent},
        )
        if on_progress is not None and self.size == 0:
            on_progress(0, 0)
        info = ObjectInfo.model_validate(response.json())
        return info.model_copy(update={"crc32c": sent})
