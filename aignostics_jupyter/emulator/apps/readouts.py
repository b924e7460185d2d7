"""Readouts: slide-level metrics (one row per metric) and one row per cell."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.typing import NDArray

from aignostics_jupyter.emulator.apps.classify import CELL_CLASSES
from aignostics_jupyter.emulator.apps.nuclei import NucleusTable
from aignostics_jupyter.emulator.apps.reader import AnalysisSlide
from aignostics_jupyter.emulator.apps.segmentation import SEGMENTATION_CLASSES

__all__ = ["CELL_READOUT_COLUMNS", "cell_readout_rows", "slide_readout_rows"]

CELL_READOUT_COLUMNS = (
    "cell_id",
    "x_px",
    "y_px",
    "x_um",
    "y_um",
    "cell_class",
    "tissue_region",
    "area_um2",
    "perimeter_um",
    "eccentricity",
    "major_axis_um",
    "minor_axis_um",
    "orientation_deg",
    "haematoxylin_mean",
    "eosin_mean",
    "local_density_per_mm2",
)


def _per_mm2(count: float, area_mm2: float) -> float:
    return round(count / area_mm2, 3) if area_mm2 > 0 else 0.0


def slide_readout_rows(
    slide: AnalysisSlide,
    tissue_area_mm2: float,
    region_areas_mm2: dict[str, float],
    *,
    table: NucleusTable,
    classes: NDArray[np.int8],
    regions: NDArray[np.uint8],
) -> list[list[Any]]:
    """Slide metrics as ``[metric, value, unit]`` rows.

    Args:
        slide: The slide (size, mpp).
        tissue_area_mm2: Tissue area.
        region_areas_mm2: Area per tissue segmentation class (and ``fold``: folded tissue, a QC finding).
        table: The nuclei.
        classes: Class index per nucleus.
        regions: Tissue segmentation class index at each nucleus.

    Returns:
        The rows: size, areas, counts, densities and fractions per class, densities per region.
    """
    rows: list[list[Any]] = [
        ["slide_width", slide.width, "px"],
        ["slide_height", slide.height, "px"],
        ["resolution", slide.mpp, "um/px"],
        ["tissue_area", round(tissue_area_mm2, 6), "mm2"],
    ]
    for region in SEGMENTATION_CLASSES[1:]:
        rows.append([f"{region}_area", round(region_areas_mm2[region], 6), "mm2"])
    fold = region_areas_mm2.get("fold", 0.0)
    rows.append(["fold_area", round(fold, 6), "mm2"])
    rows.append(["fold_fraction", round(fold / tissue_area_mm2, 6) if tissue_area_mm2 > 0 else 0.0, "fraction"])
    tumor, stroma = region_areas_mm2["tumor"], region_areas_mm2["stroma"]
    rows.append(["tumor_stroma_ratio", round(tumor / stroma, 4) if stroma > 0 else 0.0, "ratio"])
    total = len(table)
    rows.append(["cell_count_total", total, "count"])
    rows.append(["cell_density_total", _per_mm2(total, tissue_area_mm2), "cells/mm2"])
    counts = (
        np.bincount(classes.astype(np.int64), minlength=len(CELL_CLASSES)) if total else np.zeros(len(CELL_CLASSES))
    )
    area_um2 = table["area"] * slide.mpp**2
    for index, name in enumerate(CELL_CLASSES):
        count = int(counts[index])
        rows.append([f"cell_count_{name}", count, "count"])
        rows.append([f"cell_density_{name}", _per_mm2(count, tissue_area_mm2), "cells/mm2"])
        rows.append([f"cell_fraction_{name}", round(count / total, 6) if total else 0.0, "fraction"])
        of_class = classes == index
        mean_area = float(area_um2[of_class].mean()) if of_class.any() else 0.0
        rows.append([f"nucleus_area_mean_{name}", round(mean_area, 3), "um2"])
    for r_index, region in enumerate(SEGMENTATION_CLASSES[1:], start=1):
        in_region = regions == r_index
        for index, name in enumerate(CELL_CLASSES):
            count = int((in_region & (classes == index)).sum())
            rows.append([f"cell_density_{name}_in_{region}", _per_mm2(count, region_areas_mm2[region]), "cells/mm2"])
    return rows


def cell_readout_rows(
    table: NucleusTable,
    classes: NDArray[np.int8],
    regions: NDArray[np.uint8],
    density: NDArray[np.float64],
    mpp: float,
) -> Iterator[list[Any]]:
    """One row per cell, in the order of :data:`CELL_READOUT_COLUMNS`."""
    columns = table.columns
    x, y = columns["x"], columns["y"]
    orientation = np.degrees(columns["orientation"])
    for i in range(len(table)):
        yield [
            i + 1,
            round(float(x[i]), 2),
            round(float(y[i]), 2),
            round(float(x[i]) * mpp, 3),
            round(float(y[i]) * mpp, 3),
            CELL_CLASSES[int(classes[i])],
            SEGMENTATION_CLASSES[int(regions[i])],
            round(float(columns["area"][i]) * mpp * mpp, 3),
            round(float(columns["perimeter"][i]) * mpp, 3),
            round(float(columns["eccentricity"][i]), 4),
            round(float(columns["major"][i]) * mpp, 3),
            round(float(columns["minor"][i]) * mpp, 3),
            round(float(orientation[i]), 2),
            round(float(columns["haematoxylin"][i]), 4),
            round(float(columns["eosin"][i]), 4),
            round(float(density[i]), 1),
        ]
