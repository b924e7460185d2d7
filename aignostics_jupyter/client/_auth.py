"""Login and tokens: device flow, refresh tokens, RS256 verification against the JWKS, the shared token cache.

Where a token comes from, in order: the in-memory token; the token cache ``{cache_dir}/.token`` (shared with the
official SDK) while it is valid for more than five minutes; a refresh with ``AIGNOSTICS_REFRESH_TOKEN`` or our
stored refresh token. Interactive login is the OAuth 2.0 device flow (RFC 8628): :meth:`Authenticator.start_device_flow`
returns the verification URI and user code to show, :meth:`Authenticator.complete_device_flow` polls the token
endpoint at the server's interval (slowing down when asked to).

Every new access token is verified before use: RS256 signature against the JWKS, audience, and issuer
(``scheme://host/`` of the authorization URL) when the token names one. Tokens never appear in reprs, logs or
error messages.

Example:
    >>> from aignostics_jupyter.client import Authenticator
    >>> auth = Authenticator()  # doctest: +SKIP
    >>> flow = auth.start_device_flow()  # doctest: +SKIP
    >>> print(flow.verification_uri_complete, flow.user_code)  # doctest: +SKIP
    >>> auth.complete_device_flow(flow)  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt

from aignostics_jupyter.client._http import USER_AGENT, error_from_response, translate_transport_error
from aignostics_jupyter.client._retry import call_with_retries
from aignostics_jupyter.client._token_store import TokenStore
from aignostics_jupyter.exceptions import (
    AignosticsError,
    AuthenticationError,
    ConfigurationError,
    RetryableError,
    ServerError,
)
from aignostics_jupyter.settings import Settings, get_settings

__all__ = ["REFRESH_MARGIN", "AccessToken", "Authenticator", "DeviceAuthorization"]

logger = logging.getLogger("aignostics_jupyter.client")

#: A token is refreshed this many seconds before it expires.
REFRESH_MARGIN = 300
_DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


@dataclass(frozen=True)
class DeviceAuthorization:
    """What the user needs to approve a device login: open ``verification_uri`` and enter ``user_code``."""

    verification_uri: str
    user_code: str
    verification_uri_complete: str | None
    expires_in: float
    interval: float
    device_code: str = field(repr=False)


@dataclass(frozen=True)
class AccessToken:
    """A verified access token with its expiry and claims (the token itself is never shown)."""

    token: str = field(repr=False)
    expires_at: int
    claims: dict[str, Any] = field(repr=False, default_factory=dict)

    @property
    def subject(self) -> str | None:
        """The user id (``sub`` claim)."""
        sub = self.claims.get("sub")
        return str(sub) if sub is not None else None


class Authenticator:
    """Provides valid access tokens for one platform environment; also a ``token_provider`` for the client.

    Args:
        settings: The settings (default: the process-wide ones).
        transport: An httpx transport for the identity provider (tests: the local platform or a fake).
        http: An httpx client to use instead (its transport is used as is).
        clock: Unix time source (injectable).
        sleep: Sleeps while polling and between retries (injectable).
        store: The token cache (default: in ``settings.cache_dir``).
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        http: httpx.Client | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        store: TokenStore | None = None,
    ) -> None:
        self.settings = settings or get_settings()
        self._given_http = http
        self._transport = transport
        self._own_http: httpx.Client | None = None
        self._clock = clock
        self._sleep = sleep
        self.store = store or TokenStore.for_settings(self.settings)
        self._current: AccessToken | None = None
        self._distrust_cache = False
        self._jwks: tuple[float, jwt.PyJWKSet] | None = None
        self._lock = threading.RLock()

    @property
    def _http(self) -> httpx.Client:
        """The HTTP client, created on first use (logout and cache checks need none)."""
        if self._given_http is not None:
            return self._given_http
        if self._own_http is None:
            self._own_http = httpx.Client(transport=self._transport, headers={"User-Agent": USER_AGENT})
        return self._own_http

    def close(self) -> None:
        """Close the HTTP client this authenticator created (a given one is left to its owner)."""
        if self._own_http is not None:
            self._own_http.close()
            self._own_http = None

    def __repr__(self) -> str:
        state = "token in memory" if self._current else "no token in memory"
        return f"Authenticator(api_root={self.settings.api_root!r}, {state})"

    # ---------------------------------------------------------------------------------------- tokens

    def __call__(self) -> str:
        """Return a valid access token (a ``token_provider`` for :class:`~aignostics_jupyter.client.Client`)."""
        return self.token()

    def token(self) -> str:
        """Return an access token valid for more than five more minutes, refreshing it when needed.

        Raises:
            AuthenticationError: When not logged in, or the refresh token was rejected.
        """
        with self._lock:
            now = self._clock()
            if self._current and self._current.expires_at - REFRESH_MARGIN > now:
                return self._current.token
            cached = self._cached_access()
            if cached and cached[1] - REFRESH_MARGIN > now:
                self._current = AccessToken(cached[0], cached[1])
                return cached[0]
            with self.store.locked():
                cached = self._cached_access()  # another process may have refreshed meanwhile
                if cached and cached[1] - REFRESH_MARGIN > self._clock():
                    self._current = AccessToken(cached[0], cached[1])
                    return cached[0]
                return self._refresh().token

    def _cached_access(self) -> tuple[str, int] | None:
        """The cached access token, if it was issued for this environment (the SDK's file is shared)."""
        if self._distrust_cache:
            return None
        cached = self.store.read_access()
        if cached is None:
            return None
        try:
            claims = jwt.decode(cached[0], options={"verify_signature": False})
        except jwt.PyJWTError:
            return None
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if self.settings.audience and self.settings.audience not in audiences:
            return None
        issuer = self.settings.issuer
        if "iss" in claims and issuer and str(claims["iss"]).rstrip("/") != issuer.rstrip("/"):
            return None
        return cached

    def invalidate(self) -> None:
        """Forget the current token (after a 401) so the next :meth:`token` refreshes."""
        with self._lock:
            self._current = None
            self._distrust_cache = True

    def has_credentials(self) -> bool:
        """Tell whether a token can be had without user interaction (valid cache or a refresh token)."""
        cached = self._cached_access()
        if cached and cached[1] - REFRESH_MARGIN > self._clock():
            return True
        return self._refresh_tokens() != []

    def _refresh_tokens(self) -> list[tuple[str, bool]]:
        """Refresh tokens to try, each with whether it belongs to the interactive client (else the device one).

        The stored token comes first: it is the newest of its family when refresh tokens rotate, and replaying
        the older ``AIGNOSTICS_REFRESH_TOKEN`` would make the identity provider revoke the whole family. Ours
        come from device logins; the environment's, as with the official SDK, from interactive logins.
        """
        tokens: list[tuple[str, bool]] = []
        stored = self.store.read_refresh()
        if stored:
            tokens.append((stored, False))
        if self.settings.refresh_token is not None and self.settings.refresh_token.get_secret_value() != stored:
            tokens.append((self.settings.refresh_token.get_secret_value(), True))
        return tokens

    def refresh(self) -> AccessToken:
        """Get a new access token with the stored refresh token, else ``AIGNOSTICS_REFRESH_TOKEN``.

        Raises:
            AuthenticationError: When there is no refresh token or every one was rejected.
        """
        with self._lock, self.store.locked():
            return self._refresh()

    def _refresh(self) -> AccessToken:
        """:meth:`refresh`, for callers already holding both locks."""
        candidates = self._refresh_tokens()
        if not candidates:
            msg = "Not logged in: log in with the device flow or set AIGNOSTICS_REFRESH_TOKEN"
            raise AuthenticationError(msg)
        last: AignosticsError | None = None
        for refresh_token, interactive in candidates:
            form = {
                "grant_type": "refresh_token",
                "client_id": self._client_id(interactive=interactive),
                "refresh_token": refresh_token,
            }
            try:
                body = call_with_retries(
                    lambda form=form: self._post_token(form),  # type: ignore[misc]
                    attempts=self.settings.auth_retry_attempts,
                    wait_min=self.settings.retry_wait_min,
                    wait_max=self.settings.retry_wait_max,
                    sleep=self._sleep,
                    what="token refresh",
                )
            except AuthenticationError as exc:
                last = exc
                continue
            return self._accept(body, previous_refresh=refresh_token)
        assert last is not None
        raise AuthenticationError(f"The refresh token was rejected; log in again ({last.message})")

    def logout(self) -> None:
        """Forget every token: memory, the shared token cache and our refresh token."""
        with self._lock:
            self._current = None
            self.store.clear()

    # ------------------------------------------------------------------------------------ device flow

    def start_device_flow(self) -> DeviceAuthorization:
        """Start a device login (RFC 8628) and return what the user must open and type.

        Raises:
            ConfigurationError: When the device endpoint is not configured.
            AignosticsError: When the identity provider refuses.
        """
        self.settings.require_auth_endpoints()
        assert self.settings.device_url is not None
        form = {
            "client_id": self._client_id(interactive=False),
            "scope": " ".join(s.strip() for s in self.settings.scope.split(",") if s.strip()),
            "audience": self.settings.audience or "",
        }
        response = self._post(self.settings.device_url, form, "device authorization")
        if response.status_code >= 400:
            raise error_from_response(response, "Starting the device login")
        body = _json(response, "device authorization")
        try:
            return DeviceAuthorization(
                verification_uri=str(body.get("verification_uri") or body["verification_url"]),
                user_code=str(body["user_code"]),
                verification_uri_complete=body.get("verification_uri_complete"),
                expires_in=float(body.get("expires_in", 900)),
                interval=float(body.get("interval", 5)),
                device_code=str(body["device_code"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            msg = "The device authorization answer lacks device_code, user_code or verification_uri"
            raise AignosticsError(msg) from exc

    def complete_device_flow(
        self,
        authorization: DeviceAuthorization,
        *,
        timeout: float | None = None,
        cancel: threading.Event | None = None,
    ) -> AccessToken:
        """Poll until the user approves the device login, then store and return the token.

        Args:
            authorization: What :meth:`start_device_flow` returned.
            timeout: Give up after this many seconds (default: when the device code expires).
            cancel: Set it (from another thread) to stop waiting; the wait between polls ends at once.

        Raises:
            AuthenticationError: When the login was denied, canceled, or the code expired or timed out.
        """
        interval = max(authorization.interval, 0.0)
        deadline = self._clock() + (timeout if timeout is not None else authorization.expires_in)
        form = {
            "grant_type": _DEVICE_GRANT,
            "device_code": authorization.device_code,
            "client_id": self._client_id(interactive=False),
        }
        while True:
            if self._clock() >= deadline:
                msg = "The device login was not approved in time; start it again"
                raise AuthenticationError(msg)
            if cancel is None:
                self._sleep(interval)
            elif cancel.wait(interval):
                raise AuthenticationError("The device login was canceled")
            try:
                body = self._post_token(form)
            except RetryableError as exc:
                logger.warning("Polling the device login failed (%s); polling on", exc)
                continue
            except AuthenticationError as exc:
                code = (exc.detail or {}).get("error") if isinstance(exc.detail, dict) else None
                if code == "authorization_pending":
                    continue
                if code == "slow_down":
                    interval += 5
                    continue
                if code == "expired_token":
                    raise AuthenticationError("The device code expired; start the login again") from None
                if code == "access_denied":
                    raise AuthenticationError("The device login was denied") from None
                raise
            return self._accept(body, previous_refresh=None)

    def login_device_flow(
        self, on_prompt: Callable[[DeviceAuthorization], None], *, timeout: float | None = None
    ) -> AccessToken:
        """Run a whole device login: start it, tell the user through ``on_prompt``, wait for approval.

        Example:
            >>> auth.login_device_flow(lambda f: print(f.verification_uri_complete))  # doctest: +SKIP
        """
        authorization = self.start_device_flow()
        on_prompt(authorization)
        return self.complete_device_flow(authorization, timeout=timeout)

    # ----------------------------------------------------------------------------------- verification

    def verify(self, access_token: str) -> dict[str, Any]:
        """Verify an access token: RS256 signature against the JWKS, audience, issuer and expiry.

        Returns:
            The token's claims.

        Raises:
            AuthenticationError: When the token is forged, for another audience or issuer, or expired.
        """
        try:
            header = jwt.get_unverified_header(access_token)
        except jwt.PyJWTError as exc:
            raise AuthenticationError("The access token is not a JWT") from exc
        key = self._signing_key(str(header.get("kid", "")))
        try:
            claims: dict[str, Any] = jwt.decode(
                access_token,
                key.key,
                algorithms=["RS256"],
                audience=self.settings.audience,
                options={"verify_exp": False, "verify_iat": False, "verify_nbf": False, "require": ["exp"]},
            )
        except jwt.PyJWTError as exc:
            raise AuthenticationError(f"The access token failed verification: {type(exc).__name__}: {exc}") from exc
        issuer = self.settings.issuer
        if "iss" in claims and issuer and claims["iss"].rstrip("/") != issuer.rstrip("/"):
            raise AuthenticationError(f"The access token was issued by {claims['iss']}, not {issuer}")
        if int(claims["exp"]) <= self._clock():
            raise AuthenticationError("The access token has expired")
        return claims

    def _signing_key(self, kid: str) -> jwt.PyJWK:
        for force in (False, True):
            keys = self._jwk_set(force=force)
            for key in keys.keys:
                if not kid or key.key_id == kid:
                    return key
        raise AuthenticationError("The access token was signed by a key the identity provider does not publish")

    def _jwk_set(self, *, force: bool) -> jwt.PyJWKSet:
        now = self._clock()
        if not force and self._jwks and self._jwks[0] > now:
            return self._jwks[1]
        url = self.settings.jws_json_url
        if not url:
            raise ConfigurationError("AIGNOSTICS_JWS_JSON_URL is not set; cannot verify tokens")

        def fetch() -> Any:
            response = self._get(url, "JWKS")
            if response.status_code >= 400:
                raise error_from_response(response, "Fetching the JWKS")
            return _json(response, "JWKS")

        body = call_with_retries(
            fetch,
            attempts=self.settings.auth_retry_attempts,
            wait_min=self.settings.retry_wait_min,
            wait_max=self.settings.retry_wait_max,
            sleep=self._sleep,
            what="JWKS fetch",
        )
        try:
            keys = jwt.PyJWKSet.from_dict(body)
        except (jwt.PyJWTError, KeyError, TypeError) as exc:
            raise AuthenticationError("The identity provider's JWKS holds no usable key") from exc
        self._jwks = (now + self.settings.auth_jwk_set_cache_ttl, keys)
        return keys

    # ------------------------------------------------------------------------------------------ wire

    def _client_id(self, *, interactive: bool) -> str:
        if not interactive and self.settings.client_id_device is not None:
            return self.settings.client_id_device.get_secret_value()
        if self.settings.client_id_interactive:
            return self.settings.client_id_interactive
        raise ConfigurationError("AIGNOSTICS_CLIENT_ID_INTERACTIVE is not set")

    def _post(self, url: str, form: dict[str, str], what: str) -> httpx.Response:
        try:
            return self._http.post(url, data=form, timeout=self.settings.auth_timeout)
        except httpx.HTTPError as exc:
            raise translate_transport_error(exc, what) from exc

    def _get(self, url: str, what: str) -> httpx.Response:
        try:
            return self._http.get(url, timeout=self.settings.auth_timeout)
        except httpx.HTTPError as exc:
            raise translate_transport_error(exc, what) from exc

    def _post_token(self, form: dict[str, str]) -> dict[str, Any]:
        """POST the token endpoint; 4xx become AuthenticationError carrying the OAuth error body as detail."""
        url = self.settings.token_url
        if not url:
            raise ConfigurationError("AIGNOSTICS_TOKEN_URL is not set")
        response = self._post(url, form, "token request")
        if response.status_code >= 500:
            raise ServerError(f"The token endpoint answered {response.status_code}", status_code=response.status_code)
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = {"error": response.text[:200]}
            error = body.get("error", "") if isinstance(body, dict) else ""
            description = body.get("error_description", "") if isinstance(body, dict) else ""
            msg = f"The token endpoint refused the request: {error} {description}".strip()
            raise AuthenticationError(msg, status_code=response.status_code, detail=body)
        return _json(response, "token request")

    def _accept(self, body: dict[str, Any], *, previous_refresh: str | None) -> AccessToken:
        access = body.get("access_token")
        if not isinstance(access, str):
            raise AuthenticationError("The token endpoint answered without an access token")
        claims = self.verify(access)
        token = AccessToken(access, int(claims["exp"]), claims)
        with self._lock:
            self._current = token
            self._distrust_cache = False
            self.store.write_access(access, token.expires_at)
            new_refresh = body.get("refresh_token")
            if isinstance(new_refresh, str) and new_refresh and new_refresh != previous_refresh:
                self.store.write_refresh(new_refresh)
        return token


def _json(response: httpx.Response, what: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError as exc:
        raise AignosticsError(f"The {what} answer is not JSON") from exc
    if not isinstance(body, dict):
        raise AignosticsError(f"The {what} answer is not a JSON object")
    return body
