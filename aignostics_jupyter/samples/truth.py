"""Ground truth of a sample slide as GeoJSON: tissue outlines and zones, and one point per nucleus.

Coordinates are base-level pixels (x right, y down), like every GeoJSON the platform produces. Nuclei are
streamed to the file block by block, so a 64k x 64k slide with millions of nuclei never sits in memory.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from aignostics_jupyter.samples.layout import Region, SlideLayout
from aignostics_jupyter.samples.nuclei import NUCLEUS_CLASSES, NucleusGrid

__all__ = ["NUCLEUS_COLORS", "write_nuclei_geojson", "write_tissue_geojson"]

NUCLEUS_COLORS = {
    "tumor_cell": [200, 0, 0],
    "lymphocyte": [0, 90, 220],
    "fibroblast": [0, 160, 60],
    "other": [230, 160, 0],
}
_ZONE_NAMES = {Region.TUMOR: "tumor", Region.NECROSIS: "necrosis", Region.LYMPHOID: "lymphoid_aggregate"}


def _ring(points: np.ndarray) -> list[list[float]]:
    return [[round(float(x), 2), round(float(y), 2)] for x, y in points]


def write_tissue_geojson(path: Path, layout: SlideLayout) -> Path:
    """Write the tissue islands (class ``tissue``), the zones inside them and folds as a FeatureCollection.

    Zones and folds are drawn unclipped; only their parts inside a tissue island are real.

    Args:
        path: Target file.
        layout: The slide's layout.

    Returns:
        ``path``.
    """
    features: list[dict[str, Any]] = []
    mm2 = (layout.mpp / 1000.0) ** 2
    for index, island in enumerate(layout.islands):
        ring = island.polygon(720)
        x, y = ring[:, 0], ring[:, 1]
        area = 0.5 * abs(float(np.dot(x[:-1], y[1:]) - np.dot(x[1:], y[:-1])))
        features.append(
            {
                "type": "Feature",
                "id": f"tissue-{index}",
                "geometry": {"type": "Polygon", "coordinates": [_ring(ring)]},
                "properties": {
                    "objectType": "annotation",
                    "classification": {"name": "tissue", "color": [240, 120, 200]},
                    "measurements": {"area_mm2": area * mm2},
                },
            }
        )
    for index, (region, zone) in enumerate(layout.zones):
        features.append(
            {
                "type": "Feature",
                "id": f"zone-{index}",
                "geometry": {"type": "Polygon", "coordinates": [_ring(zone.polygon(360))]},
                "properties": {"objectType": "annotation", "classification": {"name": _ZONE_NAMES[region]}},
            }
        )
    for index, fold in enumerate(layout.folds):
        features.append(
            {
                "type": "Feature",
                "id": f"fold-{index}",
                "geometry": {"type": "Polygon", "coordinates": [_ring(fold.polygon(360))]},
                "properties": {"objectType": "annotation", "classification": {"name": "fold"}},
            }
        )
    collection = {
        "type": "FeatureCollection",
        "properties": {"width": layout.width, "height": layout.height, "mpp": layout.mpp},
        "features": features,
    }
    path.write_text(json.dumps(collection), encoding="utf-8")
    return path


def write_nuclei_geojson(path: Path, grid: NucleusGrid) -> dict[str, int]:
    """Stream one Point feature per nucleus (its centre, class and size) into a FeatureCollection.

    Args:
        path: Target file.
        grid: The slide's nucleus grid.

    Returns:
        The number of nuclei per class.
    """
    counts = dict.fromkeys(NUCLEUS_CLASSES, 0)
    mpp = grid.layout.mpp
    first = True
    with path.open("w", encoding="utf-8") as out:
        out.write('{"type": "FeatureCollection", "features": [\n')
        for blk in grid.iter_nuclei():
            rows, cols = np.nonzero(blk.klass >= 0)
            lines = []
            for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
                name = NUCLEUS_CLASSES[int(blk.klass[r, c])]
                counts[name] += 1
                feature = {
                    "type": "Feature",
                    "geometry": {
                        "type": "Point",
                        "coordinates": [round(float(blk.l0_x[r, c]), 2), round(float(blk.l0_y[r, c]), 2)],
                    },
                    "properties": {
                        "objectType": "detection",
                        "classification": {"name": name, "color": NUCLEUS_COLORS[name]},
                        "measurements": {
                            "major_axis_um": round(float(blk.major[r, c]) * 2 * mpp, 3),
                            "minor_axis_um": round(float(blk.minor[r, c]) * 2 * mpp, 3),
                        },
                    },
                }
                lines.append(json.dumps(feature))
            if lines:
                out.write(("" if first else ",\n") + ",\n".join(lines))
                first = False
        out.write("\n]}\n")
    return counts
