from __future__ import annotations

import asyncio
import io
import os
import shutil
import signal
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from aignostics_jupyter.exceptions import NotFoundError, UnsupportedSlideError
from aignostics_jupyter.slides import _worker
from aignostics_jupyter.slides.service import TileService
from aignostics_jupyter.slides.tiling import TileOutOfRangeError
from aignostics_jupyter.slides.writers import write_test_pattern_slide
from tests.slides.conftest import HEIGHT, WIDTH

pytestmark = pytest.mark.integration


@pytest.fixture
def service() -> TileService:
    svc = TileService(workers=2, mode="thread", cache_bytes=2_000_000)
    yield svc  # type: ignore[misc]
    svc.close()


async def test_tiles_info_thumbnail_associated(service: TileService, slide_paths: dict[str, Path]) -> None:
    info = await service.info(slide_paths["dicom"])
    assert (info.width, info.height, info.z_max) == (WIDTH, HEIGHT, 3)
    tile = await service.get_tile(slide_paths["dicom"], 3, 1, 1)
    assert tile.media_type == "image/jpeg"
    assert Image.open(io.BytesIO(tile.data)).size == (256, 256)
    assert tile.etag.startswith('"')
    assert tile.etag == service.tile_etag(slide_paths["dicom"], 3, 1, 1)
    assert tile.etag != service.tile_etag(slide_paths["dicom"], 3, 1, 2)
    assert tile.etag != service.tile_etag(slide_paths["dicom"], 3, 1, 1, quality=50)
    webp = await service.get_tile(slide_paths["svs"], 0, 0, 0, fmt="webp")
    assert webp.media_type == "image/webp"
    thumb = await service.thumbnail(slide_paths["svs"], 64)
    assert Image.open(io.BytesIO(thumb.data)).size == (64, 48)
    macro = await service.associated(slide_paths["svs"], "macro", fmt="png")
    assert Image.open(io.BytesIO(macro.data)).size == (480, 360)
    with pytest.raises(NotFoundError):
        await service.associated(slide_paths["svs"], "barcode")


async def test_cache_hits_and_concurrent_requests_render_once(
    service: TileService, slide_paths: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[int, int, int]] = []
    original = _worker.slide_tile

    def counting(path: Path, tile: tuple[int, int, int], fmt: str, quality: int) -> bytes:
        calls.append(tile)
        return original(path, tile, fmt, quality)  # type: ignore[arg-type]

    monkeypatch.setattr(_worker, "slide_tile", counting)
    results = await asyncio.gather(*(service.get_tile(slide_paths["svs"], 2, 1, 1) for _ in range(8)))
    assert len({r.data for r in results}) == 1
    assert calls == [(2, 1, 1)]
    again = await service.get_tile(slide_paths["svs"], 2, 1, 1)
    assert again.data == results[0].data
    assert calls == [(2, 1, 1)]
    assert service.cache_stats().hits >= 1


async def test_out_of_range_is_refused_before_rendering(service: TileService, slide_paths: dict[str, Path]) -> None:
    for z, t_x, t_y in [(5, 0, 0), (3, 8, 0), (0, 0, 1), (-1, 0, 0)]:
        with pytest.raises(TileOutOfRangeError):
            await service.get_tile(slide_paths["svs"], z, t_x, t_y)


async def test_unreadable_and_missing_slides(service: TileService, tmp_path: Path) -> None:
    with pytest.raises(UnsupportedSlideError, match=r"^nothing\.svs does not exist"):
        await service.get_tile(tmp_path / "nothing.svs", 0, 0, 0)
    (tmp_path / "notes.svs").write_text("text")
    with pytest.raises(UnsupportedSlideError, match="is a text file"):
        await service.info(tmp_path / "notes.svs")
    with pytest.raises(ValueError, match="not supported"):
        await service.get_tile(tmp_path / "notes.svs", 0, 0, 0, fmt="bmp")


async def test_changed_file_gets_new_tiles_and_etag(service: TileService, tmp_path: Path) -> None:
    path = write_test_pattern_slide(tmp_path / "s.svs", 600, 400, "svs", 0.5, with_associated=False)
    first = await service.get_tile(path, 0, 0, 0)
    assert (await service.info(path)).width == 600
    replacement = write_test_pattern_slide(tmp_path / "t.svs", 800, 500, "svs", 0.25, with_associated=False)
    shutil.move(replacement, path)
    second = await service.get_tile(path, 0, 0, 0)
    assert second.etag != first.etag
    assert second.data != first.data
    assert (await service.info(path)).width == 800


def test_sync_api(service: TileService, slide_paths: dict[str, Path]) -> None:
    tile = service.get_tile_sync(slide_paths["tiff"], 1, 0, 0)
    assert Image.open(io.BytesIO(tile.data)).size == (256, 256)
    with pytest.raises(TileOutOfRangeError):
        service.get_tile_sync(slide_paths["tiff"], 1, 2, 0)


@pytest.mark.timeout(60)
async def test_process_pool_renders_and_survives_a_killed_worker(slide_paths: dict[str, Path]) -> None:
    with TileService(workers=2, mode="process") as service:
        pids = await service.warm_up()
        assert os.getpid() not in pids
        tiles = await asyncio.gather(
            *(service.get_tile(slide_paths["svs"], 3, x, y) for x in range(8) for y in range(6))
        )
        assert all(t.data[:2] == b"\xff\xd8" for t in tiles)
        # Same bytes as rendering in this process.
        with TileService(workers=1, mode="thread") as local:
            here = await local.get_tile(slide_paths["svs"], 3, 2, 2)
        there = tiles[2 * 6 + 2]
        assert np.array_equal(
            np.asarray(Image.open(io.BytesIO(here.data))), np.asarray(Image.open(io.BytesIO(there.data)))
        )
        for pid in set(pids):
            os.kill(pid, signal.SIGKILL)
        await asyncio.sleep(0.2)
        tile = await service.get_tile(slide_paths["svs"], 2, 0, 0)
        assert tile.data[:2] == b"\xff\xd8"
    with pytest.raises(RuntimeError, match="closed"):
        await service.get_tile(slide_paths["svs"], 2, 1, 0)


async def test_a_cancelled_waiter_does_not_cancel_shared_work(
    slide_paths: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    release = threading.Event()
    original = _worker.slide_tile

    def slow(path: Path, tile: tuple[int, int, int], fmt: str, quality: int) -> bytes:
        if tile == (1, 1, 0):
            release.wait(5)
        return original(path, tile, fmt, quality)  # type: ignore[arg-type]

    monkeypatch.setattr(_worker, "slide_tile", slow)
    # No passthrough: tile 1/0/0 is a stored tile, which would be served at once without queueing.
    with TileService(workers=1, mode="thread", passthrough=False) as service:
        await service.info(slide_paths["svs"])
        blocker = asyncio.ensure_future(service.get_tile(slide_paths["svs"], 1, 1, 0))  # occupies the only worker
        await asyncio.sleep(0.05)
        impatient = asyncio.ensure_future(service.get_tile(slide_paths["svs"], 1, 0, 0))
        patient = asyncio.ensure_future(service.get_tile(slide_paths["svs"], 1, 0, 0))
        await asyncio.sleep(0.05)  # both wait for the same queued job
        impatient.cancel()
        await asyncio.sleep(0.05)
        release.set()
        tile = await asyncio.wait_for(patient, 5)
        assert tile.data[:2] == b"\xff\xd8"
        assert (await blocker).data[:2] == b"\xff\xd8"
        assert impatient.cancelled()
