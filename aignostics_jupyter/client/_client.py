"""The client: one object holding the settings, the HTTP connection, the login and every resource."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

import httpx

from aignostics_jupyter.client._access import Access
from aignostics_jupyter.client._applications import Applications
from aignostics_jupyter.client._auth import AccessToken, Authenticator, DeviceAuthorization
from aignostics_jupyter.client._http import USER_AGENT, ApiCore, TokenSource
from aignostics_jupyter.client._me import get_me
from aignostics_jupyter.client._run import Run
from aignostics_jupyter.client._runs import Runs
from aignostics_jupyter.client._slides import SlideDescription, describe_slide
from aignostics_jupyter.client._submit import submit
from aignostics_jupyter.client.models import MeReadResponse, RunReadResponse
from aignostics_jupyter.exceptions import AignosticsError, ConfigurationError
from aignostics_jupyter.settings import Settings, get_settings
from aignostics_jupyter.storage import Bucket

__all__ = ["Client"]


class Client:
    """A typed client of the Aignostics Platform API v1 (or the local platform).

    Args:
        settings: The settings (default: the process-wide ``AIGNOSTICS_*`` settings).
        transport: An httpx transport for every request (tests: ``httpx.MockTransport`` or the local platform).
        token_provider: Returns an access token; replaces the built-in login (cache, refresh token, device flow).
        clock: Unix time source (cache TTLs, token expiry, waits).
        sleep: Sleeps between retries and polls.

    Example:
        >>> from aignostics_jupyter.client import Client
        >>> client = Client()  # doctest: +SKIP
        >>> [a.application_id for a in client.applications.list()]  # doctest: +SKIP
        ['he-tme', 'test-app']
        >>> run = client.runs.submit("test-app", "slides/*.tiff")  # doctest: +SKIP
        >>> run.download("results", wait=True)  # doctest: +SKIP
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        token_provider: Callable[[], str] | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings or get_settings()
        self.clock = clock
        self.sleep = sleep
        self._http = httpx.Client(transport=transport, headers={"User-Agent": USER_AGENT}, follow_redirects=False)
        self.auth: Authenticator | None = None
        token: TokenSource
        if token_provider is None:
            self.auth = Authenticator(self.settings, http=self._http, clock=clock, sleep=sleep)
            token = self.auth
        else:
            token = token_provider
        self._core = ApiCore(self.settings, http=self._http, token=token, sleep=sleep, clock=clock)
        self.applications = Applications(self._core)
        self.runs = Runs(self._core, self._make_run, functools.partial(submit, self))
        self.access = Access(self._core)
        self._bucket: Bucket | None = None

    def __repr__(self) -> str:
        return f"Client(api_root={self.settings.api_root!r})"

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP connections."""
        self._http.close()

    def _make_run(self, run_id: str, data: RunReadResponse | None) -> Run:
        return Run(self, run_id, data)

    # ------------------------------------------------------------------------------------------- login

    def login(
        self, on_prompt: Callable[[DeviceAuthorization], None] | None = None, *, timeout: float | None = None
    ) -> AccessToken | None:
        """Log in with the device flow unless a token can be had without asking (cache or refresh token).

        Args:
            on_prompt: Shows the user where to go and which code to enter (default: print it).
            timeout: Give up waiting for approval after this many seconds.

        Returns:
            The new token, or None when already logged in.

        Raises:
            ConfigurationError: When the client was built with a ``token_provider``.

        Example:
            >>> Client().login()  # doctest: +SKIP
            Open https://…/activate?user_code=BCDF-GHJK and confirm the code BCDF-GHJK
        """
        auth = self._require_auth()
        if auth.has_credentials():
            return None

        def show(flow: DeviceAuthorization) -> None:
            where = flow.verification_uri_complete or flow.verification_uri
            print(f"Open {where} and confirm the code {flow.user_code}")

        token = auth.login_device_flow(on_prompt or show, timeout=timeout)
        self.clear_cache()
        return token

    def logout(self) -> None:
        """Forget this environment's tokens (memory and disk) and every cached read."""
        self._require_auth().logout()
        self.clear_cache()

    def _require_auth(self) -> Authenticator:
        if self.auth is None:
            raise ConfigurationError("This client takes its tokens from a token_provider; it cannot log in or out")
        return self.auth

    # --------------------------------------------------------------------------------------- resources

    def me(self, *, nocache: bool = False) -> MeReadResponse:
        """Return the calling user and organization (cached 5 minutes)."""
        return get_me(self._core, nocache=nocache)

    def run(self, run_id: str) -> Run:
        """Return a handle on a run (nothing is fetched yet)."""
        return Run(self, str(run_id))

    def bucket(self, *, refresh: bool = False) -> Bucket:
        """Return the organization bucket named in ``/v1/me`` (settings ``AIGNOSTICS_BUCKET_*`` override it)."""
        if self._bucket is None or refresh:
            s = self.settings
            overrides: dict[str, str | None] = {
                "bucket_name": s.bucket_name,
                "bucket_protocol": s.bucket_protocol,
                "access_key_id": s.bucket_hmac_access_key_id.get_secret_value()
                if s.bucket_hmac_access_key_id
                else None,
                "secret": s.bucket_hmac_secret_access_key.get_secret_value()
                if s.bucket_hmac_secret_access_key
                else None,
            }
            self._bucket = Bucket.from_organization(
                self.me().organization,
                api_root=s.api_root,
                storage_endpoint_url=s.storage_endpoint_url,
                region_name=s.bucket_region_name,
                http=self._http,
                overrides=overrides,
                clock=self.clock,
                timeout=max(s.run_submit_timeout, 60.0),
                state_dir=s.cache_dir / "aignostics-jupyter" / "uploads",
            )
        return self._bucket

    def health(self) -> bool:
        """Tell whether the platform answers ``GET /api/v1/health`` with 200 (no token needed)."""
        try:
            response = self._core.request("GET", "/health", family="health", auth=False, retry=False)
        except AignosticsError:
            return False
        return response.status_code == 200

    def clear_cache(self) -> None:
        """Forget every cached read."""
        self._core.mutated()

    @staticmethod
    def describe_slide(path: Any) -> SlideDescription:
        """Describe a local slide (see :func:`aignostics_jupyter.client.describe_slide`)."""
        return describe_slide(path)
