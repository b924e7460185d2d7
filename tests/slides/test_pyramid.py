from __future__ import annotations

import pytest

from aignostics_jupyter.slides._pyramid import level_plan, render_whole, tile_regions
from aignostics_jupyter.slides.writers import gradient_pattern

pytestmark = pytest.mark.unit


def test_level_plan() -> None:
    assert level_plan(4000, 3000) == [(1, 4000, 3000), (4, 1000, 750)]
    assert level_plan(100_000, 50_000, step=2, smallest=2000)[-1] == (64, 1562, 781)
    assert level_plan(500, 500) == [(1, 500, 500)]
    assert level_plan(5000, 10, smallest=100) == [(1, 5000, 10), (4, 1250, 2), (16, 312, 1), (64, 78, 1)]


def test_tile_regions_cover_level_once() -> None:
    regions = list(tile_regions(600, 300, 256))
    assert regions[0] == (0, 0, 256, 256)
    assert regions[-1] == (512, 256, 88, 44)
    assert sum(w * h for _, _, w, h in regions) == 600 * 300


def test_render_whole_keeps_aspect() -> None:
    assert render_whole(gradient_pattern(4000, 1000), 4000, 1000, 400).shape == (100, 400, 3)
    assert render_whole(gradient_pattern(30, 20), 30, 20, 400).shape == (20, 30, 3)
