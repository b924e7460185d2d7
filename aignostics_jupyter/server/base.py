"""The base handler: authentication, JSON bodies, and the one place that maps our errors to HTTP."""

from __future__ import annotations

import json
from typing import Any, cast

from jupyter_server.base.handlers import APIHandler
from tornado import web

from aignostics_jupyter.exceptions import (
    AignosticsError,
    AuthenticationError,
    ConfigurationError,
    ConflictError,
    GoneError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    PreconditionFailedError,
    RetryableError,
    redact,
)
from aignostics_jupyter.server.services import SETTINGS_KEY, Services

# Most specific first: the first class an error is an instance of decides the status.
_STATUS: tuple[tuple[type[AignosticsError], int], ...] = (
    (GoneError, 410),
    (NotFoundError, 404),
    (PreconditionFailedError, 412),
    (ConflictError, 409),
    (InvalidInputError, 422),
    (AuthenticationError, 401),
    (PermissionDeniedError, 403),
    (ConfigurationError, 500),
    (RetryableError, 503),
)


def status_for(error: AignosticsError) -> int:
    """Return the HTTP status a handler answers with for one of our errors.

    Args:
        error: The error raised by the client, storage or slides code.

    Returns:
        The status code (500 for anything not listed).
    """
    for cls, status in _STATUS:
        if isinstance(error, cls):
            return status
    return 500


class BaseHandler(APIHandler):
    """Base of every aignostics-jupyter handler: authenticated, JSON in and out."""

    @property
    def services(self) -> Services:
        """The services built at extension load."""
        return cast("Services", self.settings[SETTINGS_KEY])

    def json_body(self) -> dict[str, Any]:
        """Parse the request body as a JSON object.

        Raises:
            InvalidInputError: When the body is not a JSON object.
        """
        try:
            body = json.loads(self.request.body or b"{}")
        except ValueError as exc:
            raise InvalidInputError("The request body is not valid JSON") from exc
        if not isinstance(body, dict):
            raise InvalidInputError("The request body must be a JSON object")
        return body

    def write_json(self, payload: Any, status: int = 200) -> None:
        """Answer with a JSON document."""
        self.set_status(status)
        self.finish(json.dumps(payload, default=str))

    def log_exception(self, typ: Any, value: BaseException | None, tb: Any) -> None:
        """Log our own errors as one line (the way Tornado logs its HTTPErrors); anything else with its traceback.

        An error of ours is an answer (a missing path, an unreachable platform), not a bug in the server: a traceback
        for each would bury the real ones. The message is redacted like the answer.
        """
        if isinstance(value, AignosticsError):
            self.log.warning(
                "%d %s %s: %s: %s",
                status_for(value),
                self.request.method,
                self.request.path,
                type(value).__name__,
                redact(value.message),
            )
            return
        super().log_exception(typ, value, tb)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Answer every error as ``{"error": {"type", "message"}}`` with no traceback and no token."""
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, AignosticsError):
            status_code = status_for(exc)
            kind, message = type(exc).__name__, exc.message
        elif isinstance(exc, web.HTTPError):
            kind, message = "HTTPError", (exc.log_message % exc.args if exc.log_message else self._reason)
        else:
            kind, message = "InternalError", "An unexpected error occurred; see the server log"
        self.set_status(status_code)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"error": {"type": kind, "message": redact(str(message))}}))
