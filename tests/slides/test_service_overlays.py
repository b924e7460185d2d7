from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from aignostics_jupyter.exceptions import UnsupportedSlideError
from aignostics_jupyter.slides.overlays import OverlayStyle
from aignostics_jupyter.slides.overlays.loader import OverlaySpec
from aignostics_jupyter.slides.overlays.synthetic import write_cell_geojson, write_label_heatmap
from aignostics_jupyter.slides.service import TileService, default_overlay_cache_dir
from aignostics_jupyter.slides.tiling import TileOutOfRangeError
from tests.slides.conftest import HEIGHT, WIDTH

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def overlays(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("overlays")
    return {
        "cells": write_cell_geojson(root / "cells.json", 2_000, WIDTH, HEIGHT, seed=1),
        # 250 x 188 raster at 4 um/px over the 2000 x 1500 slide at 0.5 mpp: 8 base pixels per raster pixel.
        "heatmap": write_label_heatmap(root / "heatmap.tiff", 250, 188, mpp=4.0, classes=3),
    }


@pytest.fixture
def service(tmp_path: Path) -> TileService:
    svc = TileService(workers=2, mode="thread", overlay_cache_dir=tmp_path / "overlay-cache")
    yield svc  # type: ignore[misc]
    svc.close()


async def test_vector_overlay_tiles_info_and_query(
    service: TileService, slide_paths: dict[str, Path], overlays: dict[str, Path], tmp_path: Path
) -> None:
    cells_only = OverlayStyle(hidden_classes=["Tissue"])
    tile = await service.overlay_tile(slide_paths["svs"], 3, 1, 1, overlay=overlays["cells"], style=cells_only)
    assert tile.media_type == "image/png"
    image = Image.open(io.BytesIO(tile.data))
    assert (image.mode, image.size) == ("RGBA", (256, 256))
    alpha = np.asarray(image)[..., 3]
    assert 0 < (alpha > 0).mean() < 1
    assert list((tmp_path / "overlay-cache").glob("*.features"))  # parsed once, cached for every worker
    info = await service.overlay_info(slide_paths["svs"], overlays["cells"])
    assert info.kind == "vector"
    assert info.feature_count == 2_001
    assert {c.name for c in info.classes} == {"Tissue", "Tumor", "Lymphocyte", "Stroma", "Other"}
    cell = json.loads(overlays["cells"].read_text())["features"][1]
    x, y = np.mean(cell["geometry"]["coordinates"][0][:-1], axis=0)
    hits = await service.overlay_query(slide_paths["svs"], overlays["cells"], float(x), float(y), radius=2)
    assert hits.kind == "vector"
    assert hits.features[0].id == "cell-0"
    assert hits.features[0].area_um2 == pytest.approx(hits.features[0].area_px * 0.25)
    assert "Tissue" in [h.class_name for h in hits.features]


async def test_overlay_etags_follow_style_and_file(
    service: TileService, slide_paths: dict[str, Path], overlays: dict[str, Path], tmp_path: Path
) -> None:
    plain = await service.overlay_tile(slide_paths["tiff"], 2, 0, 0, overlay=overlays["cells"])
    same = await service.overlay_tile(slide_paths["tiff"], 2, 0, 0, overlay=overlays["cells"])
    assert same.etag == plain.etag
    hidden = await service.overlay_tile(
        slide_paths["tiff"], 2, 0, 0, overlay=overlays["cells"], style=OverlayStyle(hidden_classes=["Tumor", "Tissue"])
    )
    assert hidden.etag != plain.etag
    assert hidden.data != plain.data
    webp = await service.overlay_tile(slide_paths["tiff"], 2, 0, 0, overlay=overlays["cells"], fmt="webp")
    assert webp.media_type == "image/webp"
    assert Image.open(io.BytesIO(webp.data)).mode == "RGBA"
    copy = tmp_path / "copy.json"
    copy.write_text(overlays["cells"].read_text())
    before = await service.overlay_tile(slide_paths["tiff"], 2, 0, 0, overlay=copy)
    copy.write_text(json.dumps({"type": "Feature", "geometry": {"type": "Point", "coordinates": [5, 5]}}))
    after = await service.overlay_tile(slide_paths["tiff"], 2, 0, 0, overlay=copy)
    assert after.etag != before.etag
    assert after.data != before.data


async def test_raster_overlay_through_the_service(
    service: TileService, slide_paths: dict[str, Path], overlays: dict[str, Path]
) -> None:
    spec = OverlaySpec(
        path=str(overlays["heatmap"]), class_colors={"1": (255, 0, 0), "2": (0, 255, 0), "3": (0, 0, 255)}
    )
    tile = await service.overlay_tile(slide_paths["dicom"], 0, 0, 0, overlay=spec, style=OverlayStyle(opacity=1))
    pixels = np.asarray(Image.open(io.BytesIO(tile.data)))
    # Zoom 0 shows the slide at downsample 8: one tile pixel per raster pixel; bands of 250/4 columns.
    assert pixels[10, 10, 3] == 0
    assert pixels[10, 100].tolist() == [255, 0, 0, 255]
    assert pixels[10, 240].tolist() == [0, 0, 255, 255]
    assert pixels[200, 10, 3] == 0  # below the slide
    info = await service.overlay_info(slide_paths["dicom"], spec)
    assert info.kind == "labels"
    assert info.bounds == (0.0, 0.0, 2000.0, 1504.0)
    hits = await service.overlay_query(slide_paths["dicom"], spec, 1900, 100)
    assert (hits.value, hits.class_name) == (3, "3")


async def test_overlay_errors(service: TileService, slide_paths: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(UnsupportedSlideError, match=r"^The overlay nope\.json does not exist"):
        await service.overlay_tile(slide_paths["svs"], 0, 0, 0, overlay=tmp_path / "nope.json")
    (tmp_path / "bad.json").write_text("[1, 2")
    with pytest.raises(UnsupportedSlideError, match="not a readable GeoJSON"):
        await service.overlay_info(slide_paths["svs"], tmp_path / "bad.json")
    with pytest.raises(TileOutOfRangeError):
        await service.overlay_tile(slide_paths["svs"], 9, 0, 0, overlay=tmp_path / "bad.json")


@pytest.mark.timeout(60)
async def test_overlays_in_worker_processes(
    slide_paths: dict[str, Path], overlays: dict[str, Path], tmp_path: Path
) -> None:
    with TileService(workers=2, mode="process", overlay_cache_dir=tmp_path) as service:
        tile = await service.overlay_tile(slide_paths["svs"], 3, 2, 2, overlay=overlays["cells"])
        assert Image.open(io.BytesIO(tile.data)).mode == "RGBA"
        hits = await service.overlay_query(slide_paths["svs"], overlays["cells"], 10, 10)
        assert hits.features[0].class_name == "Tissue"


def test_default_overlay_cache_dir_is_private() -> None:
    path = default_overlay_cache_dir()
    assert path.is_dir()
    assert path.stat().st_mode & 0o077 == 0
