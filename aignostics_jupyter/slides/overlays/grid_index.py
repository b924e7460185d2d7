"""A uniform-grid bucket index over bounding boxes, in numpy (no rtree, no shapely).

Each feature is listed in every grid cell its bounding box touches; the lists are stored as one sorted array
with per-cell offsets (CSR). Cells are numbered row-major, so the cells of one grid row within a query
rectangle are one contiguous slice: a query is one slice per row, a ``unique`` and a bounding-box filter.
Features spanning many cells (tissue regions) are kept apart in a short list that every query checks.

Example:
    >>> index = GridIndex(np.array([[0, 0, 10, 10], [500, 500, 520, 530]], dtype=float), cell_size=64)
    >>> index.query(0, 0, 100, 100).tolist()
    [0]
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

__all__ = ["GridIndex"]

_MAX_CELLS_PER_FEATURE = 64
_MIN_CELL, _MAX_CELL = 32.0, 8192.0


class GridIndex:
    """Bounding-box index of ``N`` features.

    Args:
        bbox: ``(N, 4)`` array of ``x0, y0, x1, y1``.
        cell_size: Grid cell edge; default four times the median feature extent (clamped to 32-8192).
    """

    def __init__(self, bbox: NDArray[np.float64], cell_size: float | None = None) -> None:
        self.bbox = np.asarray(bbox, dtype=np.float64)
        n = len(self.bbox)
        if n == 0:
            self.origin = (0.0, 0.0)
            self.cell_size, self.columns, self.rows = 1.0, 1, 1
            self.cell_starts = np.zeros(2, dtype=np.int64)
            self.cell_items = np.zeros(0, dtype=np.int64)
            self.large = np.zeros(0, dtype=np.int64)
            return
        self.origin, self.cell_size, self.columns, self.rows = self._geometry(self.bbox, cell_size)
        c0, r0, c1, r1 = self.cells(self.bbox[:, 0], self.bbox[:, 1], self.bbox[:, 2], self.bbox[:, 3])
        span_c, span_r = c1 - c0 + 1, r1 - r0 + 1
        cells_per = span_c * span_r
        is_large = cells_per > _MAX_CELLS_PER_FEATURE
        self.large = np.flatnonzero(is_large)
        small = np.flatnonzero(~is_large)
        # Expand each small feature into the cells it covers without a Python loop.
        counts = cells_per[small]
        items = np.repeat(small, counts)
        first = np.repeat(np.cumsum(counts) - counts, counts)
        within = np.arange(len(items)) - first
        width = np.repeat(span_c[small], counts)
        cols = np.repeat(c0[small], counts) + within % width
        rows = np.repeat(r0[small], counts) + within // width
        keys = rows * self.columns + cols
        order = np.argsort(keys, kind="stable")
        self.cell_items = items[order]
        per_cell = np.bincount(keys, minlength=self.columns * self.rows)
        self.cell_starts = np.zeros(self.columns * self.rows + 1, dtype=np.int64)
        np.cumsum(per_cell, out=self.cell_starts[1:])

    @staticmethod
    def _geometry(bbox: NDArray[np.float64], cell_size: float | None) -> tuple[tuple[float, float], float, int, int]:
        """Origin, cell size, columns and rows of the grid over non-empty bounding boxes."""
        if cell_size is None:
            extent = np.maximum(bbox[:, 2] - bbox[:, 0], bbox[:, 3] - bbox[:, 1])
            cell_size = float(np.clip(4 * float(np.median(extent)), _MIN_CELL, _MAX_CELL))
        x0, y0 = float(bbox[:, 0].min()), float(bbox[:, 1].min())
        x1, y1 = float(bbox[:, 2].max()), float(bbox[:, 3].max())
        columns = max(1, math.floor((x1 - x0) / cell_size) + 1)
        rows = max(1, math.floor((y1 - y0) / cell_size) + 1)
        return (x0, y0), cell_size, columns, rows

    @classmethod
    def corner_cells(cls, bbox: NDArray[np.float64]) -> tuple[NDArray[np.int64], float]:
        """Per box, the row-major number of the grid cell of its top-left corner, and the cell size.

        The grid is the one :class:`GridIndex` would build over ``bbox`` (sorting features by this number
        puts the features of one cell, and of one row of cells, next to each other).
        """
        bbox = np.asarray(bbox, dtype=np.float64)
        if len(bbox) == 0:
            return np.zeros(0, dtype=np.int64), 1.0
        index = cls.__new__(cls)
        index.origin, index.cell_size, index.columns, index.rows = cls._geometry(bbox, None)
        c0, r0, _, _ = index.cells(bbox[:, 0], bbox[:, 1], bbox[:, 0], bbox[:, 1])
        return r0 * index.columns + c0, index.cell_size

    @classmethod
    def from_arrays(
        cls,
        bbox: NDArray[np.float64],
        *,
        origin: tuple[float, float],
        cell_size: float,
        shape: tuple[int, int],
        cells: tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]],
    ) -> GridIndex:
        """An index from the parts of one built before (e.g. memory-mapped from a cache file), without work.

        Args:
            bbox: ``(N, 4)`` bounding boxes the index was built over.
            origin: The grid's top-left corner (:attr:`origin`).
            cell_size: Its cell edge.
            shape: ``(columns, rows)``.
            cells: ``(cell_starts, cell_items, large)`` as in a built index.
        """
        index = cls.__new__(cls)
        index.bbox = bbox
        index.origin = origin
        index.cell_size = cell_size
        index.columns, index.rows = shape
        index.cell_starts, index.cell_items, index.large = cells
        return index

    def parameters(self) -> dict[str, float | int]:
        """The grid's scalar parameters (what :meth:`from_arrays` needs besides the arrays)."""
        return {
            "origin_x": self.origin[0],
            "origin_y": self.origin[1],
            "cell_size": self.cell_size,
            "columns": self.columns,
            "rows": self.rows,
        }

    def cells(
        self, x0: NDArray[np.float64], y0: NDArray[np.float64], x1: NDArray[np.float64], y1: NDArray[np.float64]
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
        """Grid columns and rows ``(c0, r0, c1, r1)`` of rectangles (clipped to the grid)."""
        ox, oy = self.origin
        size = self.cell_size

        def clip(values: NDArray[np.float64], origin: float, top: int) -> NDArray[np.int64]:
            return np.clip(np.floor((values - origin) / size), 0, top - 1).astype(np.int64)

        return clip(x0, ox, self.columns), clip(y0, oy, self.rows), clip(x1, ox, self.columns), clip(y1, oy, self.rows)

    def __len__(self) -> int:
        return len(self.bbox)

    def query(self, x0: float, y0: float, x1: float, y1: float) -> NDArray[np.int64]:
        """Indices (ascending) of the features whose bounding box intersects the rectangle (edges included)."""
        if len(self.bbox) == 0 or x1 < x0 or y1 < y0:
            return np.zeros(0, dtype=np.int64)
        ox, oy = self.origin
        size = self.cell_size
        c0 = max(0, math.floor((x0 - ox) / size))
        r0 = max(0, math.floor((y0 - oy) / size))
        c1 = min(self.columns - 1, math.floor((x1 - ox) / size))
        r1 = min(self.rows - 1, math.floor((y1 - oy) / size))
        parts = [self.large]
        if c0 <= c1 and r0 <= r1:
            if (c1 - c0 + 1) * (r1 - r0 + 1) * 4 > len(self.cell_items):
                # The rectangle covers a good part of the grid: a straight scan is cheaper than the buckets.
                return self.scan(x0, y0, x1, y1)
            starts = self.cell_starts
            parts.extend(
                self.cell_items[starts[row * self.columns + c0] : starts[row * self.columns + c1 + 1]]
                for row in range(r0, r1 + 1)
            )
        candidates = np.unique(np.concatenate(parts))
        box = self.bbox[candidates]
        hit = (box[:, 0] <= x1) & (box[:, 2] >= x0) & (box[:, 1] <= y1) & (box[:, 3] >= y0)
        return candidates[hit]

    def scan(self, x0: float, y0: float, x1: float, y1: float) -> NDArray[np.int64]:
        """Like :meth:`query`, by testing every bounding box (vectorised)."""
        box = self.bbox
        hit = (box[:, 0] <= x1) & (box[:, 2] >= x0) & (box[:, 1] <= y1) & (box[:, 3] >= y0)
        return np.flatnonzero(hit).astype(np.int64)
