"""Synthetic overlays for tests, demos and benchmarks: QuPath-style cell GeoJSON and class-map heatmaps."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

__all__ = ["CELL_CLASSES", "cell_features", "write_cell_geojson", "write_label_heatmap"]

CELL_CLASSES: dict[str, tuple[int, int, int]] = {
    "Tumor": (200, 0, 0),
    "Lymphocyte": (0, 80, 220),
    "Stroma": (20, 160, 60),
    "Other": (150, 150, 150),
}


def cell_features(
    count: int, width: int, height: int, *, seed: int = 0, vertices: int = 10, radius: float = 7.0
) -> list[dict[str, object]]:
    """``count`` roughly round cell polygons scattered over a ``width`` x ``height`` slide, QuPath style.

    Each feature has ``properties.objectType = "cell"``, ``classification {name, color}`` and a few
    ``measurements`` (area, eccentricity, mean intensity).
    """
    rng = np.random.default_rng(seed)
    centres = rng.uniform((radius, radius), (width - radius, height - radius), size=(count, 2))
    radii = radius * rng.uniform(0.6, 1.4, size=(count, 1)) * rng.uniform(0.85, 1.15, size=(count, vertices))
    angles = np.linspace(0, 2 * np.pi, vertices, endpoint=False)
    xs = centres[:, :1] + radii * np.cos(angles)
    ys = centres[:, 1:] + radii * np.sin(angles)
    rings: NDArray[np.floating] = np.round(np.stack([xs, ys], axis=2), 1)
    names = list(CELL_CLASSES)
    classes = rng.choice(len(names), size=count, p=[0.45, 0.25, 0.2, 0.1])
    intensity = rng.uniform(0, 1, size=count)
    features: list[dict[str, object]] = []
    ring_lists = rings.tolist()
    for i, ring in enumerate(ring_lists):
        name = names[classes[i]]
        features.append(
            {
                "type": "Feature",
                "id": f"cell-{i}",
                "geometry": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]},
                "properties": {
                    "objectType": "cell",
                    "classification": {"name": name, "color": list(CELL_CLASSES[name])},
                    "measurements": {
                        "Area": round(float(np.pi * radii[i].mean() ** 2), 2),
                        "Mean intensity": round(float(intensity[i]), 4),
                    },
                },
            }
        )
    return features


def write_cell_geojson(path: Path, count: int, width: int, height: int, *, seed: int = 0) -> Path:
    """Write a FeatureCollection of :func:`cell_features` plus one tissue polygon around them."""
    features = cell_features(count, width, height, seed=seed)
    tissue = {
        "type": "Feature",
        "id": "tissue-0",
        "geometry": {
            "type": "Polygon",
            "coordinates": [[[0, 0], [width, 0], [width, height], [0, height], [0, 0]]],
        },
        "properties": {"objectType": "annotation", "classification": {"name": "Tissue", "color": [255, 200, 0]}},
    }
    with Path(path).open("w") as f:
        json.dump({"type": "FeatureCollection", "features": [tissue, *features]}, f, separators=(",", ":"))
    return Path(path)


def write_label_heatmap(path: Path, width: int, height: int, *, mpp: float | None = None, classes: int = 3) -> Path:
    """Write a uint8 class map TIFF (vertical bands of labels 0..classes) with optional resolution tags."""
    import tifffile

    labels = (np.arange(width) * (classes + 1) // width).astype(np.uint8)
    data = np.broadcast_to(labels[None, :], (height, width)).copy()
    kwargs: dict[str, object] = {}
    if mpp:
        kwargs = {"resolution": (1e4 / mpp, 1e4 / mpp), "resolutionunit": "CENTIMETER"}
    tifffile.imwrite(path, data, compression="zlib", **kwargs)  # type: ignore[arg-type]
    return Path(path)
