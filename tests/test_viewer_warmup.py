"""The first viewer does not wait for the tile workers: the server starts them in the background once it runs.

Without it the first tile request of a server started the worker processes (seconds each: a spawned Python imports
the server's main module and the slide readers), and the first ``SlideViewer`` of a session took 2.5-4.5 s to paint
(``benchmarks/bench_viewer_paint.py``). Also here: the kernel's probe of its server, on the first viewer's path.
"""

from __future__ import annotations

import asyncio
import http.server
import logging
import multiprocessing
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from aignostics_jupyter.server import discovery
from aignostics_jupyter.server.loopback import LoopbackTileServer
from aignostics_jupyter.server.services import SETTINGS_KEY, Services
from aignostics_jupyter.slides.service import TileService
from aignostics_jupyter.slides.writers import write_test_pattern_slide


def _server_config(tmp_path: Path, **tiles: Any) -> dict[str, Any]:
    """The extension loaded as on a hub, with real worker processes (the default mode), two of them."""
    return {
        "ServerApp": {"jpserver_extensions": {"aignostics_jupyter": True}, "allow_unauthenticated_access": False},
        "AignosticsTileServer": {"workers": 2, "overlay_cache_dir": str(tmp_path / "overlays"), **tiles},
    }


async def _started_task(services: Services) -> asyncio.Task[list[int]]:
    """The warm-up task, once the loop has run the callback the extension scheduled at load."""
    for _ in range(200):
        if services.warming is not None:
            return services.warming
        await asyncio.sleep(0.01)
    raise AssertionError("the server did not start warming its tile workers up")


def _pool_pids(services: Services) -> set[int]:
    executor = services.tiles._executor
    assert executor is not None
    return set(getattr(executor, "_processes", {}))


def _children() -> set[int]:
    return {process.pid for process in multiprocessing.active_children() if process.pid is not None}


class TestWarmUpAtServerStart:
    @pytest.fixture
    def jp_server_config(self, tmp_path: Path) -> dict[str, Any]:
        return _server_config(tmp_path)

    @pytest.mark.integration
    @pytest.mark.timeout(90)
    async def test_workers_start_in_the_background_and_serve_the_first_tile(
        self, jp_serverapp: Any, jp_fetch: Any, jp_root_dir: Path, tmp_path: Path
    ) -> None:
        write_test_pattern_slide(tmp_path / "s.svs", 600, 400, "svs", 0.5, smallest_level=300)
        shutil.copyfile(tmp_path / "s.svs", jp_root_dir / "s.svs")
        services: Services = jp_serverapp.web_app.settings[SETTINGS_KEY]

        pids = await asyncio.wait_for(asyncio.shield(await _started_task(services)), 60)
        workers = _pool_pids(services)  # the service's own pool (other tests may leave processes in this one)
        response = await jp_fetch("aignostics-jupyter", "slides", "tiles", "0", "0", "0.jpg", params={"path": "s.svs"})

        assert pids
        assert os.getpid() not in pids
        assert set(pids) <= workers <= _children()
        assert len(workers) == services.tiles.workers  # every worker was started, not only the one that answered
        assert response.code == 200
        assert response.headers["Content-Type"] == "image/jpeg"
        assert _pool_pids(services) == workers  # the first tile started no process: the warm workers served it


class TestWarmUpSwitchedOff:
    @pytest.fixture
    def jp_server_config(self, tmp_path: Path) -> dict[str, Any]:
        return _server_config(tmp_path, warm_up=False)

    @pytest.mark.integration
    async def test_no_worker_starts_before_the_first_tile(self, jp_serverapp: Any) -> None:
        before = _children()
        services: Services = jp_serverapp.web_app.settings[SETTINGS_KEY]

        await asyncio.sleep(0.3)

        assert services.warming is None
        assert _children() == before


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    """Services around a thread-mode tile service (no processes); closed after the test."""
    built = Services(root_dir=tmp_path, tiles=TileService(mode="thread", workers=2, overlay_cache_dir=tmp_path))
    yield built
    built.close()


@pytest.mark.unit
async def test_warm_up_runs_once_and_reports_the_workers(services: Services) -> None:
    services.start_warm_up()
    task = services.warming
    services.start_warm_up()  # a second call does not start another

    pids = await asyncio.wait_for(asyncio.shield(task), 10) if task else None

    assert services.warming is task
    assert pids == [os.getpid(), os.getpid()]  # thread mode: the workers are threads of this process


@pytest.mark.unit
async def test_a_failed_warm_up_is_logged_not_raised(
    services: Services, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def refuse() -> list[int]:
        raise RuntimeError("The tile service has been closed.")

    monkeypatch.setattr(services.tiles, "warm_up", refuse)
    log = logging.getLogger("test-warm-up")

    services.start_warm_up(log)
    with caplog.at_level(logging.WARNING, logger="test-warm-up"):
        pids = await asyncio.wait_for(asyncio.shield(services.warming), 10) if services.warming else None

    assert pids == []
    assert "not started in advance" in caplog.text
    assert "closed" in caplog.text


@pytest.mark.unit
async def test_close_cancels_a_warm_up_still_running(services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    never = asyncio.Event()

    async def slow() -> list[int]:
        await never.wait()
        return []

    monkeypatch.setattr(services.tiles, "warm_up", slow)
    services.start_warm_up()
    await asyncio.sleep(0)

    services.close()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(services.warming, 5) if services.warming else None


@pytest.mark.integration
@pytest.mark.timeout(30)
def test_the_kernels_probe_of_a_plain_http_server_does_without_httpx(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first ``SlideViewer`` of a kernel probes the server; httpx's first request there cost 0.1-0.4 s."""

    def no_httpx(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("httpx was used for a plain-HTTP probe")

    monkeypatch.setattr(httpx, "get", no_httpx)
    discovery._probed.clear()
    with TileService(mode="thread", workers=1) as tiles:
        server = LoopbackTileServer(tmp_path, tiles).start()
        try:
            found = discovery._has_extension(server.prefix, None)
            missing = discovery._has_extension(f"http://127.0.0.1:{server.port}/", None)  # no such route: 404
            unreachable = discovery._has_extension("http://127.0.0.1:9/", None)
        finally:
            server.stop()
            discovery._probed.clear()

    assert (found, missing, unreachable) == (True, False, False)


@pytest.mark.integration
@pytest.mark.timeout(30)
def test_the_probe_takes_a_redirect_as_the_routes_answer() -> None:
    """As with httpx before: a redirect (e.g. to a login page) is not followed; only a 404 means no extension."""

    class Redirect(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(302 if "slides/info" in self.path else 404)
            self.send_header("Location", "/nowhere")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    discovery._probed.clear()
    try:
        found = discovery._has_extension(f"http://127.0.0.1:{server.server_address[1]}/", None)
    finally:
        server.shutdown()
        server.server_close()
        discovery._probed.clear()

    assert found is True
