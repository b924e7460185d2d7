"""A real Jupyter server with the extension loaded and authentication required (pytest-jupyter)."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    """Load the extension and refuse unauthenticated access, as on a hub.

    No tile workers are started in advance (``warm_up``): most tests never ask for a tile, and each server would
    otherwise start worker processes and wait for them at shutdown (``tests/test_viewer_warmup.py`` covers it).
    """
    return {
        "ServerApp": {
            "jpserver_extensions": {"aignostics_jupyter": True},
            "allow_unauthenticated_access": False,
        },
        "AignosticsTileServer": {"warm_up": False},
    }
