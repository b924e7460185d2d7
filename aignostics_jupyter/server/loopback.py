"""The fallback tile server: the same operations on a loopback port inside the kernel, behind a random token.

Used when no Jupyter server extension answers for the kernel (a kernel driven from another front end, or a slide
outside the server's root). It binds ``127.0.0.1`` only, runs its own tornado event loop in a daemon thread, and
accepts a request only when the URL's first segment is its token (compared in constant time)::

    http://127.0.0.1:<port>/<token>/aignostics-jupyter/slides/tiles/{z}/{x}/{y}.jpg?path=...

Paths are relative to its root directory (``/`` by default: the kernel's user may read any slide it can open
anyway; the token keeps other local users out). Reading and encoding run in the
:class:`~aignostics_jupyter.slides.service.TileService` workers, as in the server extension.

Example:
    >>> server = LoopbackTileServer().start()  # doctest: +SKIP
    >>> server.prefix  # doctest: +SKIP
    'http://127.0.0.1:40123/Zt3.../'
    >>> server.stop()  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import hmac
import json
import re
import secrets
import socket
import threading
from pathlib import Path
from typing import Any

from tornado import httpserver, web

from aignostics_jupyter.exceptions import AignosticsError, redact
from aignostics_jupyter.server.base import status_for
from aignostics_jupyter.server.slides_api import ENDPOINTS, SlidesAPI
from aignostics_jupyter.server.slides_routes import api_request, write_reply
from aignostics_jupyter.server.urls import NAMESPACE
from aignostics_jupyter.slides.service import Mode, TileService

__all__ = ["LoopbackTileServer"]

_COMPILED = tuple((re.compile(endpoint.pattern + r"\Z"), endpoint) for endpoint in ENDPOINTS)


class _Handler(web.RequestHandler):
    """Checks the token, then dispatches the rest of the path over :data:`ENDPOINTS`."""

    def initialize(self, api: SlidesAPI, token: str) -> None:
        self.api = api
        self.token = token

    def set_default_headers(self) -> None:
        # The viewer's page (another origin: the lab) reads nothing but images; no CORS headers are needed.
        self.set_header("X-Content-Type-Options", "nosniff")

    async def _dispatch(self, method: str, token: str, rest: str) -> None:
        if not hmac.compare_digest(token.encode(), self.token.encode()):
            raise web.HTTPError(403)
        for pattern, endpoint in _COMPILED:
            match = pattern.match(rest)
            if match is not None and endpoint.method == method:
                write_reply(self, await endpoint.operation(self.api, api_request(self, match.groups())))
                return
        raise web.HTTPError(404)

    async def get(self, token: str, rest: str) -> None:
        """Serve a GET endpoint."""
        await self._dispatch("GET", token, rest)

    async def post(self, token: str, rest: str) -> None:
        """Serve a POST endpoint."""
        await self._dispatch("POST", token, rest)

    def check_xsrf_cookie(self) -> None:
        """The token in the URL authenticates; there is no cookie to forge."""

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Errors as ``{"error": {"type", "message"}}``, like the server extension."""
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, AignosticsError):
            status_code, kind, message = status_for(exc), type(exc).__name__, exc.message
        elif isinstance(exc, web.HTTPError):
            kind, message = "HTTPError", self._reason
        else:
            kind, message = "InternalError", "An unexpected error occurred in the kernel's tile server."
        self.set_status(status_code)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"error": {"type": kind, "message": redact(str(message))}}))


class LoopbackTileServer:
    """A token-protected tile server on ``127.0.0.1`` in a background thread.

    Args:
        root: Directory request paths are relative to (default ``/``).
        tiles: The tile service to use (default: a new one, closed by :meth:`stop`).
        mode: Mode of the tile service created when ``tiles`` is not given.
    """

    def __init__(self, root: Path = Path("/"), tiles: TileService | None = None, *, mode: Mode = "process") -> None:
        self.root = Path(root).resolve()
        self._own_tiles = tiles is None
        self.tiles = tiles or TileService(mode=mode)
        self.api = SlidesAPI(self.root, self.tiles)
        self.token = secrets.token_urlsafe(24)
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: httpserver.HTTPServer | None = None

    @property
    def prefix(self) -> str:
        """``http://127.0.0.1:<port>/<token>/``: what the tile URLs start with."""
        return f"http://127.0.0.1:{self.port}/{self.token}/"

    @property
    def running(self) -> bool:
        """Whether the server thread is serving."""
        return self._thread is not None and self._thread.is_alive()

    def start(self, timeout: float = 10.0) -> LoopbackTileServer:
        """Bind a free loopback port and serve in a daemon thread; returns ``self``."""
        if self.running:
            return self
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
        sock.setblocking(False)
        self.port = int(sock.getsockname()[1])
        ready = threading.Event()

        def serve() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._loop = loop
            app = web.Application([(rf"/([^/]+)/{NAMESPACE}/(.*)", _Handler, {"api": self.api, "token": self.token})])
            self._server = httpserver.HTTPServer(app)
            self._server.add_sockets([sock])
            loop.call_soon(ready.set)
            loop.run_forever()
            loop.close()

        self._thread = threading.Thread(target=serve, name="aignostics-loopback-tiles", daemon=True)
        self._thread.start()
        if not ready.wait(timeout):  # pragma: no cover - the thread starts in milliseconds
            msg = "The kernel's tile server did not start."
            raise RuntimeError(msg)
        return self

    def stop(self) -> None:
        """Stop serving, and close the tile service if this server created it."""
        loop, thread = self._loop, self._thread
        if loop is not None and thread is not None and thread.is_alive():

            def shutdown() -> None:
                if self._server is not None:
                    self._server.stop()
                loop.stop()

            loop.call_soon_threadsafe(shutdown)
            thread.join(timeout=10)
        self._loop = self._thread = self._server = None
        if self._own_tiles:
            self.tiles.close()
