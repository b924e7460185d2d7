"""How the local storage backend turns transport failures and HTTP error answers into the package's exceptions."""

from __future__ import annotations

import contextlib
from typing import Any

import httpx

from aignostics_jupyter.exceptions import AignosticsError, ConfigurationError, TransportError, error_for_status

__all__ = ["response_error", "translate_error"]


def translate_error(exc: httpx.HTTPError, what: str) -> AignosticsError:
    """The exception for a request that got no answer (``what`` names the operation in the message)."""
    if isinstance(exc, httpx.TimeoutException):
        return TransportError(f"{what} timed out")
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return ConfigurationError(f"{what} cannot be sent: {exc}")
    return TransportError(f"{what} failed: {type(exc).__name__}: {exc}")


def response_error(response: httpx.Response, what: str) -> AignosticsError:
    """The exception for an error answer, keeping the server's ``detail``."""
    detail: Any = None
    with contextlib.suppress(ValueError):
        body = response.json()
        detail = body.get("detail", body) if isinstance(body, dict) else body
    return error_for_status(response.status_code, detail, context=what)
