"""Tissue detection: which parts of the slide hold tissue, from optical density at low resolution.

The slide is read at about 2 µm per pixel (coarser for very large slides, so the map stays a few thousand
pixels a side). Glass is nearly transparent, stained tissue absorbs: a pixel is tissue where its largest
channel optical density, lightly smoothed, exceeds a threshold derived from the slide's own histogram
(Otsu, tempered and clamped so faint tissue such as necrosis stays in). Holes are filled and specks removed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage
from skimage.filters import threshold_otsu
from skimage.morphology import disk, remove_small_objects

from aignostics_jupyter.emulator.apps.reader import AnalysisSlide
from aignostics_jupyter.emulator.apps.stains import eosin, max_optical_density

__all__ = ["TissueMap", "detect_tissue", "working_downsample"]

_WORK_UM = 2.0
_MAX_WORK_SIDE = 6000
_MIN_TISSUE_UM2 = 2000.0
_MIN_HOLE_UM2 = 400.0
_FOLD_CONTEXT_UM = 10.0
_FOLD_FACTOR = 1.55
_MIN_FOLD_UM2 = 2500.0


@dataclass(frozen=True)
class TissueMap:
    """The tissue mask of a slide at a working resolution, with the mean eosin staining there.

    Attributes:
        mask: True where tissue; pixel ``(r, c)`` covers base pixels ``[c·d, (c+1)·d) x [r·d, (r+1)·d)``.
        downsample: ``d``, base pixels per mask pixel.
        mpp: Slide µm per base pixel.
        eosin: Mean eosin concentration per mask pixel.
        threshold: The optical density threshold used.
        fold: True where the tissue lies folded (double thickness), a subset of ``mask``.
    """

    mask: NDArray[np.bool_]
    downsample: int
    mpp: float
    eosin: NDArray[np.float32]
    threshold: float
    fold: NDArray[np.bool_]

    @property
    def pixel_um(self) -> float:
        """Edge of one mask pixel in µm."""
        return self.downsample * self.mpp

    @property
    def area_mm2(self) -> float:
        """Tissue area in mm²."""
        return float(self.mask.sum()) * (self.pixel_um / 1000.0) ** 2

    @property
    def fold_area_mm2(self) -> float:
        """Area of folded tissue in mm² (part of :attr:`area_mm2`)."""
        return float(self.fold.sum()) * (self.pixel_um / 1000.0) ** 2

    @cached_property
    def grown_mask(self) -> NDArray[np.bool_]:
        """The mask grown by one pixel (tolerates a nucleus centre right on the tissue edge)."""
        grown: NDArray[np.bool_] = ndimage.binary_dilation(self.mask)
        return grown

    def contains(self, l0_x: NDArray[np.float64], l0_y: NDArray[np.float64]) -> NDArray[np.bool_]:
        """Whether base-pixel points lie in the (slightly grown) tissue."""
        mask = self.grown_mask
        rows = np.clip((l0_y // self.downsample).astype(np.int64), 0, mask.shape[0] - 1)
        cols = np.clip((l0_x // self.downsample).astype(np.int64), 0, mask.shape[1] - 1)
        result: NDArray[np.bool_] = mask[rows, cols]
        return result

    def any_in(self, l0_x0: int, l0_y0: int, l0_x1: int, l0_y1: int) -> bool:
        """Whether the base-pixel rectangle ``[x0, x1) x [y0, y1)`` touches tissue."""
        d = self.downsample
        r0, r1 = max(0, l0_y0 // d - 1), min(self.mask.shape[0], -(-l0_y1 // d) + 1)
        c0, c1 = max(0, l0_x0 // d - 1), min(self.mask.shape[1], -(-l0_x1 // d) + 1)
        return bool(self.mask[r0:r1, c0:c1].any())


def working_downsample(width: int, height: int, mpp: float) -> int:
    """The integer downsample giving about 2 µm per pixel, coarser if the map would exceed 6000 px a side."""
    downsample = max(1, round(_WORK_UM / mpp))
    return max(downsample, math.ceil(max(width, height) / _MAX_WORK_SIDE))


def detect_tissue(slide: AnalysisSlide) -> TissueMap:
    """Detect the tissue of a slide.

    Args:
        slide: The opened slide.

    Returns:
        The tissue map at :func:`working_downsample`.
    """
    downsample = working_downsample(slide.width, slide.height, slide.mpp)
    rgb = slide.read_downsampled(downsample)
    density = ndimage.gaussian_filter(max_optical_density(rgb), 0.5)
    try:
        otsu = float(threshold_otsu(density[::2, ::2]))  # type: ignore[no-untyped-call]
    except ValueError:  # a constant image
        otsu = 1.0
    threshold = float(np.clip(0.5 * otsu, 0.05, 0.15))
    mask = density > threshold
    pixel_um2 = (downsample * slide.mpp) ** 2
    mask = ndimage.binary_closing(mask, structure=disk(1), border_value=0)  # type: ignore[no-untyped-call]
    mask = remove_small_objects(mask, max_size=max(1, int(_MIN_TISSUE_UM2 / pixel_um2)))
    holes = ndimage.binary_fill_holes(mask) & ~mask
    small_holes = holes & ~remove_small_objects(holes, max_size=max(1, int(_MIN_HOLE_UM2 / pixel_um2)))
    mask |= small_holes
    eosin_map = eosin(rgb)
    return TissueMap(mask, downsample, slide.mpp, eosin_map, threshold, _folds(mask, eosin_map, pixel_um2))


def _folds(mask: NDArray[np.bool_], eosin_map: NDArray[np.float32], pixel_um2: float) -> NDArray[np.bool_]:
    """Tissue folds: large patches stained far more than the slide's typical tissue (two layers of section).

    Eosin is averaged over ~10 µm so fibre texture does not count; a fold is where it exceeds
    :data:`_FOLD_FACTOR` times the median of the tissue, over at least :data:`_MIN_FOLD_UM2`.
    """
    if not mask.any():
        return np.zeros_like(mask)
    sigma = _FOLD_CONTEXT_UM / math.sqrt(pixel_um2)
    weight = ndimage.gaussian_filter(mask.astype(np.float32), sigma)
    local = ndimage.gaussian_filter(np.where(mask, eosin_map, 0).astype(np.float32), sigma) / np.maximum(weight, 1e-3)
    fold = mask & (local > _FOLD_FACTOR * float(np.median(local[mask])))
    fold = ndimage.binary_opening(fold, iterations=2)
    kept: NDArray[np.bool_] = remove_small_objects(fold, max_size=max(1, int(_MIN_FOLD_UM2 / pixel_um2)))
    return kept
