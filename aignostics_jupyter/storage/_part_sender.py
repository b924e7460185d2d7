"""Sending parts of a file to the local platform's part endpoint: read with direct I/O, checksum, ``sendall``.

A part travels as one HTTP/1.1 PUT with a Content-Length on a keep-alive connection of the calling thread
(:mod:`http.client`, so there is no Python framing layer between the file and the socket). The file is read with
``O_DIRECT`` into one page-aligned buffer per thread: an upload reads gigabytes once, and going around the page
cache spares the CPU the cost of filling the cache and the cache the slide (on file systems that refuse direct I/O,
ordinary reads do the same job). Reading, ``crc32c`` and ``sendall`` all release the GIL, so the sending threads
run in parallel.
"""

from __future__ import annotations

import contextlib
import errno
import http.client
import mmap
import os
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from aignostics_jupyter._sockets import use_kernel_timeouts
from aignostics_jupyter.checksums import Crc32c
from aignostics_jupyter.exceptions import IntegrityError, TransportError
from aignostics_jupyter.storage._http import response_error

__all__ = ["CHUNK_SIZE", "EndpointUnreachableError", "PartSender", "open_for_streaming"]

CHUNK_SIZE = 4 * 1024 * 1024  # bytes read, checksummed and sent at a time (progress is reported per chunk)
_ALIGN = 4096
_O_DIRECT = getattr(os, "O_DIRECT", 0)


class EndpointUnreachableError(ConnectionError):
    """The part endpoint refused or timed out the connection before any byte was sent."""


def open_for_streaming(path: Path) -> tuple[int, bool]:
    """Open ``path`` for reading, bypassing the page cache where the file system allows it.

    Returns:
        The descriptor and whether it is ``O_DIRECT`` (reads must then be block-aligned).
    """
    flags = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)
    if _O_DIRECT:
        try:
            return os.open(path, flags | _O_DIRECT), True
        except OSError as exc:
            if exc.errno not in (errno.EINVAL, errno.EOPNOTSUPP):
                raise
    return os.open(path, flags), False


class PartSender:
    """Sends parts of one file to the part endpoint, on one connection per calling thread.

    Args:
        endpoint: The endpoint's root URL (``http://host:port``).
        path: The file the parts are cut from.
        timeout: Seconds a connect, send or receive may wait.
    """

    def __init__(self, endpoint: str, path: Path, *, timeout: float) -> None:
        url = urlsplit(endpoint)
        if url.scheme != "http" or not url.hostname or url.port is None:
            msg = f"not a part endpoint URL: {endpoint!r}"
            raise ValueError(msg)
        self._host = url.hostname
        self._port = url.port
        self.path = path
        self._timeout = timeout
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[http.client.HTTPConnection] = []
        self._buffers: list[mmap.mmap] = []

    def _connection(self) -> http.client.HTTPConnection:
        conn: http.client.HTTPConnection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)
            try:
                conn.connect()
            except OSError as exc:
                conn.close()
                msg = f"the part endpoint {self._host}:{self._port} cannot be reached ({exc})"
                raise EndpointUnreachableError(msg) from exc
            assert conn.sock is not None
            use_kernel_timeouts(conn.sock, self._timeout)  # a whole chunk per send
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def _buffer(self) -> memoryview:
        view: memoryview | None = getattr(self._local, "view", None)
        if view is None:
            buffer = mmap.mmap(-1, CHUNK_SIZE)  # page-aligned, as O_DIRECT wants
            with self._lock:
                self._buffers.append(buffer)
            view = self._local.view = memoryview(buffer)
        return view

    def _drop_connection(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            conn.close()

    def send(
        self, target: str, offset: int, length: int, *, what: str, on_chunk: Callable[[int], None]
    ) -> tuple[Mapping[str, str], int]:
        """PUT ``length`` bytes of the file from ``offset`` (a multiple of 4096) to ``target`` (path and query).

        Args:
            target: The request target on the endpoint (the signed URL's path and query).
            offset: Where the part starts in the file.
            length: The part's length.
            what: The operation, for error messages.
            on_chunk: Called with the byte count of each chunk once it is sent.

        Returns:
            The response headers (lower-case names) and the CRC32C of the bytes sent.

        Raises:
            EndpointUnreachableError: Nothing was sent: the endpoint could not be reached.
            TransportError: The connection failed or timed out mid-part.
            IntegrityError: The file became shorter while it was read.
            AignosticsError: The endpoint's error answer (its detail kept).
        """
        conn = self._connection()
        view = self._buffer()
        crc = Crc32c()
        fd, direct = open_for_streaming(self.path)
        try:
            conn.putrequest("PUT", target, skip_accept_encoding=True)
            conn.putheader("Content-Type", "application/octet-stream")
            conn.putheader("Content-Length", str(length))
            conn.endheaders()
            done = 0
            while done < length:
                want = min(len(view), length - done)
                asked = -(-want // _ALIGN) * _ALIGN if direct else want
                if os.preadv(fd, [view[:asked]], offset + done) < want:  # a file read is short only at its end
                    msg = f"{self.path.name} became shorter while it was being uploaded"
                    raise IntegrityError(msg)
                chunk = view[:want]
                crc.update(chunk)
                conn.send(chunk)
                done += want
                on_chunk(want)
            response = conn.getresponse()
            body = response.read()
            headers = {name.lower(): value for name, value in response.getheaders()}
        except (OSError, http.client.HTTPException) as exc:
            answer = self._answer_after_failure(conn)  # the server may have refused the part mid-way
            self._drop_connection()
            if answer is not None and answer.status_code >= 400:
                raise response_error(answer, what) from exc
            silent = isinstance(exc, TimeoutError | BlockingIOError)
            kind = "timed out" if silent else f"failed: {type(exc).__name__}: {exc}"
            raise TransportError(f"{what} {kind}") from exc
        except BaseException:  # the file, a callback or an interrupt: the request is half-sent, so is the connection
            self._drop_connection()
            raise
        finally:
            os.close(fd)
        if response.status >= 400:
            if response.will_close:
                self._drop_connection()
            raise response_error(httpx.Response(response.status, headers=headers, content=body), what)
        return headers, crc.value

    @staticmethod
    def _answer_after_failure(conn: http.client.HTTPConnection) -> httpx.Response | None:
        """The answer the server sent before the connection broke, if one can still be read."""
        try:
            response = conn.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException):
            return None
        return httpx.Response(response.status, headers=response.getheaders(), content=body)

    def close(self) -> None:
        """Close every connection and free the buffers (call once all sends are done)."""
        with self._lock:
            connections, self._connections = self._connections, []
            buffers, self._buffers = self._buffers, []
        for conn in connections:
            conn.close()
        for buffer in buffers:
            with contextlib.suppress(BufferError):  # a view still alive: the GC unmaps it
                buffer.close()
