"""The kernel's platform session: one shared client for widgets and magics, and one-sentence error texts.

The client follows the settings: when ``AIGNOSTICS_API_ROOT`` or the cache dir change (``%aignostics local
start`` reloads the settings), the next :func:`platform_client` builds a new client. Logins land in the shared
token cache, so every client of the same environment (and the sidebar) is logged in too.

Example:
    >>> from aignostics_jupyter.widgets._platform import error_text
    >>> from aignostics_jupyter.exceptions import NotFoundError
    >>> error_text(NotFoundError("Run 42 not found"))
    'Run 42 not found.'
    >>> error_text(NotFoundError("GET http://host/api/v1/applications/x: application 'x' not found"))
    "Application 'x' not found."
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from aignostics_jupyter.exceptions import AignosticsError, AuthenticationError, InvalidInputError, NotFoundError, redact
from aignostics_jupyter.settings import get_settings

if TYPE_CHECKING:
    from aignostics_jupyter.client import Client

__all__ = ["close_widgets", "error_text", "parse_run_id", "platform_client", "reset_platform_client", "run_error_text"]

_lock = threading.Lock()
_current: tuple[tuple[str, str], Client] | None = None

_LOGIN_HINT = "log in with %aignostics login or the LoginWidget"
# "GET https://…/api/v1/runs/…: " in front of a platform's answer: noise in a one-line message.
_REQUEST_PREFIX = re.compile(r"^(GET|POST|PUT|PATCH|DELETE|HEAD) \S+: ")


def platform_client() -> Client:
    """Return the kernel's client for the current settings (built on first use, rebuilt when they change).

    Raises:
        ConfigurationError: When the ``AIGNOSTICS_*`` settings are invalid.
    """
    global _current  # noqa: PLW0603 - one session per kernel
    from aignostics_jupyter.client import Client

    settings = get_settings()
    key = (settings.api_root, str(settings.cache_dir))
    with _lock:
        if _current is not None and _current[0] == key:
            return _current[1]
        # The previous client is not closed: widgets made with it (a RunMonitor still polling) keep working.
        client = Client(settings)
        _current = (key, client)
        return client


def reset_platform_client() -> None:
    """Forget the kernel's client (the next :func:`platform_client` builds a new one; widgets keep theirs)."""
    global _current  # noqa: PLW0603
    with _lock:
        _current = None


def error_text(exc: BaseException) -> str:
    """Turn an exception into one sentence for a widget or a magic, with secrets removed.

    Args:
        exc: Any exception.

    Returns:
        One line, ending with a full stop, naming what to do for authentication problems.
    """
    if isinstance(exc, AignosticsError):
        text = exc.message
    else:
        text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    text = " ".join(redact(text).split())
    stripped = _REQUEST_PREFIX.sub("", text)
    if stripped != text:
        text = stripped[:1].upper() + stripped[1:]
    if isinstance(exc, AuthenticationError) and "login" not in text.lower():
        text = f"{text.rstrip('.')}; {_LOGIN_HINT}"
    elif isinstance(exc, AuthenticationError):
        text = f"{text.rstrip('.')} ({_LOGIN_HINT})"
    return text if text.endswith((".", "!", "?")) else f"{text}."


def parse_run_id(text: str) -> str:
    """Check that a run id is a UUID and return it normalised.

    Example:
        >>> parse_run_id(" 3FA85F64-5717-4562-B3FC-2C963F66AFA6 ")
        '3fa85f64-5717-4562-b3fc-2c963f66afa6'

    Raises:
        InvalidInputError: When it is not a UUID.
    """
    try:
        return str(uuid.UUID(str(text).strip()))
    except ValueError:
        msg = f"{text!r} is not a run id (run ids are UUIDs such as 3fa85f64-5717-4562-b3fc-2c963f66afa6)"
        raise InvalidInputError(msg) from None


def run_error_text(run_id: str, exc: BaseException) -> str:
    """Like :func:`error_text`, but a missing run is named plainly."""
    if isinstance(exc, NotFoundError):
        return f"There is no run {run_id} (or it is not shared with you)."
    return error_text(exc)


def close_widgets(widgets: Iterable[Any]) -> None:
    """Close widgets and all their children (so replaced rows do not linger in the kernel and front end)."""
    for widget in widgets:
        close_widgets(getattr(widget, "children", ()))
        widget.close()
