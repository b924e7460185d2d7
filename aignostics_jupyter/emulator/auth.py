"""Request authentication for the API routes: bearer JWT → :class:`Principal`, or 401 ``{"detail": …}``.

The dependencies are ``async`` on purpose: FastAPI runs synchronous dependencies in its thread pool, and the
thread hops cost more than the sub-millisecond work they do.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import HTTPException, Request

from aignostics_jupyter.emulator.identity import Principal, get_principal
from aignostics_jupyter.emulator.services import Services
from aignostics_jupyter.emulator.tokens import TokenError

__all__ = ["api_base", "get_services", "issuer_for", "optional_principal", "require_principal", "services_of"]


def services_of(request: Request) -> Services:
    """The instance's services."""
    services: Services = request.app.state.services
    return services


async def get_services(request: Request) -> Services:
    """The instance's services, as an async FastAPI dependency."""
    return services_of(request)


def api_base(request: Request) -> str:
    """The root URL the caller reached this server under (or the configured public URL)."""
    configured = services_of(request).config.public_url
    return (configured or str(request.base_url)).rstrip("/")


def issuer_for(request: Request) -> str:
    """The ``iss`` of tokens minted for this caller: ``scheme://host/`` of the authorize URL."""
    parts = urlsplit(api_base(request))
    return f"{parts.scheme}://{parts.netloc}/"


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status_code=401, detail=detail, headers={"WWW-Authenticate": "Bearer"})


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized("the Authorization header must be 'Bearer <access token>'")
    return token.strip()


def _principal_for(request: Request, token: str) -> Principal:
    services = services_of(request)
    try:
        claims = services.tokens.verify(token)
    except TokenError as exc:
        raise _unauthorized(str(exc)) from exc
    principal = get_principal(services.db, str(claims["sub"]))
    if principal is None:
        raise _unauthorized("the token's user does not exist")
    return principal


async def require_principal(request: Request) -> Principal:
    """The authenticated caller (FastAPI dependency).

    Raises:
        HTTPException: 401 when the token is missing, malformed, forged or expired.
    """
    token = _bearer(request)
    if token is None:
        raise _unauthorized("not authenticated: send 'Authorization: Bearer <access token>'")
    return _principal_for(request, token)


async def optional_principal(request: Request) -> Principal | None:
    """The caller when a bearer token is sent (it must then be valid), else None (share-token access)."""
    token = _bearer(request)
    return None if token is None else _principal_for(request, token)
