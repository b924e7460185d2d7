"""Label maps to polygons: smooth outlines with holes, in base-level pixel coordinates."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage
from skimage.measure import approximate_polygon, find_contours

__all__ = ["mask_polygons", "ring_area"]


def ring_area(ring: NDArray[np.float64]) -> float:
    """Signed shoelace area of a closed ring ``(n, 2)`` (positive: counter-clockwise with y up)."""
    x, y = ring[:, 0], ring[:, 1]
    return 0.5 * float(np.dot(x[:-1], y[1:]) - np.dot(x[1:], y[:-1]))


def _inside(point: NDArray[np.float64], ring: NDArray[np.float64]) -> bool:
    x, y = point
    x0, y0, x1, y1 = ring[:-1, 0], ring[:-1, 1], ring[1:, 0], ring[1:, 1]
    crosses = (y0 > y) != (y1 > y)
    with np.errstate(divide="ignore", invalid="ignore"):
        at = x0 + (y - y0) * (x1 - x0) / (y1 - y0)
    return bool(np.count_nonzero(crosses & (x < at)) % 2)


def mask_polygons(
    mask: NDArray[np.bool_],
    downsample: float,
    *,
    smooth: float = 0.7,
    tolerance: float = 0.35,
    min_area_px: float = 2.0,
) -> list[list[NDArray[np.float64]]]:
    """Outline the regions of a mask as polygons ``[exterior, *holes]`` in base pixels.

    Args:
        mask: The regions; pixel ``(r, c)`` covers base pixels ``[c·d, (c+1)·d) x [r·d, (r+1)·d)``.
        downsample: ``d``.
        smooth: Gaussian sigma (mask pixels) applied before tracing the 0.5 iso-line, for smooth outlines.
        tolerance: Douglas-Peucker tolerance in mask pixels.
        min_area_px: Rings smaller than this (mask pixels²) are dropped.

    Returns:
        One list per polygon: the exterior ring (counter-clockwise in GeoJSON's y-up sense is not
        guaranteed for y-down images; QuPath accepts either) followed by its holes, each ``(n, 2)`` of ``(x, y)``.
    """
    if not mask.any():
        return []
    field = np.pad(mask.astype(np.float32), 2)
    if smooth > 0:
        field = ndimage.gaussian_filter(field, smooth)
    exteriors: list[NDArray[np.float64]] = []
    holes: list[NDArray[np.float64]] = []
    for contour in find_contours(field, 0.5, positive_orientation="high"):  # type: ignore[no-untyped-call]
        ring = approximate_polygon(contour, tolerance)  # type: ignore[no-untyped-call]
        if len(ring) < 4:
            continue
        xy = np.column_stack([(ring[:, 1] - 2 + 0.5) * downsample, (ring[:, 0] - 2 + 0.5) * downsample])
        area = ring_area(xy)
        if abs(area) < min_area_px * downsample * downsample:
            continue
        (exteriors if area < 0 else holes).append(xy)
    polygons: list[list[NDArray[np.float64]]] = [[ring] for ring in exteriors]
    for hole in holes:
        for polygon in polygons:
            if _inside(hole[0], polygon[0]):
                polygon.append(hole)
                break
    return polygons
