"""Tile maths for the viewer: Leaflet ``z/x/y`` tiles of a slide in a simple (non-geographic) CRS.

Pure functions and frozen dataclasses, no I/O. Every variable names its coordinate plane by prefix:

=========  ==========================================================================================
``l0_``    base-level (level 0) pixels of the slide
``l_``     pixels of one pyramid level
``z_``     pixels of the whole slide rendered at a Leaflet zoom, or the zoom itself (``z``)
``t_``     tile indices (column ``t_x``, row ``t_y``) at a zoom
``um_``    micrometres on the glass
=========  ==========================================================================================

The grid: tiles are ``tile_size`` (256) pixels. At zoom ``z_max`` one screen pixel is one base pixel
(the native resolution); each zoom step halves or doubles that, so the downsample at zoom ``z`` is
``2 ** (z_max - z)``. Zoom 0 is the smallest zoom at which the whole slide fits one tile; zooms past
``z_max`` (by default one: ``z_max + 1``) upsample. Edge tiles are cropped to the slide.

Leaflet's ``CRS.Simple`` maps ``latlng`` 1:1 to pixels at zoom 0, so a base pixel ``(l0_x, l0_y)`` is at
``lng = l0_x / 2 ** z_max`` and ``lat = -l0_y / 2 ** z_max`` (y grows downwards in the image).

Example:
    >>> grid = ZoomGrid(l0_width=100_000, l0_height=60_000)
    >>> grid.z_max, grid.downsample(grid.z_max - 2)
    (9, 4.0)
    >>> grid.tile(9, 0, 0).l0_region
    (0, 0, 256, 256)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from aignostics_jupyter.exceptions import InvalidInputError, NotFoundError

__all__ = [
    "TILE_SIZE",
    "LevelRead",
    "TileOutOfRangeError",
    "TileRegion",
    "ZoomGrid",
    "best_level",
    "l0_from_latlng",
    "l0_from_um",
    "latlng_from_l0",
    "plan_level_read",
    "um_from_l0",
]

TILE_SIZE = 256
_LEVEL_TOLERANCE = 1.02  # level sizes are rounded: a nominal 16x level may report 16.06


class TileOutOfRangeError(NotFoundError):
    """The requested zoom or tile index lies outside the slide's tile grid (HTTP 404)."""


def best_level(level_downsamples: Sequence[float], downsample: float) -> int:
    """The smallest pyramid level whose downsample is at most ``downsample`` (with 2 % tolerance).

    Args:
        level_downsamples: Downsample of every level, level 0 first (1.0), ascending.
        downsample: Base pixels per output pixel wanted.

    Returns:
        The level index; 0 when even the base level is coarser than asked (upsampling).

    Example:
        >>> best_level([1.0, 4.0, 16.06], 16)
        2
        >>> best_level([1.0, 4.0, 16.0], 8)
        1
    """
    chosen = 0
    for level, level_downsample in enumerate(level_downsamples):
        if level_downsample <= downsample * _LEVEL_TOLERANCE:
            chosen = level
    return chosen


@dataclass(frozen=True)
class TileRegion:
    """Where one viewer tile lies on the slide.

    Attributes:
        z: Leaflet zoom.
        t_x: Tile column.
        t_y: Tile row.
        downsample: Base pixels per tile pixel at this zoom (below 1 past native resolution).
        l0_x: Left edge in base pixels.
        l0_y: Top edge in base pixels.
        l0_w: Width in base pixels, cropped to the slide.
        l0_h: Height in base pixels, cropped to the slide.
        z_w: Width of the tile's image content in pixels (``tile_size`` except at the right edge).
        z_h: Height of the tile's image content in pixels (``tile_size`` except at the bottom edge).
        tile_size: The full tile edge (for padding edge tiles to full size).
    """

    z: int
    t_x: int
    t_y: int
    downsample: float
    l0_x: int
    l0_y: int
    l0_w: int
    l0_h: int
    z_w: int
    z_h: int
    tile_size: int = TILE_SIZE

    @property
    def l0_region(self) -> tuple[int, int, int, int]:
        """``(l0_x, l0_y, l0_w, l0_h)``."""
        return self.l0_x, self.l0_y, self.l0_w, self.l0_h

    @property
    def is_edge(self) -> bool:
        """Whether the tile is cropped by the slide's right or bottom edge."""
        return (self.z_w, self.z_h) != (self.tile_size, self.tile_size)


@dataclass(frozen=True)
class ZoomGrid:
    """The Leaflet tile pyramid of one slide (or overlay aligned to it).

    Attributes:
        l0_width: Base level width in pixels.
        l0_height: Base level height in pixels.
        tile_size: Tile edge in pixels.
        extra_zooms: How many zooms past native resolution are served (upsampled 2x each).
    """

    l0_width: int
    l0_height: int
    tile_size: int = TILE_SIZE
    extra_zooms: int = 1

    def __post_init__(self) -> None:
        if self.l0_width < 1 or self.l0_height < 1:
            msg = f"A tile grid needs a positive slide size, not {self.l0_width}x{self.l0_height}."
            raise InvalidInputError(msg)
        if self.tile_size < 1 or self.extra_zooms < 0:
            msg = f"Invalid tile grid: tile size {self.tile_size}, extra zooms {self.extra_zooms}."
            raise InvalidInputError(msg)

    @property
    def z_min(self) -> int:
        """The coarsest zoom: the whole slide fits one tile."""
        return 0

    @property
    def z_max(self) -> int:
        """The zoom of native resolution (one screen pixel per base pixel)."""
        longest = max(self.l0_width, self.l0_height)
        return max(0, math.ceil(math.log2(longest / self.tile_size) - 1e-12))

    @property
    def z_top(self) -> int:
        """The finest zoom served: ``z_max + extra_zooms``."""
        return self.z_max + self.extra_zooms

    def downsample(self, z: int) -> float:
        """Base pixels per screen pixel at zoom ``z``: ``2 ** (z_max - z)``."""
        return float(2.0 ** (self.z_max - z))

    def z_size(self, z: int) -> tuple[int, int]:
        """``(z_width, z_height)``: the whole slide's size in pixels at zoom ``z`` (partial pixels count)."""
        downsample = self.downsample(z)
        return math.ceil(self.l0_width / downsample), math.ceil(self.l0_height / downsample)

    def tile_count(self, z: int) -> tuple[int, int]:
        """``(columns, rows)`` of tiles at zoom ``z``."""
        z_w, z_h = self.z_size(z)
        return math.ceil(z_w / self.tile_size), math.ceil(z_h / self.tile_size)

    def latlng_bounds(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """The slide's corners in Leaflet ``CRS.Simple``: ``((south, west), (north, east))``."""
        south, west = latlng_from_l0(0, self.l0_height, self.z_max)
        north, east = latlng_from_l0(self.l0_width, 0, self.z_max)
        return (south, west), (north, east)

    def um_per_pixel(self, z: int, mpp: float) -> float:
        """Micrometres per screen pixel at zoom ``z`` for a slide of ``mpp`` microns per base pixel."""
        return um_from_l0(self.downsample(z), mpp)

    def check(self, z: int, t_x: int, t_y: int) -> None:
        """Raise :class:`TileOutOfRangeError` unless tile ``z/t_x/t_y`` exists."""
        if not self.z_min <= z <= self.z_top:
            msg = f"Zoom {z} is outside this slide's zoom range {self.z_min}-{self.z_top}."
            raise TileOutOfRangeError(msg)
        columns, rows = self.tile_count(z)
        if not (0 <= t_x < columns and 0 <= t_y < rows):
            msg = f"Tile {z}/{t_x}/{t_y} is outside the slide's {columns}x{rows} tiles at zoom {z}."
            raise TileOutOfRangeError(msg)

    def tile(self, z: int, t_x: int, t_y: int) -> TileRegion:
        """The slide region of tile ``z/t_x/t_y``, cropped to the slide.

        Raises:
            TileOutOfRangeError: For a zoom outside ``z_min..z_top`` or an index outside the grid.
        """
        self.check(z, t_x, t_y)
        downsample = self.downsample(z)
        size = self.tile_size
        # Exact: downsample is a power of two and tile_size * downsample an integer for downsample >= 1/size.
        l0_x, l0_y = round(t_x * size * downsample), round(t_y * size * downsample)
        l0_w = min(round(size * downsample), self.l0_width - l0_x)
        l0_h = min(round(size * downsample), self.l0_height - l0_y)
        z_w = min(size, math.ceil(l0_w / downsample))
        z_h = min(size, math.ceil(l0_h / downsample))
        return TileRegion(z, t_x, t_y, downsample, l0_x, l0_y, max(1, l0_w), max(1, l0_h), z_w, z_h, size)


@dataclass(frozen=True)
class LevelRead:
    """How to produce a tile from the pyramid: one region read at one level, then a resize.

    Attributes:
        level: The pyramid level to read.
        l0_location: Top-left of the read in base pixels.
        l_size: ``(width, height)`` to read, in pixels of ``level``.
        out_size: ``(width, height)`` of the tile content after resizing.
    """

    level: int
    l0_location: tuple[int, int]
    l_size: tuple[int, int]
    out_size: tuple[int, int]

    @property
    def needs_resize(self) -> bool:
        """Whether the read must be resized to ``out_size``."""
        return self.l_size != self.out_size


def plan_level_read(region: TileRegion, level_downsamples: Sequence[float]) -> LevelRead:
    """Choose the level to read a tile from (the smallest with downsample <= the tile's) and the region.

    Args:
        region: The tile, from :meth:`ZoomGrid.tile`.
        level_downsamples: The slide's level downsamples, level 0 first.

    Returns:
        The :class:`LevelRead`.

    Example:
        >>> grid = ZoomGrid(4000, 3000)
        >>> plan_level_read(grid.tile(2, 1, 0), [1.0, 4.0, 16.0])
        LevelRead(level=1, l0_location=(1024, 0), l_size=(256, 256), out_size=(256, 256))
    """
    level = best_level(level_downsamples, region.downsample)
    level_downsample = level_downsamples[level]
    l_w = max(1, round(region.l0_w / level_downsample))
    l_h = max(1, round(region.l0_h / level_downsample))
    return LevelRead(level, (region.l0_x, region.l0_y), (l_w, l_h), (region.z_w, region.z_h))


def um_from_l0(l0_length: float, mpp: float) -> float:
    """Micrometres from a length in base pixels, given microns per pixel."""
    return l0_length * mpp


def l0_from_um(um_length: float, mpp: float) -> float:
    """Base pixels from a length in micrometres, given microns per pixel.

    Raises:
        InvalidInputError: When ``mpp`` is not positive.
    """
    if mpp <= 0:
        msg = f"Microns per pixel must be positive, not {mpp}."
        raise InvalidInputError(msg)
    return um_length / mpp


def latlng_from_l0(l0_x: float, l0_y: float, z_max: int) -> tuple[float, float]:
    """Leaflet ``CRS.Simple`` ``(lat, lng)`` of a base pixel position."""
    scale = 2.0**z_max
    return -l0_y / scale, l0_x / scale


def l0_from_latlng(lat: float, lng: float, z_max: int) -> tuple[float, float]:
    """Base pixel position ``(l0_x, l0_y)`` of a Leaflet ``CRS.Simple`` ``(lat, lng)``."""
    scale = 2.0**z_max
    return lng * scale, -lat * scale
