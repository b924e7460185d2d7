"""Procedural H&E rendering of a sample slide, for any region of any pyramid level.

Pixels follow the Beer-Lambert law: the optical density of each pixel is a haematoxylin concentration times
the haematoxylin stain vector plus an eosin concentration times the eosin vector (Ruifrok & Johnston's
vectors, the ones colour deconvolution assumes). Stroma is fibrous pink, tumour zones paler and purplish,
necrosis pale and mottled; nuclei are ellipses of haematoxylin with chromatin texture. A pixel at level
coordinates ``(x, y)`` shows the slide at its centre ``((x + 0.5)·d, (y + 0.5)·d)`` in base pixels, with edges
softened over the pixel's footprint, so all levels show the same picture.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from aignostics_jupyter.samples.layout import Region, SlideLayout
from aignostics_jupyter.samples.noise import value_noise, value_noise_at
from aignostics_jupyter.samples.nuclei import NucleusGrid, mean_nuclear_od_per_region

__all__ = ["EOSIN_OD", "HAEMATOXYLIN_OD", "SampleRenderer"]

HAEMATOXYLIN_OD = np.array([0.65, 0.70, 0.29]) / np.linalg.norm([0.65, 0.70, 0.29])
EOSIN_OD = np.array([0.07, 0.99, 0.11]) / np.linalg.norm([0.07, 0.99, 0.11])
_BACKGROUND_OD = np.array([0.018, 0.02, 0.024], dtype=np.float32)
# Per region (Region order): eosin base, eosin texture amplitude, diffuse haematoxylin.
_EOSIN_BASE = np.array([0.0, 0.20, 0.14, 0.17, 0.11], dtype=np.float32)
_EOSIN_TEXTURE = np.array([0.0, 0.26, 0.08, 0.10, 0.14], dtype=np.float32)
_HAEM_DIFFUSE = np.array([0.0, 0.035, 0.07, 0.10, 0.05], dtype=np.float32)
_FOLD_EXTRA = np.float32(0.9)
_DENSITY_MODE_UM = 3.0  # beyond this pixel size, nuclei are drawn as their mean stain, not one by one


def _detail(noise: NDArray[np.float32], scale_px: float, footprint_px: float) -> NDArray[np.float32]:
    """Fade noise towards its mean when its lattice is finer than two pixel footprints (anti-aliasing)."""
    keep = float(np.clip(scale_px / (2.0 * footprint_px) - 0.5, 0.0, 1.0))
    return np.float32(0.5) + (noise - np.float32(0.5)) * np.float32(keep)


class SampleRenderer:
    """A :data:`~aignostics_jupyter.slides.writers.RegionRenderer` for a sample slide.

    Example:
        >>> renderer = SampleRenderer(make_layout(4096, 4096, 0.25, seed=1), seed=1)
        >>> renderer(1.0, 0, 0, 256, 256).shape
        (256, 256, 3)
    """

    def __init__(self, layout: SlideLayout, seed: int) -> None:
        self.layout = layout
        self.grid = NucleusGrid(layout, seed)
        self.salt = (int(seed) * 104729 + 3) & 0xFFFFFFFF
        self._um = 1.0 / layout.mpp

    def __call__(self, downsample: float, l_x: int, l_y: int, l_w: int, l_h: int) -> NDArray[np.uint8]:
        """RGB pixels ``(l_h, l_w, 3)`` of the region at level pixels ``(l_x, l_y)`` of the given downsample."""
        l0_x = (np.arange(l_x, l_x + l_w, dtype=np.float64) + 0.5) * downsample
        l0_y = (np.arange(l_y, l_y + l_h, dtype=np.float64) + 0.5) * downsample
        footprint = max(float(downsample), 1.0)
        codes, coverage = self.layout.regions(l0_x[None, :], l0_y[:, None], footprint)
        od = np.empty((l_h, l_w, 3), dtype=np.float32)
        bg_noise = _detail(
            value_noise(l0_x, l0_y, 150 * self._um, 150 * self._um, self.salt), 150 * self._um, footprint
        )
        od[:] = _BACKGROUND_OD * (0.8 + 0.4 * bg_noise)[..., None]
        if coverage.any():
            eosin, haem = self._stroma(l0_x, l0_y, codes, coverage, footprint)
            haem += self._nuclei(l0_x, l0_y, codes, footprint)
            fold = self.layout.fold_coverage(l0_x[None, :], l0_y[:, None], footprint)
            if fold is not None:  # the section lies double: twice the stain along the light path
                thicker = 1 + _FOLD_EXTRA * fold
                eosin *= thicker
                haem *= thicker
            od += eosin[..., None] * EOSIN_OD.astype(np.float32) + haem[..., None] * HAEMATOXYLIN_OD.astype(np.float32)
        rgb = np.float32(255.0) * np.exp(np.float32(-np.log(10.0)) * od)
        pixels: NDArray[np.uint8] = np.clip(rgb + 0.5, 0, 255).astype(np.uint8)
        return pixels

    def _stroma(
        self,
        l0_x: NDArray[np.float64],
        l0_y: NDArray[np.float64],
        codes: NDArray[np.int8],
        coverage: NDArray[np.float32],
        footprint: float,
    ) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
        um = self._um
        fibres = _detail(value_noise(l0_x, l0_y, 45 * um, 7 * um, self.salt + 1), 7 * um, footprint)
        fine = _detail(value_noise(l0_x, l0_y, 6 * um, 6 * um, self.salt + 2), 6 * um, footprint)
        texture = np.where(codes == Region.STROMA, 0.65 * fibres + 0.35 * fine, fine)
        # Staining varies slowly across the section (thickness, fixation): +-20 % over ~0.4 mm.
        broad = value_noise(l0_x, l0_y, 400 * um, 400 * um, self.salt + 4)
        eosin = (_EOSIN_BASE[codes] + _EOSIN_TEXTURE[codes] * texture) * (0.8 + 0.4 * broad) * coverage
        haem = _HAEM_DIFFUSE[codes] * coverage
        return eosin.astype(np.float32), haem.astype(np.float32)

    def _nuclei(
        self, l0_x: NDArray[np.float64], l0_y: NDArray[np.float64], codes: NDArray[np.int8], footprint: float
    ) -> NDArray[np.float32]:
        if footprint * self.layout.mpp > _DENSITY_MODE_UM:
            return mean_nuclear_od_per_region()[codes]
        cell = self.grid.l0_cell
        h, w = len(l0_y), len(l0_x)
        step = float(l0_x[1] - l0_x[0]) if w > 1 else footprint
        # Cells whose nucleus may reach into the region: one cell of margin covers jitter plus radius.
        row0, row1 = int(np.floor(l0_y[0] / cell)) - 1, int(np.floor(l0_y[-1] / cell)) + 2
        col0, col1 = int(np.floor(l0_x[0] / cell)) - 1, int(np.floor(l0_x[-1] / cell)) + 2
        blk = self.grid.block(row0, row1, col0, col1)
        result = np.zeros((h, w), dtype=np.float32)
        keep = blk.klass >= 0
        if not keep.any():
            return result
        half = np.float32(footprint / 2)
        cx, cy = blk.l0_x[keep], blk.l0_y[keep]
        major0, minor0 = blk.major[keep], blk.minor[keep]
        major = np.sqrt(major0**2 + half**2)
        minor = np.sqrt(minor0**2 + half**2)
        # Each nucleus is drawn on a square patch of s x s level pixels around its centre.
        s = int(np.ceil(2 * (float(major.max()) + footprint) / step)) + 1
        offs = np.arange(s, dtype=np.int64) - s // 2
        col_c = np.floor((cx - l0_x[0]) / step + 0.5).astype(np.int64)
        row_c = np.floor((cy - l0_y[0]) / step + 0.5).astype(np.int64)
        cols = col_c[:, None, None] + offs[None, None, :]
        rows = row_c[:, None, None] + offs[None, :, None]
        ddx = (l0_x[0] + cols * step).astype(np.float32) - cx[:, None, None]
        ddy = (l0_y[0] + rows * step).astype(np.float32) - cy[:, None, None]
        theta = blk.theta[keep][:, None, None]
        cos, sin = np.cos(theta), np.sin(theta)
        u = (ddx * cos + ddy * sin) / major[:, None, None]
        v = (ddy * cos - ddx * sin) / minor[:, None, None]
        rho = np.sqrt(u * u + v * v)
        alpha = np.clip((1 - rho) * minor[:, None, None] / np.float32(footprint) + 0.5, 0, 1)
        scale = (major0 * minor0 / (major * minor) * blk.od[keep])[:, None, None]
        valid = (alpha > 0) & (rows >= 0) & (rows < h) & (cols >= 0) & (cols < w)
        rows_v = np.broadcast_to(rows, valid.shape)[valid]
        cols_v = np.broadcast_to(cols, valid.shape)[valid]
        chromatin = value_noise_at(l0_x[0] + cols_v * step, l0_y[0] + rows_v * step, 0.9 * self._um, self.salt + 3)
        chromatin = _detail(chromatin, 0.9 * self._um, footprint) - np.float32(0.5)
        texture = np.broadcast_to(blk.texture[keep][:, None, None], valid.shape)[valid]
        values = (alpha * scale)[valid] * (1 + texture * 2.4 * chromatin)
        np.maximum.at(result, (rows_v, cols_v), values)
        return result
