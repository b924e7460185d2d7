"""Heatmap grids: tissue QC and tissue segmentation maps at a reduced resolution aligned with the slide.

A heatmap pixel ``(r, c)`` covers base pixels ``[c·d, (c+1)·d) x [r·d, (r+1)·d)`` (origin at the slide's
top-left corner, covering the whole slide). Tissue segmentation labels each tissue pixel from what lies
around it: the density of tumour cells and of all nuclei (Gaussian-weighted over ~25 µm) and the eosin
staining: dense tumour-cell clusters are **tumor**, tissue nearly free of nuclei and pale is **necrosis**,
the rest **stroma**.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage
from skimage.morphology import remove_small_objects

from aignostics_jupyter.emulator.apps.tissue import TissueMap

__all__ = [
    "QC_CLASSES",
    "QC_COLORS",
    "SEGMENTATION_CLASSES",
    "SEGMENTATION_COLORS",
    "HeatmapGrid",
    "heatmap_grid",
    "segment_tissue",
]

QC_CLASSES = ("background", "tissue", "fold")
QC_COLORS = {"background": [0, 0, 0], "tissue": [0, 200, 120], "fold": [240, 130, 0]}
SEGMENTATION_CLASSES = ("background", "tumor", "stroma", "necrosis")
SEGMENTATION_COLORS = {
    "background": [0, 0, 0],
    "tumor": [220, 40, 40],
    "stroma": [250, 170, 200],
    "necrosis": [120, 90, 40],
}
_HEATMAP_UM = 8.0
_CONTEXT_UM = 15.0
_TUMOR_DENSITY = 2000.0  # tumour cells per mm² of tissue
_NECROSIS_GAP_UM = 12.0  # distance to the nearest nucleus
_NECROSIS_EOSIN = 0.75  # relative to the slide's median tissue eosin
_NECROSIS_MIN_UM2 = 400.0


@dataclass(frozen=True)
class HeatmapGrid:
    """Geometry of a heatmap: ``downsample`` base pixels per heatmap pixel, ``width`` x ``height`` pixels."""

    downsample: int
    width: int
    height: int
    mpp: float
    tissue_fraction: NDArray[np.float32]
    """Fraction of each heatmap pixel covered by tissue (from the finer tissue mask)."""
    fold_fraction: NDArray[np.float32]
    """Fraction of each heatmap pixel covered by folded tissue."""

    @property
    def pixel_um(self) -> float:
        """Edge of one heatmap pixel in µm (the heatmap's ``base_mpp``)."""
        return self.downsample * self.mpp

    def index_of(
        self, l0_x: NDArray[np.float64], l0_y: NDArray[np.float64]
    ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Heatmap ``(rows, cols)`` of base-pixel points."""
        rows = np.clip((l0_y // self.downsample).astype(np.int64), 0, self.height - 1)
        cols = np.clip((l0_x // self.downsample).astype(np.int64), 0, self.width - 1)
        return rows, cols


def _block_mean(values: NDArray[np.floating], factor: int, shape: tuple[int, int]) -> NDArray[np.float32]:
    """Mean over ``factor x factor`` blocks, zero-padding the edges to ``shape`` blocks."""
    padded = np.zeros((shape[0] * factor, shape[1] * factor), dtype=np.float32)
    h, w = min(values.shape[0], padded.shape[0]), min(values.shape[1], padded.shape[1])
    padded[:h, :w] = values[:h, :w]
    result: NDArray[np.float32] = padded.reshape(shape[0], factor, shape[1], factor).mean(axis=(1, 3))
    return result


def heatmap_grid(width: int, height: int, tissue: TissueMap) -> HeatmapGrid:
    """The heatmap grid of a slide: about 8 µm per pixel, a whole multiple of the tissue mask's pixel."""
    factor = max(1, round(_HEATMAP_UM / tissue.pixel_um))
    downsample = tissue.downsample * factor
    shape = (math.ceil(height / downsample), math.ceil(width / downsample))
    fraction = _block_mean(tissue.mask.astype(np.float32), factor, shape)
    folds = _block_mean(tissue.fold.astype(np.float32), factor, shape)
    return HeatmapGrid(downsample, shape[1], shape[0], tissue.mpp, fraction, folds)


def qc_labels(grid: HeatmapGrid) -> NDArray[np.uint8]:
    """Tissue QC labels (index into :data:`QC_CLASSES`).

    A pixel is tissue where at least half of it is tissue, and fold where at least half of it is folded tissue.
    """
    labels = (grid.tissue_fraction >= 0.5).astype(np.uint8)
    labels[grid.fold_fraction >= 0.5] = QC_CLASSES.index("fold")
    return labels


def segment_tissue(
    grid: HeatmapGrid,
    tissue: TissueMap,
    l0_x: NDArray[np.float64],
    l0_y: NDArray[np.float64],
    is_tumor_cell: NDArray[np.bool_],
) -> NDArray[np.uint8]:
    """Tissue segmentation labels (index into :data:`SEGMENTATION_CLASSES`) on the heatmap grid.

    Args:
        grid: The heatmap grid.
        tissue: The tissue map (for eosin).
        l0_x: Nucleus centroids x, base pixels.
        l0_y: Nucleus centroids y, base pixels.
        is_tumor_cell: Whether each nucleus was classified a tumour cell.

    Returns:
        uint8 labels ``(grid.height, grid.width)`` for every pixel holding any tissue (the image shows only
        pixels at least half tissue; areas weigh every pixel by its tissue fraction).
    """
    shape = (grid.height, grid.width)
    rows, cols = grid.index_of(l0_x, l0_y)
    flat = rows * grid.width + cols
    size = grid.width * grid.height
    all_counts = np.bincount(flat, minlength=size).reshape(shape).astype(np.float32)
    tumor_counts = np.bincount(flat[is_tumor_cell], minlength=size).reshape(shape).astype(np.float32)
    sigma = _CONTEXT_UM / grid.pixel_um
    area_mm2 = ndimage.gaussian_filter(grid.tissue_fraction, sigma) * (grid.pixel_um / 1000.0) ** 2
    area_mm2 = np.maximum(area_mm2, 1e-12)
    density_all = ndimage.gaussian_filter(all_counts, sigma) / area_mm2
    density_tumor = ndimage.gaussian_filter(tumor_counts, sigma) / area_mm2
    factor = grid.downsample // tissue.downsample
    eosin = _block_mean(np.where(tissue.mask, tissue.eosin, 0), factor, shape)
    eosin = ndimage.gaussian_filter(eosin, 1.0) / np.maximum(ndimage.gaussian_filter(grid.tissue_fraction, 1.0), 1e-6)
    in_tissue = grid.tissue_fraction > 0
    core = grid.tissue_fraction >= 0.5
    median_eosin = float(np.median(eosin[core])) if core.any() else 0.0
    gap_um = ndimage.distance_transform_edt(all_counts == 0) * grid.pixel_um
    labels = np.zeros(shape, dtype=np.uint8)
    labels[in_tissue] = SEGMENTATION_CLASSES.index("stroma")
    necrosis = in_tissue & (gap_um >= _NECROSIS_GAP_UM) & (eosin < _NECROSIS_EOSIN * median_eosin)
    necrosis = remove_small_objects(necrosis, max_size=max(1, int(_NECROSIS_MIN_UM2 / grid.pixel_um**2)))
    labels[necrosis] = SEGMENTATION_CLASSES.index("necrosis")
    tumor = in_tissue & (density_tumor >= _TUMOR_DENSITY) & (density_tumor >= 0.5 * density_all)
    labels[tumor] = SEGMENTATION_CLASSES.index("tumor")
    return labels
