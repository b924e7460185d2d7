"""Overlay rendering and queries: vector features and rasters in the slide's tile grid."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

from aignostics_jupyter.exceptions import InvalidInputError, UnsupportedSlideError
from aignostics_jupyter.slides.overlays import OverlayStyle, RasterOverlay, SlideGeometry, VectorOverlay
from aignostics_jupyter.slides.overlays.geojson import parse_features
from aignostics_jupyter.slides.overlays.loader import OverlaySpec, open_overlay, query_overlay
from aignostics_jupyter.slides.overlays.raster import check_kind
from aignostics_jupyter.slides.overlays.synthetic import cell_features, write_label_heatmap
from aignostics_jupyter.slides.tiling import ZoomGrid

pytestmark = pytest.mark.unit

SLIDE = SlideGeometry(width=4096, height=2048, mpp=(0.5, 0.5))
GRID = ZoomGrid(4096, 2048)  # z_max 4


def _square(x: float, y: float, size: float, name: str, color: list[int] | None = None) -> dict[str, object]:
    ring = [[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]
    classification: dict[str, object] = {"name": name}
    if color:
        classification["color"] = color
    return {
        "type": "Feature",
        "id": name.lower(),
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": {"classification": classification, "measurements": {"Area": size * size}},
    }


@pytest.fixture(scope="module")
def vector() -> VectorOverlay:
    region = {
        "type": "Feature",
        "geometry": {
            "type": "Polygon",
            "coordinates": [
                [[1000, 1000], [1800, 1000], [1800, 1800], [1000, 1800], [1000, 1000]],
                [[1300, 1300], [1500, 1300], [1500, 1500], [1300, 1500], [1300, 1300]],
            ],
        },
        "properties": {"classification": {"name": "Tissue", "color": [0, 0, 255]}},
    }
    point = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [3000, 500]},
        "properties": {"class": "Spot"},
    }
    line = {
        "type": "Feature",
        "geometry": {"type": "LineString", "coordinates": [[0, 100], [4000, 100]]},
        "properties": {},
    }
    cells = [_square(100, 200, 20, "Tumor", [255, 0, 0]), _square(150, 200, 20, "Stroma", [0, 255, 0])]
    return VectorOverlay(parse_features({"type": "FeatureCollection", "features": [region, point, line, *cells]}))


def _pixels(image: Image.Image) -> np.ndarray:
    assert image.mode == "RGBA"
    assert image.size == (256, 256)
    return np.asarray(image)


def test_polygons_are_filled_and_outlined_at_high_zoom(vector: VectorOverlay) -> None:
    # Native zoom 4, tile (0, 0) covers base pixels 0-255: the two cells and the line.
    tile = _pixels(vector.render(GRID.tile(4, 0, 0), SLIDE, OverlayStyle(opacity=0.5)))
    assert tile[210, 110].tolist() == [255, 0, 0, 128]  # inside the tumour cell: fill
    assert tile[200, 110].tolist() == [255, 0, 0, 255]  # its top edge: opaque outline
    assert tile[210, 160].tolist()[:3] == [0, 255, 0]
    assert tile[100, 50, 3] == 255  # the line
    assert tile[50, 50, 3] == 0  # nothing there
    # Zoomed in past native (z 5, downsample 0.5): the tumour cell covers 40 px.
    zoomed = _pixels(vector.render(GRID.tile(5, 0, 1), SLIDE, OverlayStyle()))
    assert zoomed[(210 - 128) * 2, 110 * 2].tolist()[:3] == [255, 0, 0]


def test_holes_are_not_filled(vector: VectorOverlay) -> None:
    # Zoom 2 (downsample 4): tile (1, 1) covers base 1024-2047.
    tile = _pixels(vector.render(GRID.tile(2, 1, 1), SLIDE, OverlayStyle(opacity=0.4)))
    assert tile[(1100 - 1024) // 4, (1100 - 1024) // 4].tolist() == [0, 0, 255, 102]
    assert tile[(1400 - 1024) // 4, (1400 - 1024) // 4, 3] == 0  # the hole


def test_small_features_become_dots_at_low_zoom(vector: VectorOverlay) -> None:
    tile = _pixels(vector.render(GRID.tile(0, 0, 0), SLIDE, OverlayStyle(point_radius=1)))
    # Downsample 16: the 20 px cells are 1.25 px, drawn as dots at their centres.
    assert tile[210 // 16, 110 // 16, :3].tolist() == [255, 0, 0]
    assert tile[500 // 16, 3000 // 16, 3] > 0  # the point


def test_hidden_classes_and_style_overrides(vector: VectorOverlay) -> None:
    style = OverlayStyle(hidden_classes=["Tumor"], class_colors={"Stroma": (1, 2, 3)}, fill=False, outline=True)
    tile = _pixels(vector.render(GRID.tile(4, 0, 0), SLIDE, style))
    assert tile[210, 110, 3] == 0
    assert tile[200, 160].tolist() == [1, 2, 3, 255]
    assert tile[210, 160, 3] == 0  # no fill
    empty = _pixels(vector.render(GRID.tile(4, 15, 7), SLIDE, OverlayStyle()))
    assert not empty.any()


def test_features_at(vector: VectorOverlay) -> None:
    hits = vector.features_at(110, 210, mpp=(0.5, 0.5))
    assert [h.class_name for h in hits] == ["Tumor"]
    hit = hits[0]
    assert hit.id == "tumor"
    assert hit.geometry == "polygon"
    assert hit.distance == 0
    assert hit.area_px == 400
    assert hit.area_um2 == pytest.approx(100)
    assert hit.measurements == {"Area": 400.0}
    assert hit.color == (255, 0, 0)
    assert vector.features_at(1400, 1400) == []  # in the hole
    assert [h.class_name for h in vector.features_at(1100, 1100)] == ["Tissue"]
    near = vector.features_at(3004, 503, radius=6)
    assert [h.geometry for h in near] == ["point"]
    assert near[0].distance == pytest.approx(5)
    assert vector.features_at(3004, 503, radius=4) == []
    assert [h.geometry for h in vector.features_at(2000, 103, radius=5)] == ["line"]
    both = vector.features_at(172, 210, radius=5)  # 2 px from the stroma cell, 52 from the tumour cell
    assert [h.class_name for h in both] == ["Stroma"]


def test_vector_info(vector: VectorOverlay) -> None:
    info = vector.info(SLIDE)
    assert info.kind == "vector"
    assert info.feature_count == 5
    assert {c.name: c.count for c in info.classes} == {
        "Tissue": 1,
        "Spot": 1,
        "Unclassified": 1,
        "Tumor": 1,
        "Stroma": 1,
    }
    assert info.bounds == (0.0, 100.0, 4000.0, 1800.0)
    assert info.measurements == ["Area"]


@pytest.mark.timeout(30)
def test_overview_tiles_match_direct_drawing() -> None:
    features = cell_features(30_000, 4096, 2048, seed=3)
    overlay = VectorOverlay(parse_features({"type": "FeatureCollection", "features": features}))
    style = OverlayStyle()
    for z, t_x, t_y in [(0, 0, 0), (1, 1, 0)]:
        region = GRID.tile(z, t_x, t_y)
        assert region.downsample >= overlay._overview_downsample()
        from_overview = np.asarray(overlay.render(region, SLIDE, style))
        direct = np.asarray(overlay._draw(overlay_canvas(region), style))
        coverage_a, coverage_b = (from_overview[..., 3] > 0).mean(), (direct[..., 3] > 0).mean()
        assert coverage_a > 0.05
        assert abs(coverage_a - coverage_b) < 0.25


def overlay_canvas(region: object) -> object:
    from aignostics_jupyter.slides.overlays.vector import _Canvas

    r = region
    return _Canvas(r.l0_x, r.l0_y, r.l0_w, r.l0_h, r.downsample, r.tile_size)  # type: ignore[attr-defined]


# --------------------------------------------------------------------------------------------------- raster


def test_label_raster_aligned_by_mpp() -> None:
    labels = np.zeros((64, 128), dtype=np.uint8)
    labels[:, 64:] = 1
    labels[32:, 96:] = 2
    # 16 um per raster pixel on a 0.5 mpp slide: 32 base pixels each, 4096 x 2048 base pixels in all.
    raster = RasterOverlay(labels, class_colors={"1": [255, 0, 0], "2": [0, 0, 255]}, mpp=(16.0, 16.0))
    assert raster.kind == "labels"
    assert raster.l0_per_pixel(SLIDE) == (32.0, 32.0)
    tile = _pixels(raster.render(GRID.tile(0, 0, 0), SLIDE, OverlayStyle(opacity=1.0)))
    # Zoom 0: downsample 16, the 4096 x 2048 slide is 256 x 128 px.
    assert tile[10, 10, 3] == 0  # label 0: transparent
    assert tile[10, 200].tolist() == [255, 0, 0, 255]
    assert tile[100, 250].tolist() == [0, 0, 255, 255]
    assert tile[200, 10, 3] == 0  # below the slide
    assert raster.value_at(3000, 100, SLIDE) == {"value": 1, "class": "1"}
    assert raster.value_at(5000, 100, SLIDE) is None
    info = raster.info(SLIDE)
    assert [(c.name, c.count) for c in info.classes] == [("1", 64 * 32 + 32 * 32), ("2", 32 * 32)]
    assert info.bounds == (0.0, 0.0, 4096.0, 2048.0)


def test_label_raster_named_classes_and_stretch() -> None:
    labels = np.array([[0, 1], [2, 3]], dtype=np.uint8)
    raster = RasterOverlay(labels, class_colors={"tumor": [255, 0, 0], "stroma": [0, 255, 0]})
    assert raster.l0_per_pixel(SlideGeometry(width=100, height=50)) == (50.0, 25.0)
    assert [name for name, _ in raster.classes.values()] == ["tumor", "stroma", "3"]
    named = RasterOverlay(labels, class_names=["a", "b", "c"])
    assert named.value_at(60, 30, SlideGeometry(width=100, height=50)) == {"value": 3, "class": "c"}
    hidden = RasterOverlay(labels, class_names={1: "a"})
    tile = np.asarray(
        hidden.render(
            ZoomGrid(2, 2).tile(0, 0, 0), SlideGeometry(width=2, height=2), OverlayStyle(hidden_classes=["a"])
        )
    )
    assert tile[0, 1, 3] == 0
    assert tile[1, 0, 3] > 0


def test_rgb_raster_background_is_transparent() -> None:
    rgb = np.zeros((2, 2, 3), dtype=np.uint8)
    rgb[0, 1] = (255, 0, 0)
    rgb[1, 0] = (255, 255, 255)
    rgb[1, 1] = (0, 255, 0)
    raster = RasterOverlay(rgb, class_colors={"tumor": [255, 0, 0], "stroma": [0, 255, 0]})
    assert raster.kind == "rgb"
    slide = SlideGeometry(width=2, height=2)
    tile = np.asarray(raster.render(ZoomGrid(2, 2).tile(0, 0, 0), slide, OverlayStyle(opacity=1)))
    assert tile[0, 0, 3] == 0
    assert tile[0, 1].tolist() == [255, 0, 0, 255]
    assert tile[1, 0, 3] == 0
    assert raster.value_at(1, 1, slide) == {"value": [0, 255, 0], "class": "stroma"}
    rgba = np.dstack([rgb, np.full((2, 2), 128, dtype=np.uint8)])
    half = np.asarray(RasterOverlay(rgba).render(ZoomGrid(2, 2).tile(0, 0, 0), slide, OverlayStyle(opacity=1)))
    assert half[0, 1, 3] == 128


def test_scalar_raster_uses_the_colormap() -> None:
    values = np.array([[0.0, 0.5], [1.0, np.nan]])
    raster = RasterOverlay(values)
    assert raster.kind == "scalar"
    slide = SlideGeometry(width=2, height=2)
    style = OverlayStyle(colormap="gray", opacity=1)
    tile = np.asarray(raster.render(ZoomGrid(2, 2).tile(0, 0, 0), slide, style))
    assert tile[0, 0].tolist() == [0, 0, 0, 255]
    assert tile[0, 1, :3].tolist() == [128, 128, 128]
    assert tile[1, 0, :3].tolist() == [255, 255, 255]
    assert tile[1, 1, 3] == 0  # NaN
    clipped = np.asarray(raster.render(ZoomGrid(2, 2).tile(0, 0, 0), slide, style.model_copy(update={"vmax": 0.5})))
    assert clipped[1, 0, :3].tolist() == [255, 255, 255]
    assert raster.value_at(1, 0, slide) == {"value": 0.5, "class": None}
    assert raster.info().value_range == (0.0, 1.0)
    many = RasterOverlay(np.arange(10_000, dtype=np.uint16).reshape(100, 100))
    assert many.kind == "scalar"


def test_raster_from_tiff_reads_resolution(tmp_path: Path) -> None:
    path = write_label_heatmap(tmp_path / "map.tiff", 128, 64, mpp=16.0)
    raster = RasterOverlay.from_file(path, class_colors={"1": [255, 0, 0]})
    assert raster.mpp == pytest.approx((16.0, 16.0))
    assert raster.kind == "labels"
    assert raster.l0_per_pixel(SLIDE) == pytest.approx((32.0, 32.0))
    Image.fromarray(np.zeros((4, 4, 3), dtype=np.uint8)).save(tmp_path / "map.png")
    assert RasterOverlay.from_file(tmp_path / "map.png").kind == "rgb"
    tifffile.imwrite(tmp_path / "float.tif", np.ones((4, 4), dtype=np.float32))
    assert RasterOverlay.from_file(tmp_path / "float.tif").kind == "scalar"


def test_raster_errors(tmp_path: Path) -> None:
    (tmp_path / "x.tiff").write_bytes(b"II*\x00garbage")
    with pytest.raises(UnsupportedSlideError, match=r"^x\.tiff could not be read as a raster overlay"):
        RasterOverlay.from_file(tmp_path / "x.tiff")
    with pytest.raises(UnsupportedSlideError, match="not a 2-D map"):
        RasterOverlay(np.zeros((2, 2, 2, 2)))
    with pytest.raises(InvalidInputError):
        check_kind("heat")
    assert check_kind("rgb") == "rgb"


def test_open_overlay_and_query(tmp_path: Path) -> None:
    geojson = tmp_path / "cells.geojson"
    geojson.write_text(json.dumps({"type": "FeatureCollection", "features": [_square(10, 10, 10, "Tumor")]}))
    vector = open_overlay(OverlaySpec(path=str(geojson)), cache_dir=tmp_path / "cache")
    assert isinstance(vector, VectorOverlay)
    assert len(list((tmp_path / "cache").glob("*.features"))) == 1
    again = open_overlay(OverlaySpec(path=str(geojson)), cache_dir=tmp_path / "cache")  # from the cache
    assert again.features.class_names == ["Tumor"]
    assert query_overlay(vector, SLIDE, (15, 15)).features[0].class_name == "Tumor"
    heatmap = write_label_heatmap(tmp_path / "heat.tiff", 64, 32)
    raster = open_overlay(OverlaySpec(path=str(heatmap), class_names=["a", "b", "c"]))
    assert isinstance(raster, RasterOverlay)
    hits = query_overlay(raster, SLIDE, (4000, 10))
    assert (hits.kind, hits.value, hits.class_name) == ("labels", 3, "c")
    assert query_overlay(raster, SLIDE, (5000, 10)).value is None
    with pytest.raises(UnsupportedSlideError, match=r"^The overlay missing\.json does not exist"):
        open_overlay(OverlaySpec(path=str(tmp_path / "missing.json")))


def test_vector_scale_maps_coordinates_to_base_pixels(tmp_path: Path) -> None:
    geojson = tmp_path / "half.geojson"
    geojson.write_text(json.dumps({"type": "FeatureCollection", "features": [_square(10, 10, 10, "Tumor")]}))
    overlay = open_overlay(OverlaySpec(path=str(geojson), vector_scale=2.0))
    assert isinstance(overlay, VectorOverlay)
    assert overlay.features.bbox[0].tolist() == [20, 20, 40, 40]
    assert [h.class_name for h in overlay.features_at(30, 30)] == ["Tumor"]
    assert overlay.features_at(15, 15) == []


def test_rounded_raster_sizes_keep_square_pixels() -> None:
    raster = RasterOverlay(np.zeros((188, 250), dtype=np.uint8))
    scale = raster.l0_per_pixel(SlideGeometry(width=2000, height=1500))
    assert scale[0] == scale[1] == pytest.approx((8 + 1500 / 188) / 2)


def test_spec_from_artifact_metadata() -> None:
    metadata = {
        "checksum_crc32c": "5onqtA==",
        "width": 7447,
        "height": 7196,
        "base_mpp": 0.2627,
        "mime_type": "image/tiff",
        "class_colors": {"tumor": [255, 0, 0], "stroma": [0, 255, 0], "broken": "x"},
    }
    spec = OverlaySpec.from_metadata("/data/heatmap.tiff", metadata)
    assert spec.class_colors == {"tumor": (255, 0, 0), "stroma": (0, 255, 0)}
    assert spec.mpp is None
    assert OverlaySpec.from_metadata("h.tiff", {"mpp": 8}).mpp == (8.0, 8.0)
    assert OverlaySpec.of(spec) is spec
    assert OverlaySpec.of("a.json").path == "a.json"
