"""``GET {base_url}aignostics-jupyter/api/health``: version and the status of each component."""

from __future__ import annotations

from typing import Any

import httpx
from tornado import web

from aignostics_jupyter.server.base import BaseHandler
from aignostics_jupyter.settings import Settings

PLATFORM_PROBE_TIMEOUT = 3.0


def slide_stack_status() -> dict[str, Any]:
    """Report whether the native slide libraries load, with their versions."""
    try:
        import openslide
        import pydicom
    except (ImportError, OSError) as exc:
        return {"status": "error", "message": f"the slide libraries could not be loaded: {exc}"}
    return {
        "status": "ok",
        "openslide": openslide.__library_version__,
        "openslide_python": openslide.__version__,
        "pydicom": pydicom.__version__,
    }


async def platform_status(settings: Settings, transport: httpx.AsyncBaseTransport | None = None) -> dict[str, Any]:
    """Probe the platform's unauthenticated health route.

    Args:
        settings: Which platform to probe.
        transport: An httpx transport (tests inject one).

    Returns:
        ``{"status": "ok" | "unreachable" | "error", "api_root", "local", ...}``.
    """
    info: dict[str, Any] = {"api_root": settings.api_root, "local": settings.is_local}
    try:
        async with httpx.AsyncClient(timeout=PLATFORM_PROBE_TIMEOUT, transport=transport) as http:
            response = await http.get(f"{settings.api_v1}/health")
    except httpx.HTTPError as exc:
        return {**info, "status": "unreachable", "message": f"{type(exc).__name__} reaching {settings.api_root}"}
    if response.status_code == 200:
        return {**info, "status": "ok"}
    return {**info, "status": "error", "message": f"the platform answered HTTP {response.status_code}"}


class HealthHandler(BaseHandler):
    """Version and component status of the extension, as JSON."""

    @web.authenticated
    async def get(self) -> None:
        """Answer the health report."""
        services = self.services
        components = {
            "server_extension": {"status": "ok", "root_dir": str(services.root_dir)},
            "slides": slide_stack_status(),
            "platform": await platform_status(services.settings),
        }
        own = ("server_extension", "slides")
        status = "ok" if all(components[name]["status"] == "ok" for name in own) else "error"
        self.write_json(
            {"name": "aignostics-jupyter", "version": services.version, "status": status, "components": components}
        )
