"""The procedural sample slide: deterministic, consistent across tiles and levels, matching its ground truth."""

from __future__ import annotations

import numpy as np
import pytest

from aignostics_jupyter.samples import sample_renderer
from aignostics_jupyter.samples.layout import Region, make_layout
from aignostics_jupyter.samples.noise import hash_uniform, value_noise
from aignostics_jupyter.samples.nuclei import NUCLEUS_CLASSES, NucleusGrid
from aignostics_jupyter.samples.render import SampleRenderer

pytestmark = pytest.mark.unit


def test_hash_is_deterministic_uniform_and_salted() -> None:
    i = np.arange(200_000, dtype=np.int64)
    a = hash_uniform(i, i * 3, 7)
    assert np.array_equal(a, hash_uniform(i, i * 3, 7))
    assert a.min() >= 0.0
    assert a.max() < 1.0
    assert abs(a.mean() - 0.5) < 0.01
    assert np.corrcoef(a, hash_uniform(i, i * 3, 8))[0, 1] < 0.01


def test_value_noise_is_the_same_for_a_region_and_its_parts() -> None:
    x = np.arange(0, 300, dtype=np.float64) + 0.5
    y = np.arange(0, 200, dtype=np.float64) + 0.5
    whole = value_noise(x, y, 37.0, 11.0, 3)
    part = value_noise(x[150:], y[50:120], 37.0, 11.0, 3)
    np.testing.assert_array_equal(whole[50:120, 150:], part)
    assert whole.min() >= 0.0
    assert whole.max() <= 1.0


def test_same_seed_same_pixels_other_seed_other_pixels() -> None:
    a = sample_renderer(2048, 2048, 0.25, seed=5)(4.0, 0, 0, 512, 512)
    b = sample_renderer(2048, 2048, 0.25, seed=5)(4.0, 0, 0, 512, 512)
    c = sample_renderer(2048, 2048, 0.25, seed=6)(4.0, 0, 0, 512, 512)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("downsample", [1.0, 4.0])
def test_tiles_compose_the_region(downsample: float) -> None:
    render = sample_renderer(4096, 4096, 0.25, seed=3)
    x0, y0 = (1200, 1400) if downsample == 1 else (300, 350)
    whole = render(downsample, x0, y0, 512, 512)
    tiled = np.vstack(
        [
            np.hstack([render(downsample, x0 + x, y0 + y, 128, 128) for x in range(0, 512, 128)])
            for y in range(0, 512, 128)
        ]
    )
    np.testing.assert_array_equal(whole, tiled)


def test_levels_show_the_same_picture() -> None:
    render = sample_renderer(2048, 2048, 0.25, seed=2)
    base = render(1.0, 512, 512, 1024, 1024).astype(np.float32)
    reduced = render(4.0, 128, 128, 256, 256).astype(np.float32)
    block_mean = base.reshape(256, 4, 256, 4, 3).mean(axis=(1, 3))
    assert np.abs(block_mean - reduced).mean() < 6.0


def test_layout_islands_are_inside_the_slide_and_apart() -> None:
    for seed in range(12):
        layout = make_layout(4096, 3072, 0.25, seed)
        assert 1 <= len(layout.islands) <= 4
        for i, island in enumerate(layout.islands):
            x0, y0, x1, y1 = island.bbox()
            assert x0 >= 0
            assert y0 >= 0
            assert x1 <= 4096
            assert y1 <= 3072
            for other in layout.islands[i + 1 :]:
                gap = np.hypot(island.l0_cx - other.l0_cx, island.l0_cy - other.l0_cy)
                assert gap > island.l0_reach + other.l0_reach


def test_tissue_area_matches_the_rendered_tissue() -> None:
    layout = make_layout(2048, 2048, 0.5, seed=4)
    x = np.arange(0, 2048, 2, dtype=np.float64) + 1.0
    codes, coverage = layout.regions(x[None, :], x[:, None], 2.0)
    rendered_px = float(coverage.sum()) * 4
    assert rendered_px == pytest.approx(layout.tissue_area_px(), rel=0.01)
    assert set(np.unique(codes)) >= {Region.BACKGROUND, Region.STROMA, Region.TUMOR}


def test_ground_truth_nuclei_are_dark_in_the_image() -> None:
    layout = make_layout(4096, 4096, 0.25, seed=9)
    grid = NucleusGrid(layout, 9)
    render = SampleRenderer(layout, 9)
    island = layout.islands[0]
    x0, y0 = int(island.l0_cx) - 512, int(island.l0_cy) - 512
    image = render(1.0, x0, y0, 1024, 1024)
    blocks = list(grid.iter_nuclei(rows_per_block=16))
    klass = np.concatenate([b.klass.ravel() for b in blocks])
    xs = np.concatenate([b.l0_x.ravel() for b in blocks])[klass >= 0].astype(int)
    ys = np.concatenate([b.l0_y.ravel() for b in blocks])[klass >= 0].astype(int)
    inside = (xs >= x0) & (xs < x0 + 1024) & (ys >= y0) & (ys < y0 + 1024)
    assert inside.sum() > 50
    at_nuclei = image[ys[inside] - y0, xs[inside] - x0].astype(int).sum(axis=1)
    background = render(1.0, 0, 0, 64, 64).astype(int).sum(axis=2)
    assert np.median(at_nuclei) < 0.55 * np.median(background)
    counts = grid.counts()
    assert sum(counts.values()) == len(xs)
    assert set(counts) == set(NUCLEUS_CLASSES)
    assert counts["tumor_cell"] > 0
    assert counts["lymphocyte"] > 0


def test_density_mode_low_levels_are_cheap_and_purple_in_tumour() -> None:
    layout = make_layout(16384, 16384, 0.25, seed=1)
    render = SampleRenderer(layout, 1)
    overview = render(64.0, 0, 0, 256, 256)
    assert overview.shape == (256, 256, 3)
    x = (np.arange(256) + 0.5) * 64
    codes, _ = layout.regions(x[None, :], x[:, None], 64.0)
    tumour = overview[codes == Region.TUMOR].astype(float).mean(axis=0)
    stroma = overview[codes == Region.STROMA].astype(float).mean(axis=0)
    assert tumour[0] < stroma[0]  # haematoxylin absorbs red: nuclei-dense tumour is darker in red


def test_folds_are_tissue_stained_about_twice() -> None:
    layout = make_layout(4096, 4096, 0.25, seed=7)
    assert len(layout.folds) == 1
    render = SampleRenderer(layout, 7)
    image = render(8.0, 0, 0, 512, 512).astype(np.float64)
    x = (np.arange(512) + 0.5) * 8.0
    codes, coverage = layout.regions(x[None, :], x[:, None], 8.0)
    fold = layout.fold_coverage(x[None, :], x[:, None], 8.0)
    assert fold is not None
    density = -np.log10((image + 1) / 256).max(axis=-1)
    stroma = (codes == Region.STROMA) & (coverage == 1)
    folded = density[stroma & (fold == 1)].mean()
    flat = density[stroma & (fold == 0)].mean()
    assert 1.6 < folded / flat < 2.2
    assert make_layout(4096, 4096, 0.25, seed=7).folds == layout.folds
