"""Colours for overlays: class colours as the platform and QuPath write them, a default palette, colormaps.

No matplotlib: the two colormaps are interpolated from a handful of anchor colours into 256-entry tables.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from aignostics_jupyter.exceptions import InvalidInputError

__all__ = ["PALETTE", "RGB", "colormap_lut", "default_color", "parse_color"]

RGB = tuple[int, int, int]

# Distinct, colour-blind-aware defaults (Okabe-Ito, then Tableau) for classes without a colour.
PALETTE: tuple[RGB, ...] = (
    (230, 159, 0),
    (86, 180, 233),
    (0, 158, 115),
    (240, 228, 66),
    (0, 114, 178),
    (213, 94, 0),
    (204, 121, 167),
    (148, 103, 189),
    (140, 86, 75),
    (127, 127, 127),
    (188, 189, 34),
    (23, 190, 207),
)

_ANCHORS: dict[str, list[RGB]] = {
    # viridis at 0, 1/8, ..., 1
    "viridis": [
        (68, 1, 84),
        (71, 44, 122),
        (59, 81, 139),
        (44, 113, 142),
        (33, 144, 141),
        (39, 173, 129),
        (92, 200, 99),
        (170, 220, 50),
        (253, 231, 37),
    ],
    # a blue-white-red diverging map, and a perceptual "hot" map for probabilities
    "coolwarm": [(59, 76, 192), (141, 176, 254), (221, 221, 221), (244, 154, 123), (180, 4, 38)],
    "inferno": [(0, 0, 4), (87, 16, 110), (188, 55, 84), (249, 142, 9), (252, 255, 164)],
    "gray": [(0, 0, 0), (255, 255, 255)],
}


def colormap_lut(name: str) -> NDArray[np.uint8]:
    """A 256 x 3 RGB lookup table for a named colormap (``viridis``, ``inferno``, ``coolwarm``, ``gray``).

    Raises:
        InvalidInputError: For an unknown name.
    """
    anchors = _ANCHORS.get(name)
    if anchors is None:
        msg = f"Unknown colormap {name!r}; use one of {', '.join(sorted(_ANCHORS))}."
        raise InvalidInputError(msg)
    points = np.asarray(anchors, dtype=np.float64)
    positions = np.linspace(0, 255, len(anchors))
    steps = np.arange(256)
    lut = np.stack([np.interp(steps, positions, points[:, c]) for c in range(3)], axis=1)
    return np.round(lut).astype(np.uint8)


def default_color(index: int) -> RGB:
    """The palette colour of the ``index``-th class."""
    return PALETTE[index % len(PALETTE)]


def parse_color(value: Any) -> RGB | None:
    """Read a colour as the platform, QuPath or a user writes it.

    Accepts ``[r, g, b]`` (0-255; extra alpha ignored), ``"#rrggbb"``, ``"rgb(r, g, b)"`` and QuPath's packed
    signed ``colorRGB`` integer (``0xAARRGGBB`` as a Java int).

    Returns:
        ``(r, g, b)``, or None when the value is not a colour.
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        packed = value & 0xFFFFFF
        return (packed >> 16) & 255, (packed >> 8) & 255, packed & 255
    if isinstance(value, str):
        text = value.strip().lower()
        if text.startswith("#") and len(text) in (7, 9):
            try:
                return int(text[1:3], 16), int(text[3:5], 16), int(text[5:7], 16)
            except ValueError:
                return None
        if text.startswith("rgb(") and text.endswith(")"):
            return parse_color([p.strip() for p in text[4:-1].split(",")])
        return None
    if isinstance(value, Sequence) and len(value) >= 3:
        try:
            r, g, b = (int(float(v)) for v in list(value)[:3])
        except (TypeError, ValueError):
            return None
        if all(0 <= c <= 255 for c in (r, g, b)):
            return r, g, b
    return None


def parse_class_colors(mapping: Mapping[str, Any] | None) -> dict[str, RGB]:
    """``class_colors`` metadata (class name → colour) with every colour parsed; unreadable ones dropped."""
    out: dict[str, RGB] = {}
    for name, value in (mapping or {}).items():
        color = parse_color(value)
        if color is not None:
            out[str(name)] = color
    return out
