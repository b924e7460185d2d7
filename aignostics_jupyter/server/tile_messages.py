"""The tile server's messages, independent of any web framework: a parsed request, a reply, ETag matching.

Example:
    >>> etag_matches('W/"abc", "def"', '"def"')
    True
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aignostics_jupyter.exceptions import InvalidInputError
from aignostics_jupyter.slides.models import EncodedImage

__all__ = ["TILE_CACHE_CONTROL", "ApiReply", "ApiRequest", "etag_matches", "parse_tile_args"]

TILE_CACHE_CONTROL = "private, max-age=3600"


@dataclass(frozen=True)
class ApiRequest:
    """A request, parsed by the web adapter.

    Attributes:
        args: The groups the endpoint's pattern captured.
        query: The first value of each query argument.
        headers: Request headers the operations look at (``If-None-Match``), lower-case names.
        body: The request body.
    """

    args: tuple[str, ...] = ()
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    def text(self, name: str, default: str | None = None) -> str:
        """A query argument, or ``default``; required when no default is given.

        Raises:
            InvalidInputError: When a required argument is missing.
        """
        value = self.query.get(name, default)
        if value is None:
            raise InvalidInputError(f"The query argument {name!r} is required.")
        return value

    def number(self, name: str, default: float | None = None) -> float:
        """A finite numeric query argument.

        Raises:
            InvalidInputError: When it is missing (and has no default) or not a finite number.
        """
        text = self.query.get(name)
        if text is None:
            if default is None:
                raise InvalidInputError(f"The query argument {name!r} is required.")
            return default
        try:
            value = float(text)
        except ValueError as exc:
            raise InvalidInputError(f"The query argument {name!r} must be a number.") from exc
        if not math.isfinite(value):
            raise InvalidInputError(f"The query argument {name!r} must be a finite number.")
        return value

    def json(self) -> dict[str, Any]:
        """The body as a JSON object.

        Raises:
            InvalidInputError: When it is not one.
        """
        try:
            document = json.loads(self.body or b"{}")
        except ValueError as exc:
            raise InvalidInputError("The request body is not valid JSON.") from exc
        if not isinstance(document, dict):
            raise InvalidInputError("The request body must be a JSON object.")
        return document


@dataclass(frozen=True)
class ApiReply:
    """What to answer: status, body, media type and extra headers."""

    status: int = 200
    body: bytes = b""
    media_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of_json(cls, document: Any, status: int = 200) -> ApiReply:
        """A JSON reply."""
        return cls(status=status, body=json.dumps(document, default=str).encode())

    @classmethod
    def not_modified(cls, etag: str, cache_control: str = TILE_CACHE_CONTROL) -> ApiReply:
        """A 304 answer to a matching ``If-None-Match``."""
        return cls(status=304, headers=_cache_headers(etag, cache_control))

    @classmethod
    def of_image(cls, image: EncodedImage, cache_control: str = TILE_CACHE_CONTROL) -> ApiReply:
        """An image reply with its ETag and caching headers."""
        return cls(body=image.data, media_type=image.media_type, headers=_cache_headers(image.etag, cache_control))


def _cache_headers(etag: str, cache_control: str) -> tuple[tuple[str, str], ...]:
    return (("ETag", etag), ("Cache-Control", cache_control))


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Whether an ``If-None-Match`` header names ``etag`` (weak comparison, ``*`` matches)."""
    if not if_none_match:
        return False
    wanted = etag.removeprefix("W/")
    return any(part.strip().removeprefix("W/") in ("*", wanted) for part in if_none_match.split(","))


def parse_tile_args(args: tuple[str, ...]) -> tuple[int, int, int, str]:
    """``(z, t_x, t_y, fmt)`` from the captured ``z``, ``x``, ``y`` and extension.

    Raises:
        InvalidInputError: When an index is not an integer of sensible size.
    """
    z_text, x_text, y_text, fmt = args
    try:
        z, t_x, t_y = int(z_text), int(x_text), int(y_text)
    except ValueError as exc:
        raise InvalidInputError("Tile indices must be integers.") from exc
    if max(abs(z), abs(t_x), abs(t_y)) > 2**31:
        raise InvalidInputError("Tile indices are out of range.")
    return z, t_x, t_y, fmt
