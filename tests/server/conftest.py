"""A real Jupyter server with the extension loaded and authentication required (pytest-jupyter)."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    """Load the extension and refuse unauthenticated access, as on a hub."""
    return {
        "ServerApp": {
            "jpserver_extensions": {"aignostics_jupyter": True},
            "allow_unauthenticated_access": False,
        }
    }
