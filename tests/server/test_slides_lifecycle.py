"""The tile service lives as long as the server: built once at load, workers stopped when the server shuts down."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from aignostics_jupyter.server.services import SETTINGS_KEY, Services
from aignostics_jupyter.slides.writers import write_test_pattern_slide


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    """Real worker processes (the default mode), two of them, with a small cache and our own overlay cache."""
    tiles = {"workers": 2, "cache_mb": 8, "overlay_cache_dir": str(tmp_path / "npz")}
    return {**jp_server_config, "AignosticsTileServer": tiles}


@pytest.mark.integration
@pytest.mark.timeout(60)
async def test_worker_processes_serve_tiles_and_stop_with_the_server(
    jp_serverapp: Any, jp_fetch: Any, jp_root_dir: Path, tmp_path: Path
) -> None:
    write_test_pattern_slide(tmp_path / "s.svs", 600, 400, "svs", 0.5, smallest_level=300)
    shutil.copyfile(tmp_path / "s.svs", jp_root_dir / "s.svs")
    services: Services = jp_serverapp.web_app.settings[SETTINGS_KEY]
    assert services.tiles.mode == "process"
    assert services.tiles.cache.max_bytes == 8 * 2**20
    assert services.tiles.overlay_cache_dir == tmp_path / "npz"

    response = await jp_fetch("aignostics-jupyter", "slides", "tiles", "0", "0", "0.jpg", params={"path": "s.svs"})
    pids = await services.tiles.warm_up()
    await jp_serverapp.cleanup_extensions()

    assert response.code == 200
    assert pids  # started on demand: one or two processes
    assert os.getpid() not in pids
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    with pytest.raises(RuntimeError, match="closed"):
        await services.tiles.get_tile(jp_root_dir / "s.svs", 0, 0, 0)


@pytest.mark.unit
def test_tile_server_defaults_bound_the_workers() -> None:
    from traitlets.config import Config

    from aignostics_jupyter.server.tile_config import DEFAULT_MAX_WORKERS, AignosticsTileServer

    default = AignosticsTileServer.build()
    configured = AignosticsTileServer.build(Config({"AignosticsTileServer": {"workers": 3, "mode": "thread"}}))

    assert default.workers == min(DEFAULT_MAX_WORKERS, os.cpu_count() or 1)
    assert default.mode == "process"
    assert default.cache.max_bytes == 256 * 2**20
    assert (configured.workers, configured.mode) == (3, "thread")
    default.close()
    configured.close()
