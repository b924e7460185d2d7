"""``LocalPlatform``: the local platform over real HTTP on a free loopback port, in a background thread.

Example:
    >>> with LocalPlatform(tmp_path) as platform:  # doctest: +SKIP
    ...     os.environ.update(platform.env())
    ...     token = platform.access_token()          # the seeded admin
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn

from aignostics_jupyter.emulator.app import create_app
from aignostics_jupyter.emulator.config import EmulatorConfig
from aignostics_jupyter.emulator.identity import ADMIN_USER_ID, get_principal
from aignostics_jupyter.emulator.oauth import issue_refresh_token
from aignostics_jupyter.emulator.services import Services
from aignostics_jupyter.emulator.worker import AnalyseFn
from aignostics_jupyter.settings import LOCAL_CLIENT_ID

__all__ = ["LocalPlatform", "bind_socket", "client_env"]


def bind_socket(host: str, port: int) -> socket.socket:
    """Bind a listening TCP socket (port 0: any free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on accepted sockets of that protocol, and without
    # it Nagle's algorithm plus delayed ACKs add 40 ms to every keep-alive response.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    return sock


def client_env(api_root: str) -> dict[str, str]:
    """The ``AIGNOSTICS_*`` settings that point a client at a local platform."""
    # The auth endpoints and audience derive from a loopback API root; the bucket lives at {api_root}/storage.
    return {
        "AIGNOSTICS_API_ROOT": api_root,
        "AIGNOSTICS_CLIENT_ID_DEVICE": LOCAL_CLIENT_ID,
        "AIGNOSTICS_STORAGE_ENDPOINT_URL": f"{api_root}/storage",
        "AIGNOSTICS_BUCKET_PROTOCOL": "local",
    }


class LocalPlatform:
    """Run the local platform on ``127.0.0.1`` in a background thread (a context manager).

    Args:
        data_dir: Where it keeps its state (reuse it to restart with the same state).
        port: The port (0: a free one).
        host: The loopback address to bind.
        auto_approve: Approve device codes and authorization requests at once.
        analyse: An analysis callable for the runner (tests); default ``config.analyser``.
        **options: Other :class:`EmulatorConfig` fields (``token_lifetime``, ``worker_mode``, ``analyser``, …).
    """

    def __init__(
        self,
        data_dir: Path | str,
        *,
        port: int = 0,
        host: str = "127.0.0.1",
        auto_approve: bool = True,
        analyse: AnalyseFn | None = None,
        **options: Any,
    ) -> None:
        self._socket = bind_socket(host, port)
        self.port = int(self._socket.getsockname()[1])
        shown = f"[{host}]" if ":" in host else host
        self.api_root = f"http://{shown}:{self.port}"
        self.config = EmulatorConfig(
            data_dir=Path(data_dir), public_url=self.api_root, auto_approve=auto_approve, **options
        )
        self.services = Services.open(self.config)
        self.app = create_app(self.config, services=self.services, analyse=analyse)
        self._server = uvicorn.Server(
            uvicorn.Config(self.app, log_level="warning", lifespan="on", timeout_graceful_shutdown=2)
        )
        self._thread: threading.Thread | None = None

    def start(self) -> LocalPlatform:
        """Start serving; returns once requests are accepted."""
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, name="local-platform", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                msg = "the local platform did not start"
                raise RuntimeError(msg)
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stop serving and close the database."""
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=15)
        self._socket.close()
        self.services.close()

    def __enter__(self) -> LocalPlatform:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def env(self) -> dict[str, str]:
        """The ``AIGNOSTICS_*`` settings that point a client at this instance."""
        return client_env(self.api_root)

    def access_token(self, user_id: str = ADMIN_USER_ID, *, lifetime: int | None = None) -> str:
        """Mint an access token for a seeded user (as the token endpoint would)."""
        principal = get_principal(self.services.db, user_id)
        if principal is None:
            msg = f"no such user {user_id!r}"
            raise KeyError(msg)
        return self.services.tokens.mint(principal, issuer=f"{self.api_root}/", lifetime=lifetime)

    def refresh_token(self, user_id: str = ADMIN_USER_ID) -> str:
        """Create a refresh token for a seeded user (usable as ``AIGNOSTICS_REFRESH_TOKEN``)."""
        if get_principal(self.services.db, user_id) is None:
            msg = f"no such user {user_id!r}"
            raise KeyError(msg)
        return issue_refresh_token(
            self.services.db,
            user_id,
            LOCAL_CLIENT_ID,
            "openid profile email offline_access",
            lifetime=self.config.refresh_token_lifetime,
            family=f"helper-{time.time_ns()}",
        )
