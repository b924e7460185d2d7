"""The part endpoint: a second listener that takes the bytes of multipart upload parts straight to disk.

The API port accepts parts too, but there each 64-256 KiB of body passes through uvicorn, Starlette and an
``async for`` before it reaches the file: about 0.7 s of CPU per GiB, which on a laptop is CPU the client needs
to read and send the same gigabyte. On this endpoint a thread per connection receives into one reused 1 MiB buffer
(``recv_into`` with ``MSG_WAITALL`` fills it in one call), checksums it and ``pwrite``s it at the part's offset.
All three release the GIL, so the API's event loop runs on undisturbed, and receiving costs about 0.45 s per GiB.

It takes exactly one kind of request, ``PUT /storage/{bucket}/{key}?<signed query>&uploadId=U&partOffset=N``
with a ``Content-Length``: the same URL and signature as a part sent to the API port, answered with the same JSON
and ``x-aig-crc32c`` header. Anything else is answered 405. Clients learn the endpoint's address from the listing
of an upload's parts (``part_endpoint``), the way a resumable upload elsewhere hands out a session URL, and fall
back to the API port when they cannot reach it (behind a proxy, say). It binds the API's host on a free port.

Parts are written through the page cache, unlike whole uploads on the API port (:mod:`.direct_io`): the client
reads the same disk while it uploads, and a direct write would take half of the disk's bandwidth from that read
during the upload, where the kernel writes cached pages back afterwards.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

from aignostics_jupyter._sockets import WAITALL, use_kernel_timeouts
from aignostics_jupyter.checksums import Crc32c
from aignostics_jupyter.emulator import direct_io
from aignostics_jupyter.emulator.blobstore import BadKeyError, ChecksumMismatchError
from aignostics_jupyter.emulator.multipart import MultipartUploads, PartInfo
from aignostics_jupyter.emulator.storage_access import StorageDeniedError, check_signed, storage_full

if TYPE_CHECKING:
    from aignostics_jupyter.emulator.services import Services

__all__ = ["PartEndpoint", "receive_part"]

_log = logging.getLogger(__name__)
_BUFFER = 1024 * 1024
_DRAIN_LIMIT = 256 * 1024 * 1024  # a refused body up to this size is read and dropped so the answer is seen
_PREFIX = "/storage/"
_QUERY = re.compile(r"\?[^\s\"]*")


def receive_part(fill: Callable[[memoryview], int], length: int, path: Path, offset: int, buffer: memoryview) -> str:
    """Write exactly ``length`` bytes from ``fill`` into ``path`` at ``offset``, checksumming them on the way.

    Args:
        fill: Fills the view it is given (or returns fewer bytes, 0 at the end of the stream).
        length: The bytes to take.
        path: The file to write into (created when missing; the rest of it is left alone).
        offset: Where in the file the bytes go.
        buffer: A reusable buffer; its length is the most each read and write takes.

    Returns:
        The bytes' CRC32C (base64).

    Raises:
        ConnectionError: The stream ended early (what arrived stays in the file, unrecorded).
    """
    crc = Crc32c()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
    try:
        done = 0
        while done < length:
            got = fill(buffer[: min(len(buffer), length - done)])
            if not got:
                msg = f"the sender stopped after {done} of {length} bytes"
                raise ConnectionError(msg)
            chunk = buffer[:got]
            crc.update(chunk)
            direct_io.write_all(fd, chunk, offset + done)
            done += got
    finally:
        os.close(fd)
    return crc.base64()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # the answer's headers and body go out as two writes: no 40 ms wait between
    server: _Server
    timeout = 60  # seconds a connection may stay silent (between and within requests)

    def setup(self) -> None:
        super().setup()
        self._buffer = memoryview(bytearray(_BUFFER))
        self._unread = 0  # body bytes of the current request not taken from the socket yet
        self._head_buffered = False  # the header parser may hold the body's first bytes

    def log_message(self, format: str, *args: Any) -> None:
        # Request lines carry signed queries: they are logged without them.
        _log.debug("part endpoint: %s", _QUERY.sub("?…", format % args))

    def _answer(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def _refuse(self, exc: StorageDeniedError) -> None:
        """Answer an error; the unread body is read and dropped first, so the sender gets to read the answer."""
        if 0 < self._unread <= _DRAIN_LIMIT:
            try:
                with self._body_reader() as fill:
                    while self._unread:
                        fill(self._buffer[: min(len(self._buffer), self._unread)])
            except OSError:
                self.close_connection = True
                return
        if self._unread:
            self.close_connection = True
        self._answer(exc.status, {"detail": exc.detail})

    def do_PUT(self) -> None:
        self._unread, self._head_buffered = 0, True
        try:
            part = self._receive()
        except StorageDeniedError as exc:
            self._refuse(exc)
            return
        except ConnectionError as exc:
            _log.info("part endpoint: %s", exc)
            self.close_connection = True
            return
        self._answer(200, part.as_json(), {"x-aig-crc32c": part.crc32c})

    def _refuse_method(self) -> None:
        self.close_connection = True  # a body, if any, is not read
        self._answer(
            405, {"detail": "this endpoint only takes multipart upload parts (PUT with uploadId and partOffset)"}
        )

    do_GET = do_HEAD = do_POST = do_DELETE = do_PATCH = do_OPTIONS = _refuse_method  # noqa: N815

    @contextlib.contextmanager
    def _body_reader(self) -> Iterator[Callable[[memoryview], int]]:
        """A fill function for the body: what the header parser buffered, then whole buffers from the socket.

        ``recv_into`` with ``MSG_WAITALL`` fills a buffer in one call; that needs a blocking socket, so for the body
        the socket's timeout becomes the kernel's (:mod:`aignostics_jupyter._sockets`).
        """
        sock = self.connection

        def fill(view: memoryview) -> int:
            if self._head_buffered:
                self._head_buffered = False
                head = self.rfile.read1(len(view))  # the bytes read along with the headers (or one receive)
                view[: len(head)] = head
                got = len(head)
            else:
                got = sock.recv_into(view, len(view), WAITALL)
            if not got:
                raise ConnectionError(f"the sender closed the connection with {self._unread} bytes of the part unsent")
            self._unread -= got
            return got

        use_kernel_timeouts(sock, self.timeout)
        try:
            yield fill
        finally:
            use_kernel_timeouts(sock, 0)
            sock.settimeout(self.timeout)

    def _content_length(self) -> int:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            self.close_connection = True
            raise StorageDeniedError(411, "send the part with a Content-Length, not chunked")
        try:
            length = int(self.headers.get("Content-Length") or "")
        except ValueError:
            self.close_connection = True
            raise StorageDeniedError(411, "a part needs a Content-Length") from None
        if length < 0:
            self.close_connection = True
            raise StorageDeniedError(400, "a negative Content-Length")
        return length

    def _receive(self) -> PartInfo:
        self._unread = length = self._content_length()
        url = urlsplit(self.path)
        if not url.path.startswith(_PREFIX) or "/" not in url.path[len(_PREFIX) :]:
            raise StorageDeniedError(404, "not a storage object URL")
        bucket, key = unquote(url.path[len(_PREFIX) :]).split("/", 1)
        params = dict(parse_qsl(url.query, keep_blank_values=True))
        services = self.server.services
        check_signed(services, params, method="PUT", bucket=bucket, key=key)
        upload_id = params.get("uploadId")
        if upload_id is None:
            raise StorageDeniedError(400, "this endpoint takes multipart parts: uploadId is missing")
        try:
            offset = int(params.get("partOffset", ""))
        except ValueError:
            raise StorageDeniedError(400, "a part needs an integer partOffset") from None
        uploads = MultipartUploads(services.blobs)
        try:
            staging = uploads.staging_for_part(bucket, key, upload_id, offset)
            with self._body_reader() as fill:
                crc = receive_part(fill, length, staging, offset, self._buffer)
            return uploads.record_part(
                bucket,
                key,
                upload_id,
                offset=offset,
                size=length,
                crc32c=crc,
                expected=self.headers.get("x-aig-crc32c"),
            )
        except (BadKeyError, ChecksumMismatchError) as exc:
            raise StorageDeniedError(400, str(exc)) from exc
        except (TimeoutError, BlockingIOError) as exc:
            raise ConnectionError("the sender went silent in the middle of a part") from exc
        except ConnectionError:
            raise
        except OSError as exc:
            full = storage_full(exc)
            if full is None:
                raise
            raise full from exc


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], services: Services) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.services = services
        self._open: set[Any] = set()  # the connections being served
        self._changed = threading.Condition()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._changed:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._changed:
            self._open.discard(request)
            self._changed.notify_all()
        super().shutdown_request(request)

    def hang_up(self, timeout: float) -> None:
        """Cut every open connection and wait (up to ``timeout`` seconds) for their threads to let go."""
        with self._changed:
            for conn in self._open:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
            self._changed.wait_for(lambda: not self._open, timeout=timeout)

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError | TimeoutError):  # a sender that went away: nothing to report
            _log.debug("part endpoint: %s went away (%s)", client_address, error)
            return
        _log.exception("part endpoint: unexpected error on a connection from %s", client_address)


class PartEndpoint:
    """The part endpoint of one local platform instance, serving from a background thread.

    Args:
        services: The instance's services (buckets, signatures, the parts table).
        host: The address to bind (the API's host).
        port: The port (0: a free one).

    Example:
        >>> endpoint = PartEndpoint(services, "127.0.0.1").start()  # doctest: +SKIP
        >>> endpoint.url  # doctest: +SKIP
        'http://127.0.0.1:40123'
        >>> endpoint.stop()  # doctest: +SKIP
    """

    def __init__(self, services: Services, host: str, port: int = 0) -> None:
        self._server = _Server((host, port), services)
        bound = self._server.server_address[1]
        shown = f"[{host}]" if ":" in host else host
        self.url = f"http://{shown}:{bound}"
        self._thread: threading.Thread | None = None

    def start(self) -> PartEndpoint:
        """Start serving in a daemon thread; returns self."""
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.2}, name="part-endpoint", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting connections and close the socket (parts in flight are dropped, unrecorded)."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.hang_up(timeout=5)  # before the database closes under a part being recorded
        with contextlib.suppress(OSError):
            self._server.server_close()
