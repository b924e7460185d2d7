"""Write output artifacts (heatmap TIFFs, GeoJSON, CSV) and describe them as :class:`ProducedArtifact`."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import tifffile
from numpy.typing import NDArray

from aignostics_jupyter.checksums import crc32c_file
from aignostics_jupyter.emulator.apps.models import MEDIA_EXTENSIONS, ProducedArtifact
from aignostics_jupyter.emulator.apps.segmentation import HeatmapGrid

__all__ = [
    "artifact_path",
    "class_table_rows",
    "polygon_feature",
    "produced",
    "write_csv",
    "write_geojson",
    "write_heatmap",
]


def artifact_path(out_dir: Path, name: str, media_type: str) -> Path:
    """File for an artifact: its name with ``:`` as ``_`` plus the extension of its media type."""
    return out_dir / (name.replace(":", "_") + MEDIA_EXTENSIONS.get(media_type, ".bin"))


def produced(name: str, path: Path, media_type: str, **extra: Any) -> ProducedArtifact:
    """Describe a written artifact file, with its CRC32C and media type in the metadata."""
    metadata = {"checksum_base64_crc32c": crc32c_file(path), "media_type": media_type, **extra}
    return ProducedArtifact(name=name, path=path, metadata=metadata)


def write_heatmap(
    path: Path, labels: NDArray[np.uint8], classes: Sequence[str], colors: Mapping[str, list[int]], grid: HeatmapGrid
) -> dict[str, Any]:
    """Write a class map as an RGB TIFF (each pixel its class colour), lossless, with its resolution.

    Returns:
        The heatmap metadata: ``width``, ``height``, ``base_mpp`` and ``class_colors``.
    """
    palette = np.array([colors[name] for name in classes], dtype=np.uint8)
    rgb = palette[labels]
    description = {"classes": list(classes), "class_colors": {k: colors[k] for k in classes}, "base_mpp": grid.pixel_um}
    per_cm = 1e4 / grid.pixel_um
    tifffile.imwrite(
        path,
        rgb,
        photometric="rgb",
        compression="zlib",
        resolution=(per_cm, per_cm),
        resolutionunit="CENTIMETER",
        description=json.dumps(description),
        metadata=None,
    )
    return {
        "width": grid.width,
        "height": grid.height,
        "base_mpp": grid.pixel_um,
        "class_colors": {k: list(colors[k]) for k in classes},
    }


def _ring_coords(ring: NDArray[np.float64]) -> list[list[float]]:
    coords = np.round(ring, 2).tolist()
    if coords[0] != coords[-1]:
        coords.append(coords[0])
    return coords  # type: ignore[no-any-return]


def polygon_feature(
    rings: Sequence[NDArray[np.float64]],
    name: str,
    color: list[int],
    *,
    object_type: str = "annotation",
    feature_id: str | None = None,
    measurements: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """A QuPath-compatible GeoJSON Feature with a Polygon geometry (exterior first, then holes)."""
    properties: dict[str, Any] = {"objectType": object_type, "classification": {"name": name, "color": color}}
    if measurements is not None:
        properties["measurements"] = dict(measurements)
    feature: dict[str, Any] = {"type": "Feature"}
    if feature_id is not None:
        feature["id"] = feature_id
    feature["geometry"] = {"type": "Polygon", "coordinates": [_ring_coords(r) for r in rings]}
    feature["properties"] = properties
    return feature


def write_geojson(path: Path, features: Iterable[dict[str, Any]]) -> None:
    """Stream a FeatureCollection to a file, one feature per line."""
    with path.open("w", encoding="utf-8") as out:
        out.write('{"type": "FeatureCollection", "features": [\n')
        for index, feature in enumerate(features):
            if index:
                out.write(",\n")
            out.write(json.dumps(feature, separators=(",", ":")))
        out.write("\n]}\n")


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Write a CSV file with a header row."""
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)


def class_table_rows(
    classes: Sequence[str], colors: Mapping[str, list[int]], areas_mm2: Sequence[float], pixels: Sequence[int]
) -> list[list[Any]]:
    """Rows of a ``*:csv_class_information`` table: class, colour, heatmap pixels, area and share of the slide."""
    total = sum(areas_mm2) or 1.0
    rows = []
    for name, area, count in zip(classes, areas_mm2, pixels, strict=True):
        r, g, b = colors[name]
        rows.append([name, r, g, b, count, round(area, 6), round(100.0 * area / total, 4)])
    return rows
