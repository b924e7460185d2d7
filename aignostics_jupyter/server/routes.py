"""The route table: every route the extension registers, with an example path for the auth tests.

Patterns are relative to ``{base_url}aignostics-jupyter/``. The examples let a test request every route without
credentials and check that each one refuses.
"""

from __future__ import annotations

from dataclasses import dataclass

from tornado.web import RequestHandler

from aignostics_jupyter.server.api_handlers import (
    ApplicationsHandler,
    BucketDeleteHandler,
    BucketDownloadHandler,
    BucketHandler,
    BucketSignHandler,
    BucketUploadHandler,
    RunCancelHandler,
    RunDownloadHandler,
    RunHandler,
    RunsHandler,
    SessionHandler,
)
from aignostics_jupyter.server.health import HealthHandler
from aignostics_jupyter.server.slides_routes import (
    OverlayFeaturesHandler,
    OverlayInfoHandler,
    OverlayRegisterHandler,
    OverlayTileHandler,
    SlideAssociatedHandler,
    SlideInfoHandler,
    SlidesHandler,
    SlideThumbnailHandler,
    SlideTileHandler,
)

NAMESPACE = "aignostics-jupyter"
_RUN = r"api/runs/([0-9A-Za-z-]{1,64})"
_RUN_EXAMPLE = "api/runs/00000000-0000-4000-8000-000000000000"


@dataclass(frozen=True)
class Route:
    """One registered route.

    Attributes:
        pattern: The tornado pattern, relative to the namespace.
        handler: The handler class.
        example: A concrete path matching the pattern (for tests).
        methods: The HTTP methods the handler implements.
    """

    pattern: str
    handler: type[RequestHandler]
    example: str
    methods: tuple[str, ...] = ("GET",)


def _slides(handler: type[SlidesHandler]) -> Route:
    """The row of a tile server handler: pattern, example and method come from its endpoint."""
    endpoint = handler.endpoint
    return Route(endpoint.pattern, handler, endpoint.example, (endpoint.method,))


ROUTES: tuple[Route, ...] = (
    Route(r"api/health", HealthHandler, "api/health"),
    # The sidebar's REST API (specification/rest-api.yml).
    Route(r"api/session", SessionHandler, "api/session", ("GET", "POST", "DELETE")),
    Route(r"api/runs", RunsHandler, "api/runs?state=PROCESSING"),
    Route(_RUN, RunHandler, _RUN_EXAMPLE),
    Route(rf"{_RUN}/cancel", RunCancelHandler, f"{_RUN_EXAMPLE}/cancel", ("POST",)),
    Route(rf"{_RUN}/download", RunDownloadHandler, f"{_RUN_EXAMPLE}/download", ("GET", "POST")),
    Route(r"api/applications", ApplicationsHandler, "api/applications"),
    Route(r"api/bucket", BucketHandler, "api/bucket?prefix=me/"),
    Route(r"api/bucket/upload", BucketUploadHandler, "api/bucket/upload", ("POST",)),
    Route(r"api/bucket/download", BucketDownloadHandler, "api/bucket/download", ("POST",)),
    Route(r"api/bucket/delete", BucketDeleteHandler, "api/bucket/delete", ("POST",)),
    Route(r"api/bucket/sign", BucketSignHandler, "api/bucket/sign", ("POST",)),
    _slides(SlideInfoHandler),  # GET slides/info?path=
    _slides(SlideTileHandler),  # GET slides/tiles/{z}/{x}/{y}.jpg?path=
    _slides(SlideThumbnailHandler),  # GET slides/thumbnail?path=&size=
    _slides(SlideAssociatedHandler),  # GET slides/associated/{name}?path=
    _slides(OverlayRegisterHandler),  # POST overlays
    _slides(OverlayInfoHandler),  # GET overlays/{id}
    _slides(OverlayTileHandler),  # GET overlays/{id}/tiles/{z}/{x}/{y}.png
    _slides(OverlayFeaturesHandler),  # GET overlays/{id}/features?x=&y=
)
