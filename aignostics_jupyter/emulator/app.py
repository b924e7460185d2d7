"""The local platform as a FastAPI application: ``create_app(config)``.

Routes: the 26 operations of API v1 under ``/api/v1`` plus ``GET /api/v1/health``, the identity provider
(:mod:`.oauth`) and the buckets (:mod:`.storage_routes`). The runner starts and stops with the application's
lifespan, so ``TestClient(create_app(config))`` used as a context manager also processes runs.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aignostics_jupyter.emulator import api_access, api_applications, api_items, api_runs, oauth, storage_routes
from aignostics_jupyter.emulator.config import EmulatorConfig
from aignostics_jupyter.emulator.part_endpoint import PartEndpoint
from aignostics_jupyter.emulator.services import Services
from aignostics_jupyter.emulator.worker import AnalyseFn

__all__ = ["create_app"]

_log = logging.getLogger(__name__)


class BodyLimitMiddleware:
    """Answer 413 to API and OAuth requests whose body exceeds the limit (storage uploads are exempt)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in ("POST", "PUT", "PATCH")
            or scope["path"].startswith("/storage/")
        ):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._too_large(send)
            return
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.limit:
                await self._too_large(send)
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, send: Send) -> None:
        response = JSONResponse({"detail": f"request body too large (limit {self.limit} bytes)"}, status_code=413)
        await response({"type": "http", "method": "POST", "headers": []}, _noop_receive, send)


async def _noop_receive() -> Message:  # pragma: no cover - a JSONResponse never reads
    return {"type": "http.disconnect"}


def _start_part_endpoint(services: Services) -> PartEndpoint | None:
    """Start the part endpoint on the public URL's host (None: switched off, no public URL, or it cannot bind)."""
    config = services.config
    host = urlsplit(config.public_url).hostname if config.public_url else None
    if not config.part_endpoint or not host:
        return None
    try:
        endpoint = PartEndpoint(services, host).start()
    except OSError as exc:  # e.g. a public host name that is not an address of this machine
        _log.warning("no part endpoint on %s (%s); multipart uploads go through the API port", host, exc)
        return None
    services.part_endpoint = endpoint.url
    return endpoint


def create_app(
    config: EmulatorConfig, *, services: Services | None = None, analyse: AnalyseFn | None = None
) -> FastAPI:
    """Build the local platform's ASGI application.

    Args:
        config: The instance configuration.
        services: Already opened services (default: opened from ``config.data_dir``).
        analyse: An analysis callable for the runner instead of ``config.analyser`` (tests).

    Returns:
        The FastAPI app; its lifespan starts and stops the runner (when ``config.runner_enabled``).

    Example:
        >>> from fastapi.testclient import TestClient  # doctest: +SKIP
        >>> with TestClient(create_app(EmulatorConfig(data_dir=tmp))) as client:  # doctest: +SKIP
        ...     client.get("/api/v1/health").json()
        {'status': 'UP'}
    """
    opened = services or Services.open(config)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from aignostics_jupyter.emulator.runner import Runner

        runner = Runner(opened, analyse=analyse) if config.runner_enabled else None
        if runner is not None:
            runner.start()
            opened.runner = runner
        endpoint = _start_part_endpoint(opened)
        try:
            yield
        finally:
            if endpoint is not None:
                opened.part_endpoint = None
                endpoint.stop()
            if runner is not None:
                runner.stop()
                opened.runner = None

    app = FastAPI(
        title="Aignostics Platform API (local platform)",
        version="1.7.0",
        lifespan=lifespan,
        docs_url="/api/docs",
        openapi_url="/api/openapi.json",
    )
    app.state.services = opened
    app.add_middleware(BodyLimitMiddleware, limit=config.max_json_body)

    @app.get("/api/v1/health", tags=["health"])
    def health() -> dict[str, str]:
        """Liveness: 200 without authentication."""
        return {"status": "UP"}

    for module in (api_applications, api_runs, api_items, api_access):
        app.include_router(module.router, prefix="/api")
    app.include_router(oauth.router)
    app.include_router(storage_routes.router)

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception) -> JSONResponse:
        _log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse({"detail": f"internal server error ({type(exc).__name__})"}, status_code=500)

    return app
