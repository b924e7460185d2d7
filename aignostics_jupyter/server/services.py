"""Services the server extension builds once at load time and shares with every handler."""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from aignostics_jupyter._version import __version__
from aignostics_jupyter.server.api_downloads import DownloadJobs
from aignostics_jupyter.server.api_session import PlatformSession
from aignostics_jupyter.server.slides_api import SlidesAPI
from aignostics_jupyter.settings import Settings, get_settings
from aignostics_jupyter.slides.service import TileService

SETTINGS_KEY = "aignostics_jupyter"
_log = logging.getLogger(__name__)


@dataclass
class Services:
    """What handlers need, built once per server.

    Attributes:
        root_dir: The server's root directory; workspace and slide paths are confined to it.
        settings: The ``AIGNOSTICS_*`` settings the server was started with.
        version: The package version.
        tiles: The slide tile service (worker processes start on first use, or ahead of it with
            :meth:`start_warm_up`; :meth:`close` stops them).
        allow_hidden: Whether slide paths may contain hidden segments (the contents manager's setting).
        slides: The tile server's operations on ``root_dir`` with ``tiles``.
        executor: Threads for blocking platform and bucket calls of the sidebar's REST API.
        session: The sidebar's client of the platform (shares the kernel's token cache).
        downloads: Background downloads of run results into the workspace.
        warming: The background start of the tile workers (:meth:`start_warm_up`), if one was started.
    """

    root_dir: Path
    settings: Settings = field(default_factory=get_settings)
    version: str = __version__
    tiles: TileService = field(default_factory=TileService)
    allow_hidden: bool = False
    slides: SlidesAPI = field(init=False)
    executor: ThreadPoolExecutor = field(init=False)
    session: PlatformSession = field(init=False)
    downloads: DownloadJobs = field(init=False)
    warming: asyncio.Task[list[int]] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.slides = SlidesAPI(self.root_dir, self.tiles, allow_hidden=self.allow_hidden)
        self.executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="aignostics-api")
        self.session = PlatformSession(self.settings, self.executor)
        self.downloads = DownloadJobs(self.executor)

    def start_warm_up(self, log: logging.Logger | logging.LoggerAdapter[logging.Logger] | None = None) -> None:
        """Start the tile workers in the background, so the first viewer's tiles do not wait for them.

        The workers fork from a forkserver that first imports the server's main script's modules and the slide
        readers (a second or two on a small machine), which the first tile request would otherwise wait for. Call
        this on the server's running event loop; it returns at once and never fails the server (a failed warm-up
        only means the first tile request starts the workers, as without it).
        """
        if self.warming is None:
            self.warming = asyncio.ensure_future(self._warm_up(log or _log))

    async def _warm_up(self, log: logging.Logger | logging.LoggerAdapter[logging.Logger]) -> list[int]:
        started = time.perf_counter()
        try:
            pids = await self.tiles.warm_up()
        except Exception as exc:  # only a missed optimisation: the first tile request starts the workers
            log.warning("aignostics-jupyter: the tile workers were not started in advance: %s", exc)
            return []
        log.info(
            "aignostics-jupyter: tile workers ready in %.1f s (%d of %d answered, %s mode)",
            time.perf_counter() - started,
            len(set(pids)),
            self.tiles.workers,
            self.tiles.mode,
        )
        return pids

    def close(self) -> None:
        """Stop the tile workers and drop the caches (the server is shutting down)."""
        if self.warming is not None:
            self.warming.cancel()
        self.tiles.close()
        self.session.close()
        self.executor.shutdown(wait=False, cancel_futures=True)
