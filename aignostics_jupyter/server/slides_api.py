"""The tile server's operations, independent of any web framework.

:class:`SlidesAPI` turns a parsed request into a reply (:mod:`~aignostics_jupyter.server.tile_messages`) by confining
the paths to the root directory and calling the slides :class:`~aignostics_jupyter.slides.service.TileService`,
whose reading and encoding run in worker processes, never on the caller's event loop. Errors are raised as
:class:`~aignostics_jupyter.exceptions.AignosticsError`; each web adapter maps them to HTTP in one place. Two
adapters use it: the Jupyter server extension (:mod:`~aignostics_jupyter.server.slides_routes`) and the kernel-side
fallback server (:mod:`~aignostics_jupyter.server.loopback`); :data:`ENDPOINTS` is the table both dispatch on.
The URL scheme is documented in :mod:`~aignostics_jupyter.server.urls`.

Example:
    >>> api = SlidesAPI(root=Path("/srv/notebooks"), tiles=TileService())  # doctest: +SKIP
    >>> request = ApiRequest(args=("3", "1", "0", "jpg"), query={"path": "slides/a.svs"})
    >>> reply = await api.tile(request)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aignostics_jupyter.exceptions import InvalidInputError
from aignostics_jupyter.server.overlay_api import OverlayAPI
from aignostics_jupyter.server.paths import confine
from aignostics_jupyter.server.tile_messages import (
    ApiReply,
    ApiRequest,
    etag_matches,
    parse_tile_args,
)
from aignostics_jupyter.slides.service import TileService

__all__ = ["ENDPOINTS", "Endpoint", "SlidesAPI", "endpoint_named"]

_THUMBNAIL_SIZES = (16, 2048)


class SlidesAPI:
    """Slide and overlay operations on files confined to one root directory.

    Args:
        root: The directory every path is relative to (resolved here).
        tiles: The tile service (owned by the caller, who closes it).
        allow_hidden: Whether paths may have segments starting with ``.``.
    """

    def __init__(self, root: Path, tiles: TileService, *, allow_hidden: bool = False) -> None:
        self.root = Path(root).resolve()
        self.tiles = tiles
        self.allow_hidden = allow_hidden
        self.overlays = OverlayAPI(self)

    def confine(self, relative: str) -> Path:
        """Resolve a request path inside the root (see :func:`~aignostics_jupyter.server.paths.confine`)."""
        return confine(self.root, relative, allow_hidden=self.allow_hidden)

    async def slide_info(self, relative: str) -> dict[str, Any]:
        """The slide description with ``path`` relative to the root (the root itself is never disclosed)."""
        info = await self.tiles.info(self.confine(relative))
        return {**info.model_dump(mode="json"), "path": relative}

    async def info(self, request: ApiRequest) -> ApiReply:
        """``slides/info?path=``: the slide's :class:`~aignostics_jupyter.slides.models.SlideInfo` as JSON."""
        return ApiReply.of_json(await self.slide_info(request.text("path")))

    async def tile(self, request: ApiRequest) -> ApiReply:
        """``slides/tiles/{z}/{x}/{y}.{ext}?path=``: one tile; 304 when ``If-None-Match`` names its ETag."""
        z, t_x, t_y, fmt = parse_tile_args(request.args)
        path = self.confine(request.text("path"))
        etag = self.tiles.tile_etag(path, z, t_x, t_y, fmt=fmt)
        if etag_matches(request.headers.get("if-none-match"), etag):
            return ApiReply.not_modified(etag)
        return ApiReply.of_image(await self.tiles.get_tile(path, z, t_x, t_y, fmt=fmt))

    async def thumbnail(self, request: ApiRequest) -> ApiReply:
        """``slides/thumbnail?path=&size=512&format=jpeg``: the whole slide in at most ``size`` pixels."""
        size = int(request.number("size", 512))
        if not _THUMBNAIL_SIZES[0] <= size <= _THUMBNAIL_SIZES[1]:
            raise InvalidInputError(
                f"The thumbnail size must be between {_THUMBNAIL_SIZES[0]} and {_THUMBNAIL_SIZES[1]}."
            )
        path = self.confine(request.text("path"))
        return ApiReply.of_image(await self.tiles.thumbnail(path, size, request.text("format", "jpeg")))

    async def associated(self, request: ApiRequest) -> ApiReply:
        """``slides/associated/{name}?path=``: the ``label``, ``macro`` or ``thumbnail`` image."""
        (name,) = request.args
        path = self.confine(request.text("path"))
        return ApiReply.of_image(await self.tiles.associated(path, name, request.text("format", "jpeg")))

    async def register_overlay(self, request: ApiRequest) -> ApiReply:
        """``POST overlays``: validate an overlay, build its index and answer its description with its id."""
        return ApiReply.of_json(await self.overlays.register(request.json()))

    async def overlay_info(self, request: ApiRequest) -> ApiReply:
        """``overlays/{id}``: the overlay's description (legend classes, bounds, counts)."""
        (overlay_id,) = request.args
        return ApiReply.of_json(await self.overlays.describe(overlay_id))

    async def overlay_tile(self, request: ApiRequest) -> ApiReply:
        """``overlays/{id}/tiles/{z}/{x}/{y}.{png|webp}``: one transparent overlay tile."""
        overlay_id, *tile_args = request.args
        z, t_x, t_y, fmt = parse_tile_args(tuple(tile_args))
        return await self.overlays.tile(overlay_id, (z, t_x, t_y), fmt, request.headers.get("if-none-match"))

    async def overlay_features(self, request: ApiRequest) -> ApiReply:
        """``overlays/{id}/features?x=&y=&radius=``: the features at a point given in base pixels."""
        (overlay_id,) = request.args
        point = (request.number("x"), request.number("y"))
        radius = request.number("radius", 0.0)
        return ApiReply.of_json(await self.overlays.features(overlay_id, point, radius))


Operation = Callable[[SlidesAPI, ApiRequest], Awaitable[ApiReply]]

_TILE = r"(-?\d+)/(-?\d+)/(-?\d+)\.(jpg|jpeg|png|webp)"
_OVERLAY_ID = r"(ov1\.[A-Za-z0-9_-]+)"


@dataclass(frozen=True)
class Endpoint:
    """One operation of the tile server: pattern (relative to the namespace), method and operation.

    Attributes:
        name: A short name (handlers look their endpoint up by it).
        pattern: A regular expression matched against the path below ``aignostics-jupyter/``.
        method: ``GET`` or ``POST``.
        operation: The :class:`SlidesAPI` method.
        example: A concrete path matching ``pattern`` (for tests).
    """

    name: str
    pattern: str
    method: str
    operation: Operation
    example: str


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("slide_info", r"slides/info", "GET", SlidesAPI.info, "slides/info?path=s.svs"),
    Endpoint("slide_tile", rf"slides/tiles/{_TILE}", "GET", SlidesAPI.tile, "slides/tiles/0/0/0.jpg?path=s.svs"),
    Endpoint("slide_thumbnail", r"slides/thumbnail", "GET", SlidesAPI.thumbnail, "slides/thumbnail?path=s.svs"),
    Endpoint(
        "slide_associated",
        r"slides/associated/([A-Za-z0-9_-]+)",
        "GET",
        SlidesAPI.associated,
        "slides/associated/label?path=s.svs",
    ),
    Endpoint("overlay_register", r"overlays", "POST", SlidesAPI.register_overlay, "overlays"),
    Endpoint("overlay_info", rf"overlays/{_OVERLAY_ID}", "GET", SlidesAPI.overlay_info, "overlays/ov1.e30"),
    Endpoint(
        "overlay_tile",
        rf"overlays/{_OVERLAY_ID}/tiles/{_TILE}",
        "GET",
        SlidesAPI.overlay_tile,
        "overlays/ov1.e30/tiles/0/0/0.png",
    ),
    Endpoint(
        "overlay_features",
        rf"overlays/{_OVERLAY_ID}/features",
        "GET",
        SlidesAPI.overlay_features,
        "overlays/ov1.e30/features?x=1&y=1",
    ),
)


def endpoint_named(name: str) -> Endpoint:
    """The row of :data:`ENDPOINTS` called ``name``."""
    for endpoint in ENDPOINTS:
        if endpoint.name == name:
            return endpoint
    raise KeyError(name)
