"""Unit conversions of the slide viewer: zoom to µm per screen pixel, scale bars, lengths and areas.

Pure functions. Coordinate planes are named by prefix as in :mod:`aignostics_jupyter.slides.tiling`: ``l0_`` base
pixels, ``um_`` micrometres, ``z`` the Leaflet zoom (``z_max`` is the zoom at which one screen pixel is one base
pixel), ``lat``/``lng`` Leaflet ``CRS.Simple`` coordinates.

Example:
    >>> um_per_screen_px(mpp=0.5, z=7, z_max=9)
    2.0
    >>> scale_bar(um_per_px=2.0, max_px=120)
    ScaleBar(um=200.0, px=100.0, label='200 µm')
    >>> format_length(1500.0)
    '1.5 mm'
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import NamedTuple

from aignostics_jupyter.slides.tiling import l0_from_latlng, latlng_from_l0

__all__ = [
    "ScaleBar",
    "format_area",
    "format_length",
    "l0_from_latlng",
    "latlng_from_l0",
    "path_length_um",
    "polygon_area_um2",
    "scale_bar",
    "um_per_screen_px",
    "zoom_for_um_per_px",
]

_NICE = (1.0, 2.0, 5.0)


class ScaleBar(NamedTuple):
    """A scale bar: its physical length, its length on screen and its label."""

    um: float
    px: float
    label: str


def um_per_screen_px(mpp: float, z: float, z_max: int) -> float:
    """Micrometres covered by one screen pixel at zoom ``z`` (``mpp * 2 ** (z_max - z)``)."""
    return float(mpp * 2.0 ** (z_max - z))


def zoom_for_um_per_px(um_per_px: float, mpp: float, z_max: int) -> float:
    """The (fractional) zoom at which one screen pixel covers ``um_per_px`` micrometres.

    Raises:
        ValueError: When either resolution is not positive.
    """
    if um_per_px <= 0 or mpp <= 0:
        msg = "Resolutions must be positive."
        raise ValueError(msg)
    return z_max - math.log2(um_per_px / mpp)


def format_length(um: float) -> str:
    """A length for people: ``nm`` below 1 µm, ``µm`` below 1 mm, else ``mm``.

    Three significant digits; whole numbers keep all of theirs.

    Example:
        >>> format_length(0.25), format_length(12.345), format_length(2000)
        ('250 nm', '12.3 µm', '2 mm')
    """
    if um < 1:
        value, unit = um * 1000, "nm"
    elif um < 1000:
        value, unit = um, "µm"
    else:
        value, unit = um / 1000, "mm"
    return f"{_three(value)} {unit}"


def format_area(um2: float) -> str:
    """An area in mm² (from 0.01 mm² up) or µm².

    Example:
        >>> format_area(250.0), format_area(2_500_000.0)
        ('250 µm²', '2.5 mm²')
    """
    if um2 >= 1e4:
        return f"{_three(um2 / 1e6)} mm²"
    return f"{_three(um2)} µm²"


def _three(value: float) -> str:
    if value == 0:
        return "0"
    digits = max(0, 2 - math.floor(math.log10(abs(value))))
    text = f"{value:.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def scale_bar(um_per_px: float, max_px: float = 120.0) -> ScaleBar:
    """The longest 1-2-5 length that fits in ``max_px`` screen pixels.

    Args:
        um_per_px: Micrometres per screen pixel at the current zoom.
        max_px: The longest bar allowed, in screen pixels.

    Raises:
        ValueError: When either argument is not positive.
    """
    if um_per_px <= 0 or max_px <= 0:
        msg = "The resolution and the bar length must be positive."
        raise ValueError(msg)
    budget = um_per_px * max_px
    exponent = math.floor(math.log10(budget))
    best = 10.0**exponent
    for step in _NICE:
        candidate = step * 10.0**exponent
        if candidate <= budget * (1 + 1e-9):
            best = candidate
    return ScaleBar(um=best, px=best / um_per_px, label=format_length(best))


def path_length_um(l0_points: Sequence[tuple[float, float]], mpp: tuple[float, float]) -> float:
    """Length in µm of a polyline given in base pixels (anisotropic mpp respected)."""
    total = 0.0
    for (x0, y0), (x1, y1) in itertools.pairwise(l0_points):
        total += math.hypot((x1 - x0) * mpp[0], (y1 - y0) * mpp[1])
    return total


def polygon_area_um2(l0_points: Sequence[tuple[float, float]], mpp: tuple[float, float]) -> float:
    """Area in µm² of a simple polygon given in base pixels (shoelace; closing vertex optional)."""
    if len(l0_points) < 3:
        return 0.0
    twice = 0.0
    for (x0, y0), (x1, y1) in zip(l0_points, [*l0_points[1:], l0_points[0]], strict=True):
        twice += x0 * y1 - x1 * y0
    return abs(twice) / 2.0 * mpp[0] * mpp[1]
