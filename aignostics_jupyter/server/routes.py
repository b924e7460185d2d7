"""The route table: every route the extension registers, with an example path for the auth tests.

Patterns are relative to ``{base_url}aignostics-jupyter/``. The examples let a test request every route without
credentials and check that each one refuses.
"""

from __future__ import annotations

from dataclasses import dataclass

from tornado.web import RequestHandler

from aignostics_jupyter.server.health import HealthHandler

NAMESPACE = "aignostics-jupyter"


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


ROUTES: tuple[Route, ...] = (Route(r"api/health", HealthHandler, "api/health"),)
