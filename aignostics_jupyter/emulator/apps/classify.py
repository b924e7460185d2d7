"""Nucleus classification from morphology, stain and neighbourhood.

A small, explainable rule set on physical units (µm², optical density), in the spirit of classic
hand-crafted pathology features:

* **fibroblast**: elongated (eccentricity ≥ 0.88) and thin;
* **lymphocyte**: small (< 40 µm²), round and very dark (haematoxylin ≥ 0.82);
* **tumor_cell**: large (≥ 47 µm²), or medium-sized and pale (vesicular chromatin), or medium-sized in a
  dense cluster of large nuclei;
* **other**: everything else (plasma cells, macrophages, endothelium, …).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from aignostics_jupyter.emulator.apps.nuclei import NucleusTable

__all__ = ["CELL_CLASSES", "CELL_COLORS", "classify_nuclei", "local_density"]

CELL_CLASSES = ("tumor_cell", "lymphocyte", "fibroblast", "other")
CELL_COLORS = {
    "tumor_cell": [200, 0, 0],
    "lymphocyte": [0, 90, 220],
    "fibroblast": [0, 160, 60],
    "other": [230, 160, 0],
}
_DENSITY_RADIUS_UM = 25.0


def local_density(table: NucleusTable, mpp: float, radius_um: float = _DENSITY_RADIUS_UM) -> NDArray[np.float64]:
    """Nuclei per mm² within ``radius_um`` of each nucleus (itself excluded)."""
    if len(table) == 0:
        return np.empty(0)
    points = np.column_stack([table["x"], table["y"]]) * mpp
    counts = np.asarray(cKDTree(points).query_ball_point(points, radius_um, return_length=True), dtype=np.float64)
    return (counts - 1) / (np.pi * radius_um**2) * 1e6


def classify_nuclei(table: NucleusTable, mpp: float, density: NDArray[np.float64]) -> NDArray[np.int8]:
    """Class index (into :data:`CELL_CLASSES`) of every nucleus.

    Args:
        table: Detected nuclei.
        mpp: µm per base pixel.
        density: :func:`local_density` of the nuclei.

    Returns:
        int8 class indices.
    """
    area = table["area"] * mpp * mpp
    ecc = table["eccentricity"]
    minor_um = table["minor"] * mpp
    haem = table["haematoxylin"]
    classes = np.full(len(table), CELL_CLASSES.index("other"), dtype=np.int8)
    tumor = (area >= 47) | ((area >= 28) & (haem < 0.68)) | ((area >= 36) & (density > 3000) & (haem < 0.78))
    classes[tumor] = CELL_CLASSES.index("tumor_cell")
    lymphocyte = (area < 40) & (haem >= 0.82) & (ecc < 0.8)
    classes[lymphocyte] = CELL_CLASSES.index("lymphocyte")
    fibroblast = (ecc >= 0.88) & (minor_um < 6.0)
    classes[fibroblast] = CELL_CLASSES.index("fibroblast")
    return classes
