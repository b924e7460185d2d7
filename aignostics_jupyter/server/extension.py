"""Loading the server extension: build the services once and register the routes under the base URL."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from jupyter_server.utils import url_path_join

from aignostics_jupyter.server.routes import NAMESPACE, ROUTES
from aignostics_jupyter.server.services import SETTINGS_KEY, Services
from aignostics_jupyter.server.tile_config import AignosticsTileServer

if TYPE_CHECKING:
    from jupyter_server.serverapp import ServerApp


def load(server_app: ServerApp) -> None:
    """Build the services and register every route of :data:`~aignostics_jupyter.server.routes.ROUTES`.

    Args:
        server_app: The running Jupyter server.
    """
    web_app = server_app.web_app
    tile_settings = AignosticsTileServer(config=server_app.config)
    services = Services(
        root_dir=Path(server_app.root_dir).resolve(),
        tiles=tile_settings.service(),
        allow_hidden=bool(getattr(server_app.contents_manager, "allow_hidden", False)),
    )
    web_app.settings[SETTINGS_KEY] = services
    _close_on_shutdown(server_app, services)
    base_url = web_app.settings["base_url"]
    handlers = [(url_path_join(base_url, NAMESPACE, route.pattern), route.handler) for route in ROUTES]
    web_app.add_handlers(".*$", handlers)  # type: ignore[no-untyped-call]
    server_app.log.info(
        "aignostics-jupyter %s: %d routes under %s%s/", services.version, len(handlers), base_url, NAMESPACE
    )
    if tile_settings.warm_up:
        # Once the loop runs (the server has started): start-up is not delayed, the first viewer is not either.
        server_app.io_loop.add_callback(services.start_warm_up, server_app.log)


def _close_on_shutdown(server_app: ServerApp, services: Services) -> None:
    """Stop the tile workers when the server shuts its extensions down.

    A module-style extension gets no stop hook of its own (only ``ExtensionApp`` subclasses do), so this wraps
    the server's ``cleanup_extensions`` step, which ``ServerApp`` awaits on every shutdown path.
    """
    cleanup = server_app.cleanup_extensions

    async def cleanup_extensions() -> None:
        services.close()
        await cleanup()

    server_app.cleanup_extensions = cleanup_extensions  # type: ignore[method-assign]
