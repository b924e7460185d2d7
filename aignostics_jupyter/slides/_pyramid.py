"""What every slide writer shares: the renderer contract, the pyramid plan and tile iteration."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

RegionRenderer = Callable[[float, int, int, int, int], NDArray[np.uint8]]
"""``(downsample, l_x, l_y, l_w, l_h) -> uint8 array (l_h, l_w, 3)``: RGB pixels of a region given in the
pixels of the level with that downsample (base pixel ``l0 = l * downsample``)."""


def level_plan(width: int, height: int, *, step: int = 4, smallest: int = 1024) -> list[tuple[int, int, int]]:
    """The pyramid the writers produce: ``(downsample, l_width, l_height)`` per level, base level first.

    Levels are added, each ``step`` times smaller than the previous, until the longer side is at most
    ``smallest`` pixels.

    Args:
        width: Base level width in pixels.
        height: Base level height in pixels.
        step: Downsample factor between consecutive levels.
        smallest: Stop once the longer side of a level is at most this.

    Returns:
        One ``(downsample, width, height)`` per level.

    Example:
        >>> level_plan(4000, 3000)
        [(1, 4000, 3000), (4, 1000, 750)]
    """
    levels = [(1, width, height)]
    downsample = 1
    while max(levels[-1][1], levels[-1][2]) > smallest and step > 1:
        downsample *= step
        levels.append((downsample, max(1, width // downsample), max(1, height // downsample)))
    return levels


@dataclass(frozen=True)
class PyramidSpec:
    """Everything a format writer needs besides the target path.

    Attributes:
        levels: ``(downsample, l_width, l_height)`` per level, base first (see :func:`level_plan`).
        render: Supplies the pixels of each tile.
        mpp: Microns per pixel of the base level.
        tile_size: Tile edge in pixels.
        quality: JPEG quality.
        objective_power: Objective magnification.
        label: Optional RGB label image.
        macro: Optional RGB macro (overview) image.
        thumbnail_max: Longer side of the thumbnail page (SVS).
    """

    levels: list[tuple[int, int, int]]
    render: RegionRenderer
    mpp: float
    tile_size: int = 256
    quality: int = 85
    objective_power: float = 20.0
    label: NDArray[np.uint8] | None = None
    macro: NDArray[np.uint8] | None = None
    thumbnail_max: int = 768

    @property
    def width(self) -> int:
        """Base level width."""
        return self.levels[0][1]

    @property
    def height(self) -> int:
        """Base level height."""
        return self.levels[0][2]


def render_checked(render: RegionRenderer, downsample: float, region: tuple[int, int, int, int]) -> NDArray[np.uint8]:
    """Call the renderer for ``region = (l_x, l_y, l_w, l_h)`` and check what it returns.

    Raises:
        ValueError: When the renderer returns another shape or dtype than asked for.
    """
    l_x, l_y, l_w, l_h = region
    pixels: NDArray[np.uint8] = np.asarray(render(downsample, l_x, l_y, l_w, l_h))
    if pixels.shape != (l_h, l_w, 3) or pixels.dtype != np.uint8:
        msg = f"The renderer returned {pixels.dtype} {pixels.shape} where uint8 {(l_h, l_w, 3)} was asked for."
        raise ValueError(msg)
    return pixels


def tile_regions(l_w: int, l_h: int, tile_size: int) -> Iterator[tuple[int, int, int, int]]:
    """Row-major ``(l_x, l_y, l_w, l_h)`` of every tile of a level, edge tiles cropped to the image."""
    for l_y in range(0, l_h, tile_size):
        for l_x in range(0, l_w, tile_size):
            yield l_x, l_y, min(tile_size, l_w - l_x), min(tile_size, l_h - l_y)


def padded_tiles(spec: PyramidSpec, level: int) -> Iterator[NDArray[np.uint8]]:
    """Full-size tiles of one level in row-major order; edge tiles are padded beyond the image."""
    downsample, l_w, l_h = spec.levels[level]
    size = spec.tile_size
    for region in tile_regions(l_w, l_h, size):
        pixels = render_checked(spec.render, downsample, region)
        if pixels.shape[:2] != (size, size):
            # Repeat the edge pixels into the padding: white padding would bleed into the image through
            # JPEG's 8x8 blocks and chroma subsampling.
            pad = ((0, size - pixels.shape[0]), (0, size - pixels.shape[1]), (0, 0))
            pixels = np.pad(pixels, pad, mode="edge")
        yield pixels


def render_whole(render: RegionRenderer, width: int, height: int, max_size: int) -> NDArray[np.uint8]:
    """A small overview of the whole slide (thumbnail, macro), rendered in one call."""
    downsample = max(width / max_size, height / max_size, 1.0)
    l_w, l_h = max(1, round(width / downsample)), max(1, round(height / downsample))
    return render_checked(render, width / l_w, (0, 0, l_w, l_h))
