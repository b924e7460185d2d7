"""The analysis building blocks on in-memory arrays: stains, nucleus detection, classification, outlines."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial import cKDTree

from aignostics_jupyter.emulator.apps.classify import CELL_CLASSES, classify_nuclei, local_density
from aignostics_jupyter.emulator.apps.nuclei import NucleusTable, detect_tile
from aignostics_jupyter.emulator.apps.stains import stain_concentrations
from aignostics_jupyter.emulator.apps.vectorize import mask_polygons, ring_area
from aignostics_jupyter.samples import NUCLEUS_CLASSES, sample_renderer
from aignostics_jupyter.samples.layout import Region
from aignostics_jupyter.samples.render import EOSIN_OD, HAEMATOXYLIN_OD

pytestmark = pytest.mark.unit


def test_colour_deconvolution_recovers_stain_amounts() -> None:
    rng = np.random.default_rng(0)
    h, e = rng.uniform(0, 1.2, 500), rng.uniform(0, 0.8, 500)
    od = h[:, None] * HAEMATOXYLIN_OD + e[:, None] * EOSIN_OD
    rgb = np.clip(256 * 10 ** (-od) - 1 + 0.5, 0, 255).astype(np.uint8)
    got_h, got_e = stain_concentrations(rgb)
    dark = od.max(axis=1) < 2.0  # saturated pixels lose information
    assert np.abs(got_h - h)[dark].max() < 0.05
    assert np.abs(got_e - e)[dark].max() < 0.05


def test_detect_tile_finds_the_rendered_nuclei_once_across_tiles() -> None:
    render = sample_renderer(4096, 4096, 0.25, seed=12)
    grid = render.grid
    tumour = next(blob for region, blob in render.layout.zones if region == Region.TUMOR)
    left, top = int(tumour.l0_cx) - 512, int(tumour.l0_cy) - 512
    margin = 64
    found: list[NucleusTable] = []
    for x0 in (left, left + 512):
        for y0 in (top, top + 512):
            rgb = render(1.0, x0 - margin, y0 - margin, 512 + 2 * margin, 512 + 2 * margin)
            found.append(detect_tile(rgb, (x0 - margin, y0 - margin), (x0, y0, x0 + 512, y0 + 512), 0.25, 0.3))
    table = NucleusTable.concat(found)
    block = grid.block(0, grid.rows, 0, grid.cols)
    present = block.klass >= 0
    tx, ty = block.l0_x[present], block.l0_y[present]
    inside = (tx >= left) & (tx < left + 1024) & (ty >= top) & (ty < top + 1024)
    truth = np.column_stack([tx[inside], ty[inside]])
    assert len(truth) > 30
    found_xy = np.column_stack([table["x"], table["y"]])
    distance, _ = cKDTree(found_xy).query(truth)
    assert (distance < 16).mean() >= 0.9
    pair_distance, _ = cKDTree(found_xy).query(found_xy, k=2)
    assert (pair_distance[:, 1] > 8).all()  # no nucleus reported twice at a tile border
    assert all(ring.shape[1] == 2 and len(ring) >= 4 for ring in table.polygons)


def test_classes_follow_size_shape_and_stain() -> None:
    mpp = 0.25
    um2 = 1 / mpp**2
    columns = {
        "x": np.array([0.0, 100, 200, 300]),
        "y": np.zeros(4),
        "area": np.array([70, 25, 35, 34]) * um2,
        "perimeter": np.full(4, 30.0),
        "major": np.array([10, 6, 14, 7]) / mpp,
        "minor": np.array([9, 5.6, 3.5, 6.4]) / mpp,
        "eccentricity": np.array([0.5, 0.3, 0.95, 0.4]),
        "orientation": np.zeros(4),
        "haematoxylin": np.array([0.6, 1.0, 0.8, 0.75]),
        "eosin": np.zeros(4),
    }
    table = NucleusTable(columns, [np.zeros((4, 2))] * 4)
    density = local_density(table, mpp)
    assert density.shape == (4,)
    names = [CELL_CLASSES[i] for i in classify_nuclei(table, mpp, density)]
    assert names == ["tumor_cell", "lymphocyte", "fibroblast", "other"]
    assert set(CELL_CLASSES) == set(NUCLEUS_CLASSES)


def test_mask_polygons_trace_outlines_and_holes_in_base_pixels() -> None:
    mask = np.zeros((60, 80), dtype=bool)
    mask[10:50, 10:50] = True
    mask[20:30, 20:30] = False
    mask[5:15, 60:75] = True
    polygons = mask_polygons(mask, 4.0)
    assert len(polygons) == 2
    big = max(polygons, key=lambda p: abs(ring_area(p[0])))
    assert len(big) == 2
    assert abs(ring_area(big[0])) == pytest.approx(40 * 40 * 16, rel=0.05)
    assert abs(ring_area(big[1])) == pytest.approx(10 * 10 * 16, rel=0.1)
    xs = big[0][:, 0]
    assert xs.min() == pytest.approx(40, abs=3)
    assert xs.max() == pytest.approx(200, abs=3)
    assert mask_polygons(np.zeros((5, 5), dtype=bool), 1.0) == []


def test_thin_objects_still_get_a_valid_outline() -> None:
    rgb = np.full((80, 80, 3), 240, dtype=np.uint8)
    rgb[40, 30:44] = (40, 20, 90)  # a one-pixel-wide dark streak: boundary pixels in only two directions
    rgb[10:20, 10:20] = (60, 30, 110)  # and an ordinary blob
    table = detect_tile(rgb, (0, 0), (0, 0, 80, 80), 1.0, 0.3)
    assert len(table) == 2
    for ring in table.polygons:
        assert len(ring) >= 4
        assert np.array_equal(ring[0], ring[-1])
        assert abs(ring_area(ring)) > 0
