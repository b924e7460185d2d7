"""The HTTP core of the client: one place where requests are sent and httpx errors become ours.

Everything that talks to the platform API goes through :class:`ApiCore`: it adds the bearer token and the
User-Agent, applies the per-operation timeout, retries idempotent reads, refreshes the token once on a 401,
caches reads per token and translates every status and transport fault into the
:mod:`aignostics_jupyter.exceptions` tree (``raise … from exc``). Tokens never appear in messages.
"""

from __future__ import annotations

import logging
import platform
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from aignostics_jupyter._version import __version__
from aignostics_jupyter.client._cache import TtlCache, token_fingerprint
from aignostics_jupyter.client._retry import call_with_retries
from aignostics_jupyter.exceptions import (
    AignosticsError,
    ConfigurationError,
    TransportError,
    error_for_status,
    redact,
)
from aignostics_jupyter.settings import Settings

__all__ = ["USER_AGENT", "ApiCore", "OperationPolicy", "TokenSource", "translate_transport_error", "user_agent"]

logger = logging.getLogger("aignostics_jupyter.client")


def user_agent() -> str:
    """Return the User-Agent of this client, e.g. ``aignostics-jupyter/0.1.0 (Python 3.11.2; Linux; httpx/0.28.1)``."""
    py = ".".join(str(p) for p in sys.version_info[:3])
    return f"aignostics-jupyter/{__version__} (Python {py}; {platform.system()}; httpx/{httpx.__version__})"


USER_AGENT = user_agent()


class TokenSource(Protocol):
    """Anything that returns a current access token; ``invalidate`` (optional) forces a refresh."""

    def __call__(self) -> str: ...


@dataclass(frozen=True)
class OperationPolicy:
    """Timeout, attempts and cache TTL of one operation family (``me``, ``application``, ``run``, …)."""

    timeout: float
    attempts: int
    cache_ttl: float

    @classmethod
    def of(cls, settings: Settings, family: str) -> OperationPolicy:
        """Read the policy of ``family`` from the settings (``{family}_timeout`` etc.)."""
        return cls(
            timeout=float(getattr(settings, f"{family}_timeout", settings.run_timeout)),
            attempts=int(getattr(settings, f"{family}_retry_attempts", 1)),
            cache_ttl=float(getattr(settings, f"{family}_cache_ttl", 0)),
        )


def translate_transport_error(exc: httpx.HTTPError, what: str) -> AignosticsError:
    """Translate an httpx exception into our tree (the one boundary for httpx errors).

    Args:
        exc: The httpx exception.
        what: What was being done, e.g. ``GET /api/v1/runs``.

    Returns:
        The matching :class:`AignosticsError` (not raised).
    """
    if isinstance(exc, httpx.TimeoutException):
        return TransportError(f"{what} timed out ({type(exc).__name__})")
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return ConfigurationError(f"{what} cannot be sent: {exc}")
    if isinstance(exc, httpx.TransportError):
        return TransportError(f"{what} failed: {type(exc).__name__}: {exc}")
    return AignosticsError(f"{what} failed: {type(exc).__name__}: {exc}")


def error_from_response(response: httpx.Response, what: str) -> AignosticsError:
    """Build the exception for an error response, using its ``detail`` when it has one."""
    detail: Any = None
    try:
        body = response.json()
        detail = body.get("detail", body) if isinstance(body, dict) else body
    except ValueError:
        detail = response.text[:500] or None
    return error_for_status(response.status_code, detail, context=what)


class ApiCore:
    """Sends requests to ``{api_root}/api/v1`` with auth, timeouts, retries, cache and error translation."""

    def __init__(
        self,
        settings: Settings,
        *,
        http: httpx.Client,
        token: TokenSource | None,
        sleep: Callable[[float], None],
        clock: Callable[[], float],
    ) -> None:
        self.settings = settings
        self.http = http
        self.cache = TtlCache(clock)
        self._token = token
        self.sleep = sleep
        self.clock = clock

    # ------------------------------------------------------------------------------------------- sending

    def policy(self, family: str) -> OperationPolicy:
        """Return the timeout/attempts/TTL of an operation family."""
        return OperationPolicy.of(self.settings, family)

    def url(self, path: str) -> str:
        """Return the absolute URL of an API path such as ``/runs``."""
        return f"{self.settings.api_v1}{path}"

    def _auth_header(self) -> dict[str, str]:
        if self._token is None:
            return {}
        return {"Authorization": f"Bearer {self._token()}"}

    def _send_once(
        self,
        method: str,
        path: str,
        *,
        params: Any,
        json: Any,
        timeout: float,
        auth: bool,
    ) -> httpx.Response:
        what = f"{method} {self.settings.api_v1}{path}"
        refreshed = False
        while True:
            headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
            if auth:
                headers.update(self._auth_header())
            try:
                response = self.http.request(
                    method, self.url(path), params=params, json=json, headers=headers, timeout=timeout
                )
            except httpx.HTTPError as exc:
                raise translate_transport_error(exc, what) from exc
            if logger.isEnabledFor(logging.DEBUG):
                logger.debug("%s -> %d", redact(f"{method} {response.request.url}"), response.status_code)
            if response.status_code == 401 and auth and not refreshed and self._invalidate_token():
                refreshed = True
                continue
            if response.status_code >= 400:
                raise error_from_response(response, what)
            return response

    def _invalidate_token(self) -> bool:
        invalidate = getattr(self._token, "invalidate", None)
        if invalidate is None:
            return False
        invalidate()
        return True

    def request(
        self,
        method: str,
        path: str,
        *,
        family: str,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
        json: Any = None,
        retry: bool = False,
        auth: bool = True,
    ) -> httpx.Response:
        """Send one request and return its (non-error) response.

        Args:
            method: HTTP method.
            path: Path below ``/api/v1``, e.g. ``/runs/…``.
            family: Operation family whose timeout and retry policy apply.
            params: Query parameters (lists become repeated parameters).
            json: JSON body.
            retry: Retry passing faults (reads only).
            auth: Send the bearer token.

        Returns:
            The response, status < 400 (redirects are not followed).

        Raises:
            AignosticsError: Translated from the status or the transport fault.
        """
        policy = self.policy(family)
        clean = _clean_params(params)

        def once() -> httpx.Response:
            return self._send_once(method, path, params=clean, json=json, timeout=policy.timeout, auth=auth)

        if not retry:
            return once()
        return call_with_retries(
            once,
            attempts=policy.attempts,
            wait_min=self.settings.retry_wait_min,
            wait_max=self.settings.retry_wait_max,
            sleep=self.sleep,
            what=redact(f"{method} {path}"),
        )

    def get_json(
        self,
        path: str,
        *,
        family: str,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
        nocache: bool = False,
        cache_family: str | None = None,
    ) -> Any:
        """GET a JSON document with retries, through the per-token read cache.

        Args:
            path: Path below ``/api/v1``.
            family: Operation family (timeout, attempts, and by default the cache TTL).
            params: Query parameters.
            nocache: Skip the cache lookup (the fresh answer is still stored).
            cache_family: Family whose cache TTL applies, when it differs from ``family``.

        Returns:
            The decoded JSON.
        """
        clean = _clean_params(params)
        ttl = self.policy(cache_family or family).cache_ttl
        key = None
        if ttl > 0:
            fingerprint = token_fingerprint(self._token() if self._token is not None else None)
            key = (fingerprint, path, tuple(clean))
            if not nocache:
                hit, value = self.cache.get(key)
                if hit:
                    return value
        response = self.request("GET", path, family=family, params=clean, retry=True)
        value = decode_json(response, f"GET {path}")
        if key is not None:
            self.cache.put(key, value, ttl)
        return value

    def mutated(self) -> None:
        """Forget every cached read (call after any mutation)."""
        self.cache.clear()


def decode_json(response: httpx.Response, what: str) -> Any:
    """Decode a JSON response body, raising our error on garbage."""
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError as exc:
        msg = f"{what} returned a body that is not JSON (status {response.status_code})"
        raise AignosticsError(msg, status_code=response.status_code) from exc


def _clean_params(params: Mapping[str, Any] | list[tuple[str, Any]] | None) -> list[tuple[str, str]]:
    """Flatten parameters into ``(name, value)`` pairs: drop None, repeat lists, spell enums and bools."""
    if params is None:
        return []
    items = params.items() if isinstance(params, Mapping) else params
    out: list[tuple[str, str]] = []
    for name, value in items:
        if value is None:
            continue
        values = value if isinstance(value, list | tuple | set | frozenset) else [value]
        for single in values:
            out.append((name, _spell(single)))
    return out


def _spell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    enum_value = getattr(value, "value", None)
    if isinstance(enum_value, str):
        return enum_value
    return str(value)
