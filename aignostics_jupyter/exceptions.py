"""The one exception tree of aignostics-jupyter, grouped by what the caller can do about an error.

::

    AignosticsError                      anything this package raises on purpose
    ├── ConfigurationError               fix a setting (AIGNOSTICS_*), then try again
    ├── AuthenticationError              log in (again): missing, expired, forged or revoked token (401)
    ├── PermissionDeniedError            ask for access: the caller may not see or do this (403)
    ├── NotFoundError                    check the id or path: no such entity (404)
    │   └── GoneError                    the entity existed but was deleted (410)
    ├── ConflictError                    the entity's state forbids this now (409)
    │   └── PreconditionFailedError      someone changed it first: reload, then retry (412)
    ├── InvalidInputError                fix the input: validation failed (400, 422)  [also a ValueError]
    │   └── UnsupportedSlideError        the file is not a whole slide image we can read
    ├── RetryableError                   a passing fault: retrying later may succeed
    │   ├── TransportError               timeouts, refused or dropped connections
    │   └── ServerError                  the platform answered 5xx
    └── IntegrityError                   a transferred file failed its checksum (it was removed)

Foreign errors (httpx, tenacity, openslide, pydicom, botocore) are translated into this tree at exactly one
boundary per layer, with ``raise ... from exc``; none escapes the client, storage or slides packages.

Messages are one sentence naming the problem, and never contain a token: :func:`redact` removes anything
that looks like a bearer token or JWT before a message is stored.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = [
    "AignosticsError",
    "AuthenticationError",
    "ConfigurationError",
    "ConflictError",
    "GoneError",
    "IntegrityError",
    "InvalidInputError",
    "NotFoundError",
    "PermissionDeniedError",
    "PreconditionFailedError",
    "RetryableError",
    "ServerError",
    "TransportError",
    "UnsupportedSlideError",
    "error_for_status",
    "redact",
]

# A JWT is three base64url segments; the first starts with "eyJ" (the encoded '{"').
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}")
_BEARER = re.compile(r"(?i)(bearer\s+)[^\s,;\"']+")
_SECRET_PARAM = re.compile(
    r"(?i)((?:refresh_token|access_token|token|share_token|client_secret|device_code|signature|sig|"
    r"X-Amz-Signature|X-Goog-Signature|secret)=)[^&\s\"']+"
)
_MASK = "***"


def redact(text: str) -> str:
    """Remove tokens, JWTs and URL signatures from a text.

    Args:
        text: Any message, URL or log line.

    Returns:
        The text with every bearer token, JWT and secret query parameter replaced by ``***``.

    Example:
        >>> redact("Authorization: Bearer abc.def")
        'Authorization: Bearer ***'
    """
    text = _JWT.sub(_MASK, text)
    text = _BEARER.sub(lambda m: m.group(1) + _MASK, text)
    return _SECRET_PARAM.sub(lambda m: m.group(1) + _MASK, text)


class AignosticsError(Exception):
    """Root of every error this package raises on purpose.

    Attributes:
        message: One sentence naming the problem (tokens removed).
        status_code: The HTTP status that caused it, when one did.
        detail: The server's ``detail`` (text or FastAPI validation list), when it sent one.
    """

    def __init__(self, message: str, *, status_code: int | None = None, detail: Any = None) -> None:
        self.message = redact(message)
        self.status_code = status_code
        self.detail = detail
        super().__init__(self.message)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, status_code={self.status_code!r})"


class ConfigurationError(AignosticsError):
    """A setting is missing or wrong; fix the ``AIGNOSTICS_*`` configuration."""


class AuthenticationError(AignosticsError):
    """Not logged in, or the token is expired, forged or revoked (HTTP 401)."""


class PermissionDeniedError(AignosticsError):
    """The caller is authenticated but may not access this (HTTP 403)."""


class NotFoundError(AignosticsError):
    """No such application, version, run, item, artifact, object or file (HTTP 404)."""


class GoneError(NotFoundError):
    """The entity existed but has been deleted (HTTP 410)."""


class ConflictError(AignosticsError):
    """The entity's current state forbids the operation (HTTP 409)."""


class PreconditionFailedError(ConflictError):
    """An optimistic check failed: someone else changed the entity first (HTTP 412)."""


class InvalidInputError(AignosticsError, ValueError):
    """The input failed validation (HTTP 400/422, or checked locally before sending)."""


class UnsupportedSlideError(InvalidInputError):
    """The file is missing, empty, truncated or not a whole slide image in a format we read."""


class RetryableError(AignosticsError):
    """A passing fault; the same request may succeed later."""


class TransportError(RetryableError):
    """The request did not complete: timeout, refused or dropped connection."""


class ServerError(RetryableError):
    """The platform answered with a 5xx status."""


class IntegrityError(AignosticsError):
    """A transferred file did not match its checksum; the damaged copy was removed."""


_BY_STATUS: dict[int, type[AignosticsError]] = {
    400: InvalidInputError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    410: GoneError,
    412: PreconditionFailedError,
    413: InvalidInputError,
    422: InvalidInputError,
}


def _detail_text(detail: Any) -> str:
    if isinstance(detail, list):
        parts = []
        for entry in detail:
            if isinstance(entry, dict):
                loc = ".".join(str(p) for p in entry.get("loc", []) if p != "body")
                msg = str(entry.get("msg", entry))
                parts.append(f"{loc}: {msg}" if loc else msg)
            else:
                parts.append(str(entry))
        return "; ".join(parts)
    if isinstance(detail, dict):
        return str(detail.get("message") or detail)
    return str(detail)


def error_for_status(status_code: int, detail: Any, *, context: str = "") -> AignosticsError:
    """Build the right exception for an HTTP error status and the server's ``detail``.

    Args:
        status_code: The HTTP status (4xx or 5xx).
        detail: The ``detail`` member of the error body (a string, or FastAPI's validation list), or None.
        context: What was being done, e.g. ``"GET /api/v1/runs/…"``, to start the message with.

    Returns:
        An instance of the matching :class:`AignosticsError` subclass, not raised.
    """
    cls = _BY_STATUS.get(status_code)
    if cls is None:
        cls = ServerError if status_code >= 500 else AignosticsError
    text = _detail_text(detail) if detail not in (None, "") else f"HTTP {status_code}"
    message = f"{context}: {text}" if context else text
    return cls(message, status_code=status_code, detail=detail)
