from __future__ import annotations

import itertools
import math

import pytest

from aignostics_jupyter.exceptions import InvalidInputError, NotFoundError
from aignostics_jupyter.slides.tiling import (
    TILE_SIZE,
    LevelRead,
    TileOutOfRangeError,
    ZoomGrid,
    best_level,
    l0_from_latlng,
    l0_from_um,
    latlng_from_l0,
    plan_level_read,
    um_from_l0,
)
from aignostics_jupyter.slides.writers import level_plan

pytestmark = pytest.mark.unit

SIZES = [(1, 1), (255, 17), (256, 256), (257, 256), (1000, 300), (2000, 1500), (4097, 4095), (15_000, 9_001)]


@pytest.mark.parametrize(
    ("size", "z_max"),
    [((1, 1), 0), ((256, 10), 0), ((257, 10), 1), ((512, 512), 1), ((513, 2), 2), ((100_000, 60_000), 9)],
)
def test_z_max_is_the_zoom_where_the_slide_fits_one_tile_at_zoom_0(size: tuple[int, int], z_max: int) -> None:
    grid = ZoomGrid(*size)
    assert grid.z_max == z_max
    assert grid.tile_count(0) == (1, 1)
    assert grid.downsample(grid.z_max) == 1.0
    assert grid.z_top == z_max + 1
    assert grid.downsample(grid.z_top) == 0.5


@pytest.mark.parametrize("size", SIZES)
def test_tiles_partition_the_slide_at_every_zoom(size: tuple[int, int]) -> None:
    grid = ZoomGrid(*size)
    l0_w, l0_h = size
    for z in range(grid.z_min, grid.z_top + 1):
        columns, rows = grid.tile_count(z)
        area = 0
        for t_x, t_y in itertools.product(range(columns), range(rows)):
            tile = grid.tile(z, t_x, t_y)
            area += tile.l0_w * tile.l0_h
            assert 0 <= tile.l0_x < l0_w
            assert 0 <= tile.l0_y < l0_h
            assert tile.l0_x + tile.l0_w <= l0_w
            assert tile.l0_y + tile.l0_h <= l0_h
            assert tile.l0_x == round(t_x * TILE_SIZE * tile.downsample)
            # Content size matches the base region at this zoom, and only edge tiles are smaller.
            assert tile.z_w == min(TILE_SIZE, math.ceil(tile.l0_w / tile.downsample))
            assert tile.z_h == min(TILE_SIZE, math.ceil(tile.l0_h / tile.downsample))
            assert tile.is_edge == (
                (t_x == columns - 1 and tile.z_w < TILE_SIZE) or (t_y == rows - 1 and tile.z_h < TILE_SIZE)
            )
            assert (t_x < columns - 1) <= (tile.z_w == TILE_SIZE)
        assert area == l0_w * l0_h
        assert grid.z_size(z) == (math.ceil(l0_w / grid.downsample(z)), math.ceil(l0_h / grid.downsample(z)))


@pytest.mark.parametrize(
    ("z", "t_x", "t_y"),
    [(-1, 0, 0), (6, 0, 0), (99, 0, 0), (4, 16, 0), (4, 0, 12), (4, -1, 0), (0, 1, 0), (0, 0, 1)],
)
def test_out_of_range_tiles(z: int, t_x: int, t_y: int) -> None:
    grid = ZoomGrid(4000, 3000)  # z_max 4, tiles at z 4: 16 x 12
    assert grid.tile_count(4) == (16, 12)
    with pytest.raises(TileOutOfRangeError, match=r"outside") as info:
        grid.tile(z, t_x, t_y)
    assert isinstance(info.value, NotFoundError)


def test_edge_tile_is_cropped() -> None:
    grid = ZoomGrid(4000, 3000)
    tile = grid.tile(4, 15, 11)
    assert tile.l0_region == (3840, 2816, 160, 184)
    assert (tile.z_w, tile.z_h) == (160, 184)
    assert tile.is_edge
    coarse = grid.tile(0, 0, 0)
    assert coarse.l0_region == (0, 0, 4000, 3000)
    assert (coarse.z_w, coarse.z_h) == (250, 188)  # 4000/16, ceil(3000/16)
    fine = grid.tile(5, 31, 23)
    assert fine.l0_region == (3968, 2944, 32, 56)
    assert (fine.z_w, fine.z_h) == (64, 112)


@pytest.mark.parametrize("bad", [(0, 10), (10, 0), (-5, 5)])
def test_grid_rejects_empty_slides(bad: tuple[int, int]) -> None:
    with pytest.raises(InvalidInputError):
        ZoomGrid(*bad)


def test_grid_rejects_bad_parameters() -> None:
    with pytest.raises(InvalidInputError):
        ZoomGrid(10, 10, tile_size=0)
    with pytest.raises(InvalidInputError):
        ZoomGrid(10, 10, extra_zooms=-1)


@pytest.mark.parametrize(
    ("downsamples", "wanted", "level"),
    [
        ([1.0], 0.5, 0),
        ([1.0], 64, 0),
        ([1.0, 4.0, 16.0], 0.5, 0),
        ([1.0, 4.0, 16.0], 2, 0),
        ([1.0, 4.0, 16.0], 3.9, 0),
        ([1.0, 4.0, 16.0], 3.95, 1),  # within the 2 % tolerance
        ([1.0, 4.0, 16.0], 4, 1),
        ([1.0, 4.0, 16.0], 8, 1),
        ([1.0, 4.0, 16.06], 16, 2),  # rounded level size
        ([1.0, 4.0, 16.0], 1024, 2),
        ([1.0, 2.0, 4.0, 8.0, 16.0], 8, 3),
    ],
)
def test_best_level(downsamples: list[float], wanted: float, level: int) -> None:
    assert best_level(downsamples, wanted) == level


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("step", [2, 4])
def test_level_reads_use_the_smallest_sufficient_level(size: tuple[int, int], step: int) -> None:
    plan = level_plan(*size, step=step, smallest=64)
    downsamples = [0.5 * (size[0] / w + size[1] / h) for _, w, h in plan]
    grid = ZoomGrid(*size)
    for z in range(grid.z_top + 1):
        columns, rows = grid.tile_count(z)
        for t_x, t_y in {(0, 0), (columns - 1, rows - 1), (columns // 2, rows // 2)}:
            tile = grid.tile(z, t_x, t_y)
            read = plan_level_read(tile, downsamples)
            level_downsample = downsamples[read.level]
            assert level_downsample <= tile.downsample * 1.02 or read.level == 0
            if read.level + 1 < len(downsamples):
                assert downsamples[read.level + 1] > tile.downsample * 1.02
            assert read.l0_location == (tile.l0_x, tile.l0_y)
            assert read.out_size == (tile.z_w, tile.z_h)
            assert read.l_size == (
                max(1, round(tile.l0_w / level_downsample)),
                max(1, round(tile.l0_h / level_downsample)),
            )
            # Never read more than one level step beyond what the tile shows.
            assert read.l_size[0] <= tile.z_w * step * 1.03 + 1


def test_level_read_at_native_and_beyond() -> None:
    grid = ZoomGrid(2000, 1500)  # z_max 3
    assert plan_level_read(grid.tile(3, 1, 1), [1.0, 4.0]) == LevelRead(0, (256, 256), (256, 256), (256, 256))
    beyond = plan_level_read(grid.tile(4, 3, 3), [1.0, 4.0])
    assert beyond == LevelRead(0, (384, 384), (128, 128), (256, 256))
    assert beyond.needs_resize
    coarse = plan_level_read(grid.tile(0, 0, 0), [1.0, 4.0, 16.06])
    assert coarse.level == 1  # downsample 8: the 4x level, halved
    assert coarse.l_size == (500, 375)
    assert coarse.out_size == (250, 188)


def test_micrometres() -> None:
    assert um_from_l0(1000, 0.25) == 250.0
    assert l0_from_um(250.0, 0.25) == 1000.0
    with pytest.raises(InvalidInputError):
        l0_from_um(1.0, 0.0)


@pytest.mark.parametrize(("l0_x", "l0_y", "z_max"), [(0, 0, 0), (1000, 300, 4), (123.5, 99_999, 9)])
def test_latlng_round_trip(l0_x: float, l0_y: float, z_max: int) -> None:
    lat, lng = latlng_from_l0(l0_x, l0_y, z_max)
    assert lat <= 0
    assert l0_from_latlng(lat, lng, z_max) == pytest.approx((l0_x, l0_y))


def test_latlng_matches_tile_corners() -> None:
    # In CRS.Simple a tile z/x/y has its top-left at latlng (-y*256/2^z, x*256/2^z).
    grid = ZoomGrid(4000, 3000)
    tile = grid.tile(3, 2, 1)
    lat, lng = latlng_from_l0(tile.l0_x, tile.l0_y, grid.z_max)
    assert (lat, lng) == (-1 * 256 / 2**3, 2 * 256 / 2**3)


def test_latlng_bounds_and_scale() -> None:
    grid = ZoomGrid(4000, 3000)  # z_max 4: 16 base pixels per CRS unit
    assert grid.latlng_bounds() == ((-3000 / 16, 0.0), (0.0, 4000 / 16))
    assert grid.um_per_pixel(grid.z_max, 0.25) == 0.25
    assert grid.um_per_pixel(0, 0.25) == 4.0
    assert grid.um_per_pixel(grid.z_top, 0.5) == 0.25
