"""Services the server extension builds once at load time and shares with every handler."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from aignostics_jupyter._version import __version__
from aignostics_jupyter.settings import Settings, get_settings

SETTINGS_KEY = "aignostics_jupyter"


@dataclass
class Services:
    """What handlers need, built once per server.

    Attributes:
        root_dir: The server's root directory; workspace and slide paths are confined to it.
        settings: The ``AIGNOSTICS_*`` settings the server was started with.
        version: The package version.
    """

    root_dir: Path
    settings: Settings = field(default_factory=get_settings)
    version: str = __version__
