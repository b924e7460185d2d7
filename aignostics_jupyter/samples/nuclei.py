"""Nuclei of a sample slide, placed on a jittered grid from a counter-based hash.

The slide is divided into square grid cells of :data:`CELL_UM` µm. Each cell holds at most one nucleus whose
presence, class, position, size, shape, orientation and stain intensity are pure functions of the cell's
indices, the slide seed and the tissue region at the nucleus centre. Any block of cells can therefore be
computed on its own: the renderer asks for the cells around the tile it draws, the ground truth walks all
cells row block by row block.

Jitter plus the largest nucleus radius stays below one cell, so a pixel can only be covered by the nuclei of
the 2 x 2 cells whose centres surround it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from aignostics_jupyter.samples.layout import SlideLayout
from aignostics_jupyter.samples.noise import hash_uniform

__all__ = ["CELL_UM", "NUCLEUS_CLASSES", "NucleiBlock", "NucleusGrid"]

CELL_UM = 13.0
JITTER_UM = 3.5
NUCLEUS_CLASSES = ("tumor_cell", "lymphocyte", "fibroblast", "other")
"""Ground-truth nucleus classes; the index is the class code used in arrays (-1: no nucleus)."""

# Per class: major semi-axis (µm) range, minor/major ratio range, haematoxylin OD range, chromatin texture.
_SHAPE = np.array(
    [
        [4.2, 5.5, 0.70, 0.95, 0.42, 0.70, 0.45],  # tumor_cell: large, pale, vesicular
        [2.3, 3.1, 0.85, 1.00, 1.00, 1.30, 0.10],  # lymphocyte: small, round, dark
        [4.5, 6.5, 0.25, 0.40, 0.75, 1.00, 0.15],  # fibroblast: elongated
        [3.0, 3.6, 0.85, 1.00, 0.70, 0.90, 0.20],  # other (plasma cells, macrophages)
    ],
    dtype=np.float64,
)
# Per region (Region order): probability that a cell holds a nucleus, then class probabilities.
_PRESENCE = np.array([0.0, 0.22, 0.92, 0.85, 0.0])
_CLASS_P = np.array(
    [
        [0.0, 0.0, 0.0, 1.0],
        [0.0, 0.25, 0.60, 0.15],
        [0.0, 0.92, 0.02, 0.06],
        [0.88, 0.07, 0.0, 0.05],
        [0.0, 0.0, 0.0, 1.0],
    ]
)
_CLASS_CUM = np.cumsum(_CLASS_P, axis=1)


def mean_nuclear_od_per_region(cell_um: float = CELL_UM) -> NDArray[np.float32]:
    """Expected haematoxylin OD per region when nuclei are smaller than a pixel (low pyramid levels)."""
    a = (_SHAPE[:, 0] + _SHAPE[:, 1]) / 2
    ratio = (_SHAPE[:, 2] + _SHAPE[:, 3]) / 2
    od = (_SHAPE[:, 4] + _SHAPE[:, 5]) / 2
    per_class = np.pi * a * a * ratio / cell_um**2 * od
    return (_PRESENCE * (_CLASS_P @ per_class)).astype(np.float32)


@dataclass(frozen=True)
class NucleiBlock:
    """Nuclei of a block of grid cells (2-D arrays, one entry per cell; ``klass`` -1 where no nucleus).

    Positions and axes are in base pixels; ``theta`` is the major axis angle in radians.
    """

    row0: int
    col0: int
    l0_x: NDArray[np.float32]
    l0_y: NDArray[np.float32]
    major: NDArray[np.float32]
    minor: NDArray[np.float32]
    theta: NDArray[np.float32]
    od: NDArray[np.float32]
    texture: NDArray[np.float32]
    klass: NDArray[np.int8]


class NucleusGrid:
    """The nucleus grid of one sample slide."""

    def __init__(self, layout: SlideLayout, seed: int) -> None:
        self.layout = layout
        self.salt = (int(seed) * 7919 + 17) & 0xFFFFFFFF
        self.l0_cell = CELL_UM / layout.mpp
        self.rows = int(np.ceil(layout.height / self.l0_cell))
        self.cols = int(np.ceil(layout.width / self.l0_cell))

    def block(self, row0: int, row1: int, col0: int, col1: int) -> NucleiBlock:
        """Nuclei of the grid cells ``[row0, row1) x [col0, col1)`` (indices may lie outside the slide)."""
        rows = np.arange(row0, row1, dtype=np.int64)[:, None]
        cols = np.arange(col0, col1, dtype=np.int64)[None, :]

        def uniform(stream: int) -> NDArray[np.float64]:
            return hash_uniform(rows, cols, self.salt * 64 + stream)

        jitter = JITTER_UM / self.layout.mpp
        l0_x = (cols + 0.5) * self.l0_cell + (uniform(1) * 2 - 1) * jitter
        l0_y = (rows + 0.5) * self.l0_cell + (uniform(2) * 2 - 1) * jitter
        inside = (l0_x >= 0) & (l0_x < self.layout.width) & (l0_y >= 0) & (l0_y < self.layout.height)
        region, _ = self.layout.regions(l0_x, l0_y)
        present = (uniform(3) < _PRESENCE[region]) & inside
        klass = (uniform(4)[..., None] > _CLASS_CUM[region]).sum(axis=-1)
        klass = np.where(present, np.minimum(klass, len(NUCLEUS_CLASSES) - 1), -1)
        shape = _SHAPE[np.maximum(klass, 0)]
        major_um = shape[..., 0] + uniform(5) * (shape[..., 1] - shape[..., 0])
        ratio = shape[..., 2] + uniform(6) * (shape[..., 3] - shape[..., 2])
        od = shape[..., 4] + uniform(7) * (shape[..., 5] - shape[..., 4])
        f32 = np.float32
        return NucleiBlock(
            row0=row0,
            col0=col0,
            l0_x=l0_x.astype(f32),
            l0_y=l0_y.astype(f32),
            major=(major_um / self.layout.mpp).astype(f32),
            minor=(major_um * ratio / self.layout.mpp).astype(f32),
            theta=(uniform(8) * np.pi).astype(f32),
            od=np.where(present, od, 0.0).astype(f32),
            texture=shape[..., 6].astype(f32),
            klass=klass.astype(np.int8),
        )

    def iter_nuclei(self, rows_per_block: int = 256) -> Iterator[NucleiBlock]:
        """Every nucleus of the slide, one block of grid rows at a time."""
        for row0 in range(0, self.rows, rows_per_block):
            yield self.block(row0, min(self.rows, row0 + rows_per_block), 0, self.cols)

    def counts(self) -> dict[str, int]:
        """Number of nuclei per class on the whole slide."""
        totals = np.zeros(len(NUCLEUS_CLASSES), dtype=np.int64)
        for blk in self.iter_nuclei():
            k = blk.klass[blk.klass >= 0]
            totals += np.bincount(k, minlength=len(NUCLEUS_CLASSES))
        return dict(zip(NUCLEUS_CLASSES, (int(t) for t in totals), strict=True))
