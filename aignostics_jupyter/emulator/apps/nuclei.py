"""Nucleus detection at full resolution: haematoxylin threshold, watershed split, features and outlines.

The slide is processed in square tiles (1024 base pixels plus a margin of two nucleus diameters), skipping
tiles without tissue, so memory stays bounded on any slide. A nucleus belongs to the tile whose core holds
its centroid; the margin guarantees it is seen whole there, so tile borders neither cut nor duplicate nuclei.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage
from skimage.filters import threshold_otsu
from skimage.measure import find_contours
from skimage.morphology import h_maxima
from skimage.segmentation import watershed

from aignostics_jupyter.emulator.apps.reader import AnalysisSlide
from aignostics_jupyter.emulator.apps.stains import eosin_at, haematoxylin
from aignostics_jupyter.emulator.apps.tissue import TissueMap

__all__ = ["NucleusTable", "detect_nuclei", "detect_tile", "haematoxylin_threshold"]

TILE_PX = 1024
_MARGIN_UM = 16.0
_SMOOTH_UM = 0.35
_MIN_AREA_UM2 = 8.0
_MAX_AREA_UM2 = 250.0
_SPLIT_DEPTH_UM = 0.5
_SPLIT_RATIO = 0.95
_MAX_VERTICES = 24
_COLUMNS = ("x", "y", "area", "perimeter", "major", "minor", "eccentricity", "orientation", "haematoxylin", "eosin")


@dataclass
class NucleusTable:
    """Detected nuclei, one entry per nucleus; lengths and positions in base pixels.

    ``orientation`` is the major axis angle in radians (image axes, y down); ``haematoxylin`` and ``eosin``
    are mean stain concentrations inside the nucleus; ``polygons`` hold closed rings ``(n, 2)`` of ``(x, y)``.
    """

    columns: dict[str, NDArray[np.float64]] = field(default_factory=lambda: {c: np.empty(0) for c in _COLUMNS})
    polygons: list[NDArray[np.float64]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.polygons)

    def __getitem__(self, name: str) -> NDArray[np.float64]:
        return self.columns[name]

    @classmethod
    def concat(cls, parts: list[NucleusTable]) -> NucleusTable:
        """Join tables in order."""
        if not parts:
            return cls()
        columns = {c: np.concatenate([p.columns[c] for p in parts]) for c in _COLUMNS}
        return cls(columns, [poly for p in parts for poly in p.polygons])


def haematoxylin_threshold(slide: AnalysisSlide, tissue: TissueMap, samples: int = 6) -> float:
    """A slide-wide haematoxylin threshold from a few full-resolution tiles spread over the tissue.

    Otsu separates nuclei from the rest of the tissue; the threshold is set a little below it so pale
    vesicular nuclei keep their whole outline, and clamped to a plausible range.
    """
    rows, cols = np.nonzero(tissue.mask)
    if len(rows) == 0:
        return 0.25
    picks = np.linspace(0, len(rows) - 1, num=min(samples, len(rows))).astype(np.int64)
    values = []
    size = 256
    for index in picks:
        l0_x = int(cols[index] * tissue.downsample) - size // 2
        l0_y = int(rows[index] * tissue.downsample) - size // 2
        haem = haematoxylin(slide.read_base(l0_x, l0_y, size, size))
        values.append(ndimage.gaussian_filter(haem, _SMOOTH_UM / slide.mpp, truncate=3.0).ravel())
    pooled = np.concatenate(values)
    try:
        otsu = float(threshold_otsu(pooled))  # type: ignore[no-untyped-call]
    except ValueError:
        otsu = 0.4
    return float(np.clip(0.65 * otsu, 0.15, 0.35))


def _moments(
    labels: NDArray[np.int32], count: int
) -> tuple[
    NDArray[np.float64],
    NDArray[np.float64],
    NDArray[np.float64],
    NDArray[np.float64],
    NDArray[np.float64],
    NDArray[np.float64],
]:
    """Area, centroid (row, col) and central second moments (var_r, var_c, cov) per label 1..count."""
    rows, cols = np.nonzero(labels)
    lab = labels[rows, cols]
    n = count + 1
    area = np.bincount(lab, minlength=n)[1:].astype(np.float64)
    safe = np.maximum(area, 1)
    r, c = rows.astype(np.float64), cols.astype(np.float64)
    mean_r = np.bincount(lab, r, n)[1:] / safe
    mean_c = np.bincount(lab, c, n)[1:] / safe
    dr, dc = r - mean_r[lab - 1], c - mean_c[lab - 1]
    var_r = np.bincount(lab, dr * dr, n)[1:] / safe + 1 / 12
    var_c = np.bincount(lab, dc * dc, n)[1:] / safe + 1 / 12
    cov = np.bincount(lab, dr * dc, n)[1:] / safe
    return area, mean_r, mean_c, var_r, var_c, cov


def _axes(
    var_r: NDArray[np.float64], var_c: NDArray[np.float64], cov: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    half_trace, diff = (var_r + var_c) / 2, np.sqrt(((var_r - var_c) / 2) ** 2 + cov**2)
    return half_trace + diff, np.maximum(half_trace - diff, 1e-9)


def _split(labels: NDArray[np.int32], count: int, depth_px: float, min_area_px: float) -> tuple[NDArray[np.int32], int]:
    """Split touching nuclei along the watershed of their distance transform.

    Only objects that are clearly not one ellipse (their area is well below that of the ellipse with the
    same second moments, as for two touching discs) are split, each in its own small crop.
    """
    area, _, _, var_r, var_c, cov = _moments(labels, count)
    lam1, lam2 = _axes(var_r, var_c, cov)
    ellipse_area = 4 * np.pi * np.sqrt(lam1 * lam2)
    suspects = np.nonzero((area < _SPLIT_RATIO * ellipse_area) & (area >= 2 * min_area_px))[0]
    if len(suspects) == 0:
        return labels, count
    slices = ndimage.find_objects(labels)
    next_label = count + 1
    for i in suspects.tolist():
        rs, cs = slices[i]
        crop = labels[rs, cs]
        sub = np.pad(crop == i + 1, 2)
        distance = ndimage.distance_transform_edt(sub)
        markers, n_markers = ndimage.label(h_maxima(distance, depth_px))  # type: ignore[no-untyped-call]
        if n_markers < 2:
            continue
        parts = watershed(-distance, markers, mask=sub)[2:-2, 2:-2]  # type: ignore[no-untyped-call]
        for k in range(2, n_markers + 1):
            crop[parts == k] = next_label
            next_label += 1
    return labels, next_label - 1


def _fill_holes(mask: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """Fill background pockets that do not reach the tile border (faster than binary_fill_holes)."""
    background, count = ndimage.label(~mask)
    if count <= 1:
        return mask
    border = np.unique(np.concatenate([background[0], background[-1], background[:, 0], background[:, -1]]))
    outside = np.zeros(count + 1, dtype=bool)
    outside[border] = True
    outside[0] = False  # label 0 is the foreground itself
    result: NDArray[np.bool_] = ~outside[background]
    return result


def _outlines(
    labels: NDArray[np.int32], index: NDArray[np.intp], mean_r: NDArray[np.float64], mean_c: NDArray[np.float64]
) -> list[NDArray[np.float64]]:
    """Outline polygons of the labels ``index + 1``, all at once, in tile pixel coordinates ``(x, y)``.

    Each outline takes, in each of :data:`_MAX_VERTICES` angular sectors around the centroid, the boundary
    pixel farthest from it, pushed out by half a pixel to the object's edge. Vertices sorted by angle around
    an interior point always form a simple (star-shaped) polygon, so the outlines are valid geometries.
    """
    if len(index) == 0:
        return []
    inner = labels[1:-1, 1:-1]
    boundary = np.zeros(labels.shape, dtype=bool)
    boundary[1:-1, 1:-1] = (inner != 0) & (
        (inner != labels[:-2, 1:-1])
        | (inner != labels[2:, 1:-1])
        | (inner != labels[1:-1, :-2])
        | (inner != labels[1:-1, 2:])
    )
    wanted = np.zeros(len(mean_r) + 1, dtype=bool)
    wanted[index + 1] = True
    rows, cols = np.nonzero(boundary)
    lab = labels[rows, cols]
    take = wanted[lab]
    rows, cols, lab = rows[take], cols[take], lab[take]
    dy, dx = rows - mean_r[lab - 1], cols - mean_c[lab - 1]
    radius = np.hypot(dx, dy)
    sector = np.minimum(
        ((np.arctan2(dy, dx) + np.pi) / (2 * np.pi) * _MAX_VERTICES).astype(np.int64), _MAX_VERTICES - 1
    )
    order = np.lexsort((-radius, sector, lab))
    lab, sector = lab[order], sector[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = (lab[1:] != lab[:-1]) | (sector[1:] != sector[:-1])
    pick = order[first]
    lab = lab[first]
    scale = (radius[pick] + 0.5) / np.maximum(radius[pick], 1e-9)
    x = mean_c[lab - 1] + dx[pick] * scale + 0.5
    y = mean_r[lab - 1] + dy[pick] * scale + 0.5
    starts = np.searchsorted(lab, index + 1)
    ends = np.searchsorted(lab, index + 1, side="right")
    xy = np.column_stack([x, y])
    return [np.vstack([xy[a:b], xy[a : a + 1]]) for a, b in zip(starts.tolist(), ends.tolist(), strict=True)]


def _outline(sub: NDArray[np.bool_], max_vertices: int) -> NDArray[np.float64]:
    padded = np.pad(sub, 1).astype(np.float32)
    ring = max(find_contours(padded, 0.5), key=len)  # type: ignore[no-untyped-call]
    if len(ring) > max_vertices:
        step = math.ceil((len(ring) - 1) / max_vertices)
        ring = np.vstack([ring[:-1:step], ring[:1]])
    xy: NDArray[np.float64] = ring[:, ::-1] - 1.0 + 0.5  # (row, col) -> (x, y), undo padding, pixel centres
    return xy


def detect_tile(
    rgb: NDArray[np.uint8],
    l0_origin: tuple[int, int],
    core: tuple[int, int, int, int],
    mpp: float,
    threshold: float,
) -> NucleusTable:
    """Detect the nuclei of one tile whose centroid lies in its core.

    Args:
        rgb: Base-level RGB of the padded tile.
        l0_origin: Base coordinates ``(x, y)`` of ``rgb[0, 0]``.
        core: ``(x0, y0, x1, y1)`` in base pixels; only nuclei with their centroid inside are returned.
        mpp: µm per base pixel.
        threshold: Haematoxylin threshold (see :func:`haematoxylin_threshold`).

    Returns:
        The nuclei, centroids and outlines in base pixels.
    """
    haem = haematoxylin(rgb)
    smooth = ndimage.gaussian_filter(haem, _SMOOTH_UM / mpp, truncate=3.0)
    mask = _fill_holes(smooth > threshold)
    labels, count = ndimage.label(mask)
    um2 = mpp * mpp
    labels, count = _split(labels.astype(np.int32), count, _SPLIT_DEPTH_UM / mpp, _MIN_AREA_UM2 / um2)
    if count == 0:
        return NucleusTable()
    area, mean_r, mean_c, var_r, var_c, cov = _moments(labels, count)
    lam1, lam2 = _axes(var_r, var_c, cov)
    n = count + 1
    rows, cols = np.nonzero(labels)
    lab = labels[rows, cols]
    safe = np.maximum(area, 1)
    l0_x, l0_y = mean_c + l0_origin[0] + 0.5, mean_r + l0_origin[1] + 0.5
    edge = np.zeros(labels.shape, dtype=bool)
    edge[[0, -1], :] = True
    edge[:, [0, -1]] = True
    touches = np.zeros(n, dtype=bool)
    touches[np.unique(labels[edge])] = True
    keep = (
        (l0_x >= core[0])
        & (l0_x < core[2])
        & (l0_y >= core[1])
        & (l0_y < core[3])
        & (area * um2 >= _MIN_AREA_UM2)
        & (area * um2 <= _MAX_AREA_UM2)
        & ~touches[1:]
    )
    index = np.nonzero(keep)[0]
    polygons = _outlines(labels, index, mean_r, mean_c)
    slices: list[tuple[slice, slice] | None] | None = None
    for k, ring in enumerate(polygons):
        if len(ring) < 4:  # too few boundary sectors (tiny nucleus): trace its contour instead
            slices = slices or ndimage.find_objects(labels)
            rs, cs = slices[int(index[k])]  # type: ignore[misc]
            polygons[k] = _outline(labels[rs, cs] == index[k] + 1, _MAX_VERTICES) + np.array([cs.start, rs.start])
    origin = np.array(l0_origin, dtype=np.float64)
    polygons = [ring + origin for ring in polygons]
    perimeters = [float(np.hypot(*np.diff(ring, axis=0).T).sum()) for ring in polygons]
    columns = {
        "x": l0_x[index],
        "y": l0_y[index],
        "area": area[index],
        "perimeter": np.asarray(perimeters, dtype=np.float64),
        "major": 4 * np.sqrt(lam1[index]),
        "minor": 4 * np.sqrt(lam2[index]),
        "eccentricity": np.sqrt(1 - lam2[index] / lam1[index]),
        "orientation": 0.5 * np.arctan2(2 * cov[index], var_c[index] - var_r[index]),
        "haematoxylin": (np.bincount(lab, haem[rows, cols], n)[1:] / safe)[index],
        "eosin": (np.bincount(lab, eosin_at(rgb, rows, cols), n)[1:] / safe)[index],
    }
    return NucleusTable(columns, polygons)


def _tiles(slide: AnalysisSlide, tissue: TissueMap) -> Iterator[tuple[int, int, int, int]]:
    for l0_y in range(0, slide.height, TILE_PX):
        for l0_x in range(0, slide.width, TILE_PX):
            x1, y1 = min(l0_x + TILE_PX, slide.width), min(l0_y + TILE_PX, slide.height)
            if tissue.any_in(l0_x, l0_y, x1, y1):
                yield l0_x, l0_y, x1, y1


def detect_nuclei(
    slide: AnalysisSlide,
    tissue: TissueMap,
    *,
    progress: Callable[[float], None] | None = None,
    workers: int = 2,
) -> NucleusTable:
    """Detect every nucleus inside the tissue of a slide, tile by tile.

    Args:
        slide: The opened slide.
        tissue: Its tissue map (tiles without tissue are skipped; nuclei outside tissue are dropped).
        progress: Called with the fraction of tiles done.
        workers: Threads processing tiles at the same time.

    Returns:
        All nuclei, in tile order.
    """
    threshold = haematoxylin_threshold(slide, tissue)
    margin = math.ceil(_MARGIN_UM / slide.mpp)
    tiles = list(_tiles(slide, tissue))

    def one(tile: tuple[int, int, int, int]) -> NucleusTable:
        x0, y0, x1, y1 = tile
        rgb = slide.read_base(x0 - margin, y0 - margin, x1 - x0 + 2 * margin, y1 - y0 + 2 * margin)
        part = detect_tile(rgb, (x0 - margin, y0 - margin), tile, slide.mpp, threshold)
        inside = tissue.contains(part["x"], part["y"])
        if inside.all():
            return part
        keep = np.nonzero(inside)[0]
        return NucleusTable({c: v[keep] for c, v in part.columns.items()}, [part.polygons[i] for i in keep.tolist()])

    parts = []
    # OpenSlide, scipy and numpy release the GIL for most of the work, so threads overlap reading and maths.
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        results = pool.map(one, tiles) if workers > 1 else map(one, tiles)
        for done, part in enumerate(results, start=1):
            parts.append(part)
            if progress is not None:
                progress(done / len(tiles))
    return NucleusTable.concat(parts)
