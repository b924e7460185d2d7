"""How the server extension's tile service is set up, configurable like any Jupyter setting.

In ``jupyter_server_config.py``::

    c.AignosticsTileServer.workers = 4          # worker processes (0: one per CPU, at most 4)
    c.AignosticsTileServer.cache_mb = 512       # bound of the encoded-tile cache
    c.AignosticsTileServer.mode = "process"     # or "thread" (no worker processes; small setups, tests)
    c.AignosticsTileServer.overlay_cache_dir = "/var/cache/overlays"   # parsed GeoJSON (.features)
    c.AignosticsTileServer.warm_up = False      # start the workers on the first tile, not at server start

or on the command line: ``jupyter lab --AignosticsTileServer.cache_mb=512``.
"""

from __future__ import annotations

import os
from pathlib import Path

from traitlets import Bool, Enum, Int, Unicode
from traitlets.config import Config, Configurable

from aignostics_jupyter.slides.service import TileService

__all__ = ["DEFAULT_MAX_WORKERS", "AignosticsTileServer"]

DEFAULT_MAX_WORKERS = 4


class AignosticsTileServer(Configurable):
    """Settings of the tile service the server extension builds once at load."""

    workers = Int(0, help="Tile worker processes (0: one per CPU, at most 4).").tag(config=True)
    mode = Enum(["process", "thread"], "process", help="Render in worker processes or threads.").tag(config=True)
    cache_mb = Int(256, help="Bound of the encoded-tile cache in MiB.").tag(config=True)
    max_open = Int(16, help="Slides each worker keeps open.").tag(config=True)
    jpeg_quality = Int(80, help="JPEG quality of slide tiles.").tag(config=True)
    overlay_cache_dir = Unicode("", help="Where parsed GeoJSON overlays are cached (default: a private temp dir).").tag(
        config=True
    )
    warm_up = Bool(
        True,
        help="Start the tile workers in the background once the server runs, so the first viewer's tiles do not "
        "wait for them (each takes seconds to start: a new Python process importing the server's and the readers' "
        "modules). False: start them on the first tile request.",
    ).tag(config=True)

    @classmethod
    def build(cls, config: Config | None = None) -> TileService:
        """A :class:`TileService` set up from ``config`` (the server's configuration)."""
        return cls(config=config).service()

    def service(self) -> TileService:
        """A :class:`TileService` set up from these settings."""
        return TileService(
            # Each worker holds its own open slides and overlay indexes (hundreds of MB with large overlays): on a
            # many-core hub node one per CPU would multiply that per user.
            workers=self.workers or min(DEFAULT_MAX_WORKERS, os.cpu_count() or 1),
            mode="thread" if self.mode == "thread" else "process",
            cache_bytes=self.cache_mb * 2**20,
            max_open=self.max_open,
            jpeg_quality=self.jpeg_quality,
            overlay_cache_dir=Path(self.overlay_cache_dir) if self.overlay_cache_dir else None,
        )
