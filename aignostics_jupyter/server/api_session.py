"""The sidebar's login: the client shared with the kernel through the token cache, and device-flow logins.

:class:`PlatformSession` holds one :class:`~aignostics_jupyter.client.Client` for the server. The client reads
the shared token cache on disk (``{cache_dir}/.token`` and our refresh token), so a kernel that logs in or out is
seen here: whenever those files change, the next call gets a fresh client, which reads them again. The old
client is closed a minute later (a request may still be using it).

A login started here is the OAuth device flow: :meth:`PlatformSession.start_login` returns the verification
URI and user code to show; a background thread polls the identity provider until the user approves, and writes
the token cache, exactly as a kernel login would. Nothing here ever returns or logs a token.

This module imports no web framework; handlers call its blocking methods in an executor.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

import httpx

from aignostics_jupyter.client import USER_AGENT, Authenticator, Client, DeviceAuthorization, TokenStore
from aignostics_jupyter.exceptions import AignosticsError, AuthenticationError
from aignostics_jupyter.settings import Settings

__all__ = ["LoginAttempt", "PlatformSession"]

logger = logging.getLogger("aignostics_jupyter.server")

#: Seconds a replaced client stays open for requests still using it.
RETIRE_AFTER = 60.0


@dataclass
class LoginAttempt:
    """One device-flow login started from the sidebar.

    Attributes:
        authorization: What the user must open and type (its device code is never shown).
        started_at: Unix time it started.
        state: ``pending``, ``succeeded``, ``failed`` or ``cancelled``.
        error: Why it failed.
    """

    authorization: DeviceAuthorization
    started_at: float
    state: str = "pending"
    error: str | None = None
    cancelled: threading.Event = field(default_factory=threading.Event, repr=False)

    def public(self) -> dict[str, Any]:
        """The attempt as JSON for the sidebar (no device code)."""
        flow = self.authorization
        return {
            "state": self.state,
            "verification_uri": flow.verification_uri,
            "verification_uri_complete": flow.verification_uri_complete,
            "user_code": flow.user_code,
            "expires_at": int(self.started_at + flow.expires_in),
            "interval": flow.interval,
            "error": self.error,
        }


class PlatformSession:
    """The server's client of the platform, kept in step with the shared token cache.

    Args:
        settings: The ``AIGNOSTICS_*`` settings of the server.
        executor: Where the background login poll runs.
        client_factory: Builds a client (tests inject one); default ``Client(settings)``.
        clock: Unix time source.
    """

    def __init__(
        self,
        settings: Settings,
        executor: Executor,
        *,
        client_factory: Callable[[Settings], Client] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self._executor = executor
        self._factory = client_factory or Client
        self._clock = clock
        self._lock = threading.Lock()
        self._client: Client | None = None
        self._signature: tuple[Any, ...] | None = None
        self._retired: list[tuple[float, Client]] = []
        self.login: LoginAttempt | None = None

    # ------------------------------------------------------------------------------------------ client

    def _cache_signature(self) -> tuple[Any, ...]:
        store = TokenStore.for_settings(self.settings)
        files = (store.access_file, store.refresh_file)
        signature: list[Any] = []
        for path in files:
            try:
                stat = path.stat()
            except OSError:
                signature.append(None)
            else:
                signature.append((stat.st_mtime_ns, stat.st_size, stat.st_ino))
        return tuple(signature)

    def client(self) -> Client:
        """The client, rebuilt when the token cache changed since it was built (a login or logout elsewhere)."""
        with self._lock:
            signature = self._cache_signature()
            if self._client is None or signature != self._signature:
                if self._client is not None:
                    self._retired.append((self._clock(), self._client))
                self._client = self._factory(self.settings)
                self._signature = signature
            self._close_retired(force=False)
            return self._client

    def _close_retired(self, *, force: bool) -> None:
        now = self._clock()
        keep = []
        for retired_at, client in self._retired:
            if force or now - retired_at > RETIRE_AFTER:
                client.close()
            else:
                keep.append((retired_at, client))
        self._retired = keep

    def close(self) -> None:
        """Close every client and stop a pending login."""
        if self.login is not None:
            self.login.cancelled.set()
        with self._lock:
            if self._client is not None:
                self._retired.append((self._clock(), self._client))
                self._client = None
            self._close_retired(force=True)

    # ----------------------------------------------------------------------------------------- session

    def state(self) -> dict[str, Any]:
        """The login state: user, organization and token expiry when logged in; a pending login if any."""
        base: dict[str, Any] = {
            "logged_in": False,
            "api_root": self.settings.api_root,
            "local": self.settings.is_local,
            "user": None,
            "organization": None,
            "expires_at": None,
            "login": self.login.public() if self.login else None,
        }
        client = self.client()
        auth = client.auth
        if auth is not None and not auth.has_credentials():
            return base
        try:
            me = client.me()
        except AuthenticationError:
            return base
        user, org = me.user, me.organization
        cached = auth.store.read_access() if auth is not None else None
        return {
            **base,
            "logged_in": True,
            "user": {"id": user.id, "email": user.email, "name": user.name or user.nickname or user.email or user.id},
            "organization": {"id": org.id, "name": org.display_name or org.name or org.id},
            "expires_at": cached[1] if cached else None,
        }

    def start_login(self) -> dict[str, Any]:
        """Start a device-flow login and poll for its approval in the background.

        Returns:
            The pending attempt: verification URI, user code, expiry.
        """
        if self.login is not None and self.login.state == "pending":
            self.login.cancelled.set()
        cancelled = threading.Event()

        def sleep(seconds: float) -> None:
            if cancelled.wait(seconds):
                raise AuthenticationError("The login was cancelled")

        http = httpx.Client(headers={"User-Agent": USER_AGENT})
        auth = Authenticator(self.settings, http=http, sleep=sleep, clock=self._clock)
        try:
            attempt = LoginAttempt(auth.start_device_flow(), self._clock(), cancelled=cancelled)
        except BaseException:
            http.close()
            raise
        self.login = attempt
        self._executor.submit(self._complete, auth, attempt, http)
        return attempt.public()

    @staticmethod
    def _complete(auth: Authenticator, attempt: LoginAttempt, http: httpx.Client | None = None) -> None:
        """Poll until the login ends, and record how it ended (runs in the executor)."""
        try:
            auth.complete_device_flow(attempt.authorization)
        except AignosticsError as exc:
            attempt.state = "cancelled" if attempt.cancelled.is_set() else "failed"
            attempt.error = exc.message
            logger.info("aignostics-jupyter: the sidebar login ended: %s", exc.message)
        else:
            attempt.state = "succeeded"
        finally:
            if http is not None:
                http.close()

    def logout(self) -> None:
        """Stop a pending login and forget every token (the kernel's too: they share the cache)."""
        if self.login is not None:
            self.login.cancelled.set()
            self.login = None
        with httpx.Client() as http:
            Authenticator(self.settings, http=http).logout()
