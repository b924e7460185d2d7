"""The tile server's URL scheme, shared by the server, the kernel-side fallback server and the viewer.

Every URL lies under a **prefix**: the Jupyter server's base URL (``/user/demo/``; root-relative, for the
browser, which authenticates with its cookie) or the fallback server's ``http://127.0.0.1:<port>/<token>/``.
Below it, under ``aignostics-jupyter/``::

    slides/info?path=P                              slide description (JSON)
    slides/tiles/{z}/{x}/{y}.jpg?path=P&v=SIG       slide tiles (Leaflet z/x/y, CRS.Simple; also .png/.webp)
    slides/thumbnail?path=P&size=512                whole-slide thumbnail
    slides/associated/{name}?path=P                 label / macro image
    overlays                                        POST {"slide", "path", "style"} -> overlay description
    overlays/{id}                                   overlay description (legend, bounds)
    overlays/{id}/tiles/{z}/{x}/{y}.png?v=SIG       overlay tiles with alpha (also .webp)
    overlays/{id}/features?x=&y=&radius=            features at a point (base pixels)

``P`` is the slide's path **relative to the server's root directory**, ``/``-separated, URL-encoded; ``SIG``
is the slide's signature (a cache buster: tiles are cacheable, and a changed file gets new URLs). An overlay id
is stateless: it encodes the slide path, the overlay file path and the style, so it survives a server restart
and the kernel can compute it without asking the server. This module imports no web framework.

Example:
    >>> slide_tile_url("/user/demo/", "slides/a b.svs", "f00d")
    '/user/demo/aignostics-jupyter/slides/tiles/{z}/{x}/{y}.jpg?path=slides%2Fa%20b.svs&v=f00d'
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any
from urllib.parse import quote

from pydantic import ValidationError

from aignostics_jupyter.exceptions import InvalidInputError
from aignostics_jupyter.slides.overlays.loader import OverlaySpec
from aignostics_jupyter.slides.overlays.models import OverlayStyle

__all__ = [
    "NAMESPACE",
    "OVERLAY_ID_PREFIX",
    "OverlayRef",
    "decode_overlay_id",
    "encode_overlay_id",
    "namespace_url",
    "overlay_tile_url",
    "slide_tile_url",
]

NAMESPACE = "aignostics-jupyter"
OVERLAY_ID_PREFIX = "ov1."
_MAX_ID_LENGTH = 4096


def _q(text: str) -> str:
    return quote(text, safe="")


def namespace_url(prefix: str) -> str:
    """``{prefix}aignostics-jupyter/`` (adds the slash a prefix may lack)."""
    return f"{prefix.rstrip('/')}/{NAMESPACE}/"


def slide_tile_url(prefix: str, path: str, signature: str = "", fmt: str = "jpg") -> str:
    """The Leaflet URL template of a slide's tiles.

    Args:
        prefix: Server base URL (``/user/demo/``) or fallback server prefix.
        path: The slide's path relative to the server's root directory.
        signature: The slide's signature (cache buster), optional.
        fmt: ``jpg``, ``png`` or ``webp``.
    """
    version = f"&v={_q(signature)}" if signature else ""
    return f"{namespace_url(prefix)}slides/tiles/{{z}}/{{x}}/{{y}}.{fmt}?path={_q(path)}{version}"


def slide_url(prefix: str, what: str, path: str, **query: Any) -> str:
    """URL of a slide resource (``info``, ``thumbnail``, ``associated/label``) with its query."""
    extra = "".join(f"&{key}={_q(str(value))}" for key, value in query.items())
    return f"{namespace_url(prefix)}slides/{what}?path={_q(path)}{extra}"


class OverlayRef:
    """What an overlay id encodes: the slide, the overlay file and how to read it, and how to draw it.

    Both paths are relative to the tile server's root directory.

    Attributes:
        slide: The slide's path relative to the server's root directory.
        spec: The overlay file (``spec.path`` relative to the root) and its interpretation (kind, class colours
            and names, mpp: the artifact's metadata).
        style: How it is drawn.
    """

    __slots__ = ("slide", "spec", "style")

    def __init__(self, slide: str, spec: OverlaySpec | str, style: OverlayStyle | None = None) -> None:
        self.slide = slide
        self.spec = spec if isinstance(spec, OverlaySpec) else OverlaySpec(path=spec)
        self.style = style or OverlayStyle()

    @property
    def path(self) -> str:
        """The overlay file's path relative to the root."""
        return self.spec.path

    def __eq__(self, other: object) -> bool:
        return isinstance(other, OverlayRef) and self.id == other.id

    def __hash__(self) -> int:
        return hash(self.id)

    def __repr__(self) -> str:
        return f"OverlayRef(slide={self.slide!r}, spec={self.spec!r}, style={self.style!r})"

    @property
    def id(self) -> str:
        """The stateless overlay id (see :func:`encode_overlay_id`)."""
        return encode_overlay_id(self)


def encode_overlay_id(ref: OverlayRef) -> str:
    """``ov1.`` + base64url(compact JSON of the slide, the spec and the style's non-default fields).

    Example:
        >>> encode_overlay_id(OverlayRef("s.svs", "cells.geojson"))
        'ov1.eyJwIjp7InBhdGgiOiJjZWxscy5nZW9qc29uIn0sInMiOiJzLnN2cyJ9'
    """
    document: dict[str, Any] = {"p": ref.spec.model_dump(mode="json", exclude_defaults=True), "s": ref.slide}
    style = ref.style.model_dump(mode="json", exclude_defaults=True)
    if style:
        document["st"] = style
    text = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return OVERLAY_ID_PREFIX + base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_overlay_id(overlay_id: str) -> OverlayRef:
    """The :class:`OverlayRef` an id encodes (paths still to be confined by the caller).

    Raises:
        InvalidInputError: When the id is not one :func:`encode_overlay_id` makes.
    """
    bad = InvalidInputError("The overlay id is not valid; register the overlay again.")
    if not overlay_id.startswith(OVERLAY_ID_PREFIX) or len(overlay_id) > _MAX_ID_LENGTH:
        raise bad
    payload = overlay_id.removeprefix(OVERLAY_ID_PREFIX)
    try:
        document = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, binascii.Error) as exc:
        raise bad from exc
    if not isinstance(document, dict) or not isinstance(document.get("s"), str):
        raise bad
    if not isinstance(document.get("p"), dict):
        raise bad
    try:
        spec = OverlaySpec.model_validate(document["p"])
        style = OverlayStyle.model_validate(document.get("st") or {})
    except ValidationError as exc:
        raise bad from exc
    return OverlayRef(document["s"], spec, style)


def overlay_tile_url(prefix: str, overlay_id: str, fmt: str = "png", version: str = "") -> str:
    """The Leaflet URL template of an overlay's tiles (``version``: a cache buster that changes with the files)."""
    query = f"?v={_q(version)}" if version else ""
    return f"{namespace_url(prefix)}overlays/{overlay_id}/tiles/{{z}}/{{x}}/{{y}}.{fmt}{query}"
