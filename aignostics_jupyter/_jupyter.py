"""The entry points Jupyter looks up on the package: lab extension, server extension and IPython extension."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell
    from jupyter_server.serverapp import ServerApp


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    """Tell JupyterLab where the prebuilt lab extension lives (used by development installs)."""
    return [{"src": "labextension", "dest": "aignostics-jupyter"}]


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    """Tell Jupyter Server which module holds the server extension."""
    return [{"module": "aignostics_jupyter"}]


def _load_jupyter_server_extension(server_app: ServerApp) -> None:
    """Register the server extension's services and routes with a running Jupyter server.

    Args:
        server_app: The Jupyter server application.
    """
    from aignostics_jupyter.server.extension import load

    load(server_app)


def load_ipython_extension(ipython: InteractiveShell) -> None:
    """Register the ``%aignostics`` magics (``%load_ext aignostics_jupyter``).

    Args:
        ipython: The running IPython shell.
    """
    from aignostics_jupyter.magics import register

    register(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """Nothing to undo: the magics stay registered until the kernel restarts.

    Args:
        ipython: The running IPython shell.
    """
