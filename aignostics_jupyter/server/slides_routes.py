"""Tile server routes of the Jupyter server extension: slides and overlays under ``{base_url}aignostics-jupyter/``.

One thin handler class per :data:`~aignostics_jupyter.server.slides_api.ENDPOINTS` row: parse the request into
an :class:`~aignostics_jupyter.server.tile_messages.ApiRequest`, call the
:class:`~aignostics_jupyter.server.slides_api.SlidesAPI` built at extension load, write the reply. Every verb
is ``@web.authenticated``; errors become JSON in :class:`~aignostics_jupyter.server.base.BaseHandler`. Slide
paths are query arguments relative to the server's root directory (``?path=slides/a.svs``); the whole URL scheme
is in :mod:`~aignostics_jupyter.server.urls`.
"""

from __future__ import annotations

from typing import ClassVar

from jupyter_server.base.handlers import APIHandler
from tornado import web

from aignostics_jupyter.server.base import BaseHandler
from aignostics_jupyter.server.slides_api import Endpoint, SlidesAPI, endpoint_named
from aignostics_jupyter.server.tile_messages import ApiReply, ApiRequest

__all__ = [
    "OverlayFeaturesHandler",
    "OverlayInfoHandler",
    "OverlayRegisterHandler",
    "OverlayTileHandler",
    "SlideAssociatedHandler",
    "SlideInfoHandler",
    "SlideThumbnailHandler",
    "SlideTileHandler",
    "SlidesHandler",
    "write_reply",
]


def write_reply(handler: web.RequestHandler, reply: ApiReply) -> None:
    """Write an :class:`ApiReply` through a tornado handler (also used by the fallback server)."""
    handler.set_status(reply.status)
    for name, value in reply.headers:
        handler.set_header(name, value)
    if reply.status == 304:
        handler.finish()
    elif isinstance(handler, APIHandler):
        # Jupyter's APIHandler forces application/json unless told otherwise.
        handler.finish(reply.body, set_content_type=reply.media_type)
    else:
        handler.set_header("Content-Type", reply.media_type)
        handler.finish(reply.body)


def api_request(handler: web.RequestHandler, args: tuple[str, ...]) -> ApiRequest:
    """The :class:`ApiRequest` of a tornado request (first value of each query argument, decoded once).

    Query values are taken raw: tornado's ``get_query_argument`` would strip whitespace and silently drop control
    characters, and path confinement should see (and refuse) exactly what was sent.
    """
    query = {
        name: values[0].decode("utf-8", errors="surrogateescape")
        for name, values in handler.request.query_arguments.items()
        if values
    }
    headers = {"if-none-match": handler.request.headers.get("If-None-Match", "")}
    return ApiRequest(args=args, query=query, headers=headers, body=handler.request.body or b"")


class SlidesHandler(BaseHandler):
    """Base of the tile server handlers: runs :attr:`endpoint`'s operation on the shared :class:`SlidesAPI`."""

    endpoint: ClassVar[Endpoint]

    @property
    def slides(self) -> SlidesAPI:
        """The API built at extension load."""
        return self.services.slides

    async def run(self, *args: str) -> None:
        """Parse, call, write."""
        reply = await type(self).endpoint.operation(self.slides, api_request(self, args))
        write_reply(self, reply)


class SlideInfoHandler(SlidesHandler):
    """``GET slides/info?path=``: the slide's description."""

    endpoint = endpoint_named("slide_info")

    @web.authenticated
    async def get(self) -> None:
        """Answer the slide info as JSON."""
        await self.run()


class SlideTileHandler(SlidesHandler):
    """``GET slides/tiles/{z}/{x}/{y}.jpg?path=``: one slide tile, with ETag and Cache-Control."""

    endpoint = endpoint_named("slide_tile")

    @web.authenticated
    async def get(self, z: str, x: str, y: str, ext: str) -> None:
        """Answer the tile (304 when the ETag matches)."""
        await self.run(z, x, y, ext)


class SlideThumbnailHandler(SlidesHandler):
    """``GET slides/thumbnail?path=&size=``: the whole slide, small."""

    endpoint = endpoint_named("slide_thumbnail")

    @web.authenticated
    async def get(self) -> None:
        """Answer the thumbnail."""
        await self.run()


class SlideAssociatedHandler(SlidesHandler):
    """``GET slides/associated/{name}?path=``: the label or macro image."""

    endpoint = endpoint_named("slide_associated")

    @web.authenticated
    async def get(self, name: str) -> None:
        """Answer the associated image."""
        await self.run(name)


class OverlayRegisterHandler(SlidesHandler):
    """``POST overlays`` with ``{"slide", "path", "style"}``: the overlay's id and description."""

    endpoint = endpoint_named("overlay_register")

    @web.authenticated
    async def post(self) -> None:
        """Register (validate and index) an overlay."""
        await self.run()


class OverlayInfoHandler(SlidesHandler):
    """``GET overlays/{id}``: the overlay's description."""

    endpoint = endpoint_named("overlay_info")

    @web.authenticated
    async def get(self, overlay_id: str) -> None:
        """Answer the description."""
        await self.run(overlay_id)


class OverlayTileHandler(SlidesHandler):
    """``GET overlays/{id}/tiles/{z}/{x}/{y}.png``: one overlay tile with alpha."""

    endpoint = endpoint_named("overlay_tile")

    @web.authenticated
    async def get(self, overlay_id: str, z: str, x: str, y: str, ext: str) -> None:
        """Answer the overlay tile."""
        await self.run(overlay_id, z, x, y, ext)


class OverlayFeaturesHandler(SlidesHandler):
    """``GET overlays/{id}/features?x=&y=&radius=``: features at a point (base pixels)."""

    endpoint = endpoint_named("overlay_features")

    @web.authenticated
    async def get(self, overlay_id: str) -> None:
        """Answer the features."""
        await self.run(overlay_id)
