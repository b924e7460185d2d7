"""Configuration: one settings object read from ``AIGNOSTICS_*`` environment variables and ``.env`` files.

The variable names are the official Aignostics SDK's, so an environment configured for ``aignostics`` works
here unchanged. Env files are read in the SDK's order (later files win): ``~/.aignostics/.env``,
``~/.aignostics/.env.{env}``, ``$AIGNOSTICS_ENV_FILE``, ``./.env``, ``./.env.{env}``, where ``{env}`` is
``AIGNOSTICS_ENVIRONMENT`` (or ``ENV``, default ``local``). Real environment variables win over all files.

The seven auth endpoints are derived from ``AIGNOSTICS_API_ROOT`` for the three platform environments and for
any loopback root (the local platform serves its own identity provider on the same origin); any other root
needs all seven set explicitly, as with the SDK.

Example:
    >>> from aignostics_jupyter.settings import get_settings
    >>> settings = get_settings()
    >>> settings.api_root  # doctest: +SKIP
    'https://platform.aignostics.com'
"""

from __future__ import annotations

import functools
import os
from ipaddress import ip_address
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import platformdirs
from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from aignostics_jupyter.exceptions import ConfigurationError

__all__ = [
    "KNOWN_ENVIRONMENTS",
    "LOCAL_AUDIENCE",
    "LOCAL_CLIENT_ID",
    "AuthEndpoints",
    "Settings",
    "auth_endpoints_for",
    "env_files",
    "get_settings",
    "is_loopback_root",
    "reset_settings",
]

PRODUCTION_ROOT = "https://platform.aignostics.com"

# The local platform's identity provider: same origin as its API, fixed audience and public client id.
LOCAL_AUDIENCE = "https://aignostics-local-platform"
LOCAL_CLIENT_ID = "aignostics-jupyter-local"


class AuthEndpoints(dict[str, str]):
    """The seven auth settings of one environment (a plain mapping of setting name to value)."""


def _auth0(domain: str, audience: str, client_id: str) -> AuthEndpoints:
    base = f"https://{domain}"
    return AuthEndpoints(
        audience=audience,
        authorization_base_url=f"{base}/authorize",
        token_url=f"{base}/oauth/token",
        redirect_uri="http://localhost:8989/",
        device_url=f"{base}/oauth/device/code",
        jws_json_url=f"{base}/.well-known/jwks.json",
        client_id_interactive=client_id,
    )


KNOWN_ENVIRONMENTS: dict[str, AuthEndpoints] = {
    PRODUCTION_ROOT: _auth0(
        "aignostics-platform.eu.auth0.com", "https://aignostics-platform-samia", "YtJ7F9lAtxx16SZGQlYPe6wcjlXB78MM"
    ),
    "https://platform-staging.aignostics.com": _auth0(
        "aignostics-platform-staging.eu.auth0.com",
        "https://aignostics-platform-staging-samia",
        "fQkbvYzQPPVwLxc3uque5JsyFW00rJ7b",
    ),
    "https://platform-dev.aignostics.ai": _auth0(
        "dev-8ouohmmrbuh2h4vu.eu.auth0.com", "https://dev-8ouohmmrbuh2h4vu-samia", "gqduveFvx7LX90drQPGzr4JGUYdh24gA"
    ),
}

_AUTH_FIELDS = (
    "audience",
    "authorization_base_url",
    "token_url",
    "redirect_uri",
    "device_url",
    "jws_json_url",
    "client_id_interactive",
)


def is_loopback_root(api_root: str) -> bool:
    """Tell whether an API root points at this machine (localhost, 127.0.0.0/8 or ::1).

    Args:
        api_root: An http(s) URL.

    Returns:
        True for loopback hosts.
    """
    host = urlsplit(api_root).hostname or ""
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def auth_endpoints_for(api_root: str) -> AuthEndpoints | None:
    """Derive the seven auth settings from an API root, where that is possible.

    Args:
        api_root: The platform's API root, without ``/api/v1``.

    Returns:
        The endpoints for a known environment or a loopback (local platform) root, else None.
    """
    root = api_root.rstrip("/")
    if root in KNOWN_ENVIRONMENTS:
        return KNOWN_ENVIRONMENTS[root]
    if is_loopback_root(root):
        return AuthEndpoints(
            audience=LOCAL_AUDIENCE,
            authorization_base_url=f"{root}/authorize",
            token_url=f"{root}/oauth/token",
            redirect_uri="http://localhost:8989/",
            device_url=f"{root}/oauth/device/code",
            jws_json_url=f"{root}/.well-known/jwks.json",
            client_id_interactive=LOCAL_CLIENT_ID,
        )
    return None


def env_files(environ: dict[str, str] | None = None) -> tuple[Path, ...]:
    """List the env files read, in the official SDK's order (later files override earlier ones).

    Args:
        environ: The environment to consult (default: ``os.environ``).

    Returns:
        The candidate paths; missing files are skipped when settings are read.
    """
    env = os.environ if environ is None else environ
    name = env.get("AIGNOSTICS_ENVIRONMENT") or env.get("ENV") or "local"
    home = Path.home() / ".aignostics"
    files = [home / ".env", home / f".env.{name}"]
    if env.get("AIGNOSTICS_ENV_FILE"):
        files.append(Path(env["AIGNOSTICS_ENV_FILE"]).expanduser())
    files += [Path(".env"), Path(f".env.{name}")]
    return tuple(files)


class Settings(BaseSettings):
    """Every ``AIGNOSTICS_*`` setting of aignostics-jupyter, validated.

    Secrets are :class:`~pydantic.SecretStr`: they print as ``**********`` in reprs, logs and
    :meth:`masked_dump`. Use :func:`get_settings` for the process-wide instance.
    """

    model_config = SettingsConfigDict(env_prefix="AIGNOSTICS_", extra="ignore", validate_default=True)

    # The platform and its identity provider.
    api_root: str = Field(PRODUCTION_ROOT, description="The platform's root URL, without /api/v1.")
    audience: str | None = None
    authorization_base_url: str | None = None
    token_url: str | None = None
    redirect_uri: str | None = None
    device_url: str | None = None
    jws_json_url: str | None = None
    client_id_interactive: str | None = None
    client_id_device: SecretStr | None = None
    refresh_token: SecretStr | None = Field(None, min_length=10, max_length=1000)
    scope: str = "offline_access"
    cache_dir: Path = Field(default_factory=lambda: Path(platformdirs.user_cache_dir("aignostics")))

    # Timeouts (s), retries and cache TTLs (s), per operation family as in the SDK.
    health_timeout: float = Field(30.0, ge=0.1, le=300)
    auth_timeout: float = Field(30.0, ge=0.1, le=300)
    auth_retry_attempts: int = Field(4, ge=0, le=10)
    auth_jwk_set_cache_ttl: int = Field(86400, ge=0, le=604800)
    me_timeout: float = Field(30.0, ge=0.1, le=300)
    me_retry_attempts: int = Field(4, ge=0, le=10)
    me_cache_ttl: int = Field(300, ge=0, le=604800)
    application_timeout: float = Field(30.0, ge=0.1, le=300)
    application_retry_attempts: int = Field(4, ge=0, le=10)
    application_cache_ttl: int = Field(300, ge=0, le=604800)
    application_version_timeout: float = Field(30.0, ge=0.1, le=300)
    application_version_retry_attempts: int = Field(4, ge=0, le=10)
    application_version_cache_ttl: int = Field(300, ge=0, le=604800)
    run_timeout: float = Field(30.0, ge=0.1, le=300)
    run_retry_attempts: int = Field(4, ge=0, le=10)
    run_cache_ttl: int = Field(15, ge=0, le=604800)
    run_submit_timeout: float = Field(30.0, ge=0.1, le=300)
    run_cancel_timeout: float = Field(30.0, ge=0.1, le=300)
    run_delete_timeout: float = Field(30.0, ge=0.1, le=300)
    retry_wait_min: float = Field(0.1, ge=0, le=600)
    retry_wait_max: float = Field(60.0, ge=0, le=600)

    # Storage: the organization bucket. Credentials normally come from /v1/me; these override them.
    bucket_name: str | None = None
    bucket_protocol: Literal["gs", "s3", "local"] | None = None
    bucket_region_name: str = "EUROPE-WEST3"
    bucket_hmac_access_key_id: SecretStr | None = None
    bucket_hmac_secret_access_key: SecretStr | None = None
    storage_endpoint_url: str = Field(
        "https://storage.googleapis.com",
        validation_alias=AliasChoices("AIGNOSTICS_STORAGE_ENDPOINT_URL", "AIGNOSTICS_S3_ENDPOINT_URL"),
        description="The S3-compatible endpoint of the bucket (GCS interoperability by default).",
    )

    # The local platform.
    local_data_dir: Path = Field(default_factory=lambda: Path(platformdirs.user_data_dir("aignostics-jupyter")))
    local_auto_approve: bool = False

    # The viewer: the URL prefix under which the browser reaches the server extension's tile routes (e.g.
    # ``/user/jane/`` or ``https://hub.example.org/user/jane/``); empty means the kernel discovers it.
    tile_server_url: str | None = Field(
        None, description="Base-URL prefix of the Jupyter server that serves tiles; discovered when unset."
    )

    @field_validator("api_root")
    @classmethod
    def _http_root(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            msg = f"AIGNOSTICS_API_ROOT must be an http(s) URL, not {value!r}"
            raise ValueError(msg)
        return value.rstrip("/").removesuffix("/api/v1").removesuffix("/api")

    @model_validator(mode="after")
    def _derive_auth(self) -> Settings:
        derived: dict[str, str] = auth_endpoints_for(self.api_root) or {}
        for name in _AUTH_FIELDS:
            if getattr(self, name) is None and name in derived:
                object.__setattr__(self, name, derived[name])
        if self.retry_wait_min > self.retry_wait_max:
            msg = "AIGNOSTICS_RETRY_WAIT_MIN must not exceed AIGNOSTICS_RETRY_WAIT_MAX"
            raise ValueError(msg)
        return self

    @property
    def api_v1(self) -> str:
        """The base URL of API v1, e.g. ``https://platform.aignostics.com/api/v1``."""
        return f"{self.api_root}/api/v1"

    @property
    def is_local(self) -> bool:
        """Whether the API root is on this machine (the local platform)."""
        return is_loopback_root(self.api_root)

    @property
    def token_file(self) -> Path:
        """The official SDK's token cache, ``{cache_dir}/.token`` holding ``<jwt>:<exp>``."""
        return self.cache_dir / ".token"

    @property
    def issuer(self) -> str | None:
        """The expected ``iss`` claim: ``scheme://host/`` of the authorization URL."""
        if not self.authorization_base_url:
            return None
        parts = urlsplit(self.authorization_base_url)
        return f"{parts.scheme}://{parts.netloc}/"

    def require_auth_endpoints(self) -> None:
        """Raise unless all seven auth endpoints are known.

        Raises:
            ConfigurationError: Naming the missing ``AIGNOSTICS_*`` variables.
        """
        missing = [f"AIGNOSTICS_{n.upper()}" for n in _AUTH_FIELDS if not getattr(self, n)]
        if missing:
            msg = (
                f"The API root {self.api_root} is not a known platform environment; set {', '.join(missing)} to use it"
            )
            raise ConfigurationError(msg)

    def masked_dump(self) -> dict[str, Any]:
        """Return every setting as plain JSON-able values with secrets masked.

        Returns:
            A dict of setting name to value; secrets that are set show as ``**********``.
        """
        out: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                out[name] = "**********"
            elif isinstance(value, Path):
                out[name] = str(value)
            else:
                out[name] = value
        return out


def _one_line(error: ValidationError) -> str:
    parts = []
    for entry in error.errors():
        name = "AIGNOSTICS_" + "_".join(str(p) for p in entry["loc"]).upper() if entry["loc"] else "settings"
        parts.append(f"{name}: {entry['msg'].removeprefix('Value error, ')}")
    return "; ".join(parts)


def _read(environ: dict[str, str] | None = None) -> Settings:
    files = tuple(p for p in env_files(environ) if p.is_file())
    try:
        return Settings(_env_file=files or None)
    except ValidationError as exc:
        raise ConfigurationError(f"Invalid aignostics settings: {_one_line(exc)}") from exc


@functools.lru_cache(maxsize=1)
def _cached() -> Settings:
    return _read()


def get_settings(*, reload: bool = False) -> Settings:
    """Return the process-wide settings, read once from the environment and env files.

    Args:
        reload: Read the environment again (after changing ``os.environ``).

    Returns:
        The validated settings.

    Raises:
        ConfigurationError: When a variable has an invalid value.
    """
    if reload:
        reset_settings()
    return _cached()


def reset_settings() -> None:
    """Forget the process-wide settings; the next :func:`get_settings` reads the environment again."""
    _cached.cache_clear()
