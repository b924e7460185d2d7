"""The local applications: ``test-app`` (tissue QC) and ``he-tme`` (QC, segmentation, cells, readouts).

Both read the slide's pixels through OpenSlide and write artifacts with the names, media types and metadata
of the real platform's applications.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from aignostics_jupyter.emulator.apps.classify import CELL_CLASSES, CELL_COLORS, classify_nuclei, local_density
from aignostics_jupyter.emulator.apps.errors import ItemSystemError, ItemUserError
from aignostics_jupyter.emulator.apps.models import ProducedArtifact
from aignostics_jupyter.emulator.apps.nuclei import NucleusTable, detect_nuclei
from aignostics_jupyter.emulator.apps.outputs import (
    artifact_path,
    class_table_rows,
    polygon_feature,
    produced,
    write_csv,
    write_geojson,
    write_heatmap,
)
from aignostics_jupyter.emulator.apps.reader import AnalysisSlide, open_analysis_slide
from aignostics_jupyter.emulator.apps.readouts import CELL_READOUT_COLUMNS, cell_readout_rows, slide_readout_rows
from aignostics_jupyter.emulator.apps.segmentation import (
    QC_CLASSES,
    QC_COLORS,
    SEGMENTATION_CLASSES,
    SEGMENTATION_COLORS,
    HeatmapGrid,
    heatmap_grid,
    qc_labels,
    segment_tissue,
)
from aignostics_jupyter.emulator.apps.tissue import TissueMap, detect_tissue
from aignostics_jupyter.emulator.apps.vectorize import mask_polygons

__all__ = ["APPLICATIONS", "OUTPUT_ARTIFACTS", "analyse"]

Progress = Callable[[float], None]
APPLICATIONS: dict[str, tuple[str, ...]] = {"test-app": ("0.0.4", "0.0.6"), "he-tme": ("1.0.0-beta.8", "1.3.0")}
_TIFF, _GEOJSON, _CSV = "image/tiff", "application/geo+json", "text/csv"
_QC_OUTPUTS = {
    "tissue_qc:segmentation_map_image": _TIFF,
    "tissue_qc:geojson_polygons": _GEOJSON,
    "tissue_qc:csv_class_information": _CSV,
}
OUTPUT_ARTIFACTS: dict[str, dict[str, str]] = {
    "test-app": dict(_QC_OUTPUTS),
    "he-tme": {
        **_QC_OUTPUTS,
        "tissue_segmentation:segmentation_map_image": _TIFF,
        "tissue_segmentation:geojson_polygons": _GEOJSON,
        "tissue_segmentation:csv_class_information": _CSV,
        "cell_classification:geojson_polygons": _GEOJSON,
        "readout_generation:slide_readouts": _CSV,
        "readout_generation:cell_readouts": _CSV,
    },
}
"""Output artifact name -> media type, per application (the same for all its versions)."""
_CLASS_HEADER = ("class_name", "red", "green", "blue", "pixel_count", "area_mm2", "percentage")


def _class_map_artifacts(
    prefix: str,
    out_dir: Path,
    *,
    grid: HeatmapGrid,
    labels: NDArray[np.uint8],
    classes: tuple[str, ...],
    colors: dict[str, list[int]],
    areas_mm2: list[float],
    outline: Callable[[int], NDArray[np.bool_]],
    outline_downsample: float,
) -> list[ProducedArtifact]:
    """The three artifacts of a class map: heatmap TIFF, polygons GeoJSON and class table CSV."""
    shown = np.where(grid.tissue_fraction >= 0.5, labels, 0).astype(np.uint8)
    tiff = artifact_path(out_dir, f"{prefix}:segmentation_map_image", _TIFF)
    extra = write_heatmap(tiff, shown, classes, colors, grid)
    features = []
    for index, name in enumerate(classes):
        if name == "background":
            continue
        for number, rings in enumerate(mask_polygons(outline(index), outline_downsample)):
            features.append(polygon_feature(rings, name, colors[name], feature_id=f"{name}-{number}"))
    geojson = artifact_path(out_dir, f"{prefix}:geojson_polygons", _GEOJSON)
    write_geojson(geojson, features)
    pixels = [int((shown == i).sum()) for i in range(len(classes))]
    table = artifact_path(out_dir, f"{prefix}:csv_class_information", _CSV)
    write_csv(table, _CLASS_HEADER, class_table_rows(classes, colors, areas_mm2, pixels))
    return [
        produced(f"{prefix}:segmentation_map_image", tiff, _TIFF, **extra),
        produced(f"{prefix}:geojson_polygons", geojson, _GEOJSON),
        produced(f"{prefix}:csv_class_information", table, _CSV),
    ]


def _slide_area_mm2(slide: AnalysisSlide) -> float:
    return slide.width * slide.height * (slide.mpp / 1000.0) ** 2


def _tissue_qc(slide: AnalysisSlide, tissue: TissueMap, grid: HeatmapGrid, out_dir: Path) -> list[ProducedArtifact]:
    areas = [_slide_area_mm2(slide) - tissue.area_mm2, tissue.area_mm2 - tissue.fold_area_mm2, tissue.fold_area_mm2]
    outlines = {1: tissue.mask & ~tissue.fold, 2: tissue.fold}
    return _class_map_artifacts(
        "tissue_qc",
        out_dir,
        grid=grid,
        labels=qc_labels(grid),
        classes=QC_CLASSES,
        colors=QC_COLORS,
        areas_mm2=areas,
        outline=lambda index: outlines.get(index, ~tissue.mask),
        outline_downsample=tissue.downsample,
    )


def _segmentation_areas(grid: HeatmapGrid, labels: NDArray[np.uint8], slide: AnalysisSlide) -> list[float]:
    pixel_mm2 = (grid.pixel_um / 1000.0) ** 2
    areas = [float(grid.tissue_fraction[labels == i].sum()) * pixel_mm2 for i in range(len(SEGMENTATION_CLASSES))]
    areas[0] = _slide_area_mm2(slide) - sum(areas[1:])
    return areas


def _cell_features(
    table: NucleusTable, classes: NDArray[np.int8], density: NDArray[np.float64], mpp: float
) -> Iterator[dict[str, Any]]:
    """One QuPath detection Feature per nucleus, with its class and measurements."""
    for i, ring in enumerate(table.polygons):
        name = CELL_CLASSES[int(classes[i])]
        yield polygon_feature(
            [ring],
            name,
            CELL_COLORS[name],
            object_type="detection",
            feature_id=f"cell-{i + 1}",
            measurements={
                "area_um2": round(float(table["area"][i]) * mpp * mpp, 3),
                "perimeter_um": round(float(table["perimeter"][i]) * mpp, 3),
                "eccentricity": round(float(table["eccentricity"][i]), 4),
                "major_axis_um": round(float(table["major"][i]) * mpp, 3),
                "minor_axis_um": round(float(table["minor"][i]) * mpp, 3),
                "haematoxylin_mean": round(float(table["haematoxylin"][i]), 4),
                "eosin_mean": round(float(table["eosin"][i]), 4),
                "local_density_per_mm2": round(float(density[i]), 1),
            },
        )


def _he_tme(
    slide: AnalysisSlide, tissue: TissueMap, grid: HeatmapGrid, out_dir: Path, progress: Progress
) -> list[ProducedArtifact]:
    table = detect_nuclei(slide, tissue, progress=lambda f: progress(0.15 + 0.65 * f))
    density = local_density(table, slide.mpp)
    classes = classify_nuclei(table, slide.mpp, density)
    progress(0.82)
    labels = segment_tissue(grid, tissue, table["x"], table["y"], classes == CELL_CLASSES.index("tumor_cell"))
    areas = _segmentation_areas(grid, labels, slide)
    factor = grid.downsample // tissue.downsample
    fine_labels = np.kron(labels, np.ones((factor, factor), dtype=np.uint8))[
        : tissue.mask.shape[0], : tissue.mask.shape[1]
    ]
    artifacts = _class_map_artifacts(
        "tissue_segmentation",
        out_dir,
        grid=grid,
        labels=labels,
        classes=SEGMENTATION_CLASSES,
        colors=SEGMENTATION_COLORS,
        areas_mm2=areas,
        outline=lambda index: tissue.mask & (fine_labels == index),
        outline_downsample=tissue.downsample,
    )
    progress(0.88)
    cells = artifact_path(out_dir, "cell_classification:geojson_polygons", _GEOJSON)
    write_geojson(cells, _cell_features(table, classes, density, slide.mpp))
    artifacts.append(produced("cell_classification:geojson_polygons", cells, _GEOJSON))
    progress(0.94)
    rows, cols = grid.index_of(table["x"], table["y"])
    regions = labels[rows, cols]
    slide_csv = artifact_path(out_dir, "readout_generation:slide_readouts", _CSV)
    region_areas = dict(zip(SEGMENTATION_CLASSES, areas, strict=True))
    region_areas["fold"] = tissue.fold_area_mm2
    slide_rows = slide_readout_rows(slide, tissue.area_mm2, region_areas, table=table, classes=classes, regions=regions)
    write_csv(slide_csv, ("metric", "value", "unit"), slide_rows)
    cell_csv = artifact_path(out_dir, "readout_generation:cell_readouts", _CSV)
    write_csv(cell_csv, CELL_READOUT_COLUMNS, cell_readout_rows(table, classes, regions, density, slide.mpp))
    artifacts += [
        produced("readout_generation:slide_readouts", slide_csv, _CSV),
        produced("readout_generation:cell_readouts", cell_csv, _CSV),
    ]
    return artifacts


def analyse(
    application_id: str,
    version_number: str,
    slide_path: Path,
    metadata: Mapping[str, Any],
    out_dir: Path,
    *,
    progress: Progress | None = None,
) -> list[ProducedArtifact]:
    """Run a local application on one slide and write its output artifacts into ``out_dir``.

    Args:
        application_id: ``test-app`` or ``he-tme``.
        version_number: A version of that application (see :data:`APPLICATIONS`).
        slide_path: The input slide (file, DICOM directory or zipped DICOM).
        metadata: The input artifact's metadata (``resolution_mpp`` required; ``width_px``, ``height_px`` and
            ``checksum_base64_crc32c`` checked when given).
        out_dir: Directory for the artifact files (created).
        progress: Called with the fraction done, from 0 to 1.

    Returns:
        One :class:`ProducedArtifact` per output artifact.

    Raises:
        ItemUserError: The input is not an analysable slide or its metadata is wrong.
        ItemSystemError: Unknown application version, or the analysis failed.

    Example:
        >>> meta = {"resolution_mpp": 0.25}
        >>> artifacts = analyse("he-tme", "1.3.0", Path("s.svs"), meta, Path("out"))  # doctest: +SKIP
    """
    if version_number not in APPLICATIONS.get(application_id, ()):
        raise ItemSystemError(
            "UNKNOWN_APPLICATION_VERSION", f"No local application {application_id} in version {version_number}."
        )
    report: Progress = progress or (lambda _fraction: None)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".scratch-", dir=out_dir))
    try:
        report(0.0)
        slide = open_analysis_slide(Path(slide_path), metadata, scratch)
        try:
            tissue = detect_tissue(slide)
            grid = heatmap_grid(slide.width, slide.height, tissue)
            report(0.1)
            artifacts = _tissue_qc(slide, tissue, grid, out_dir)
            report(0.15)
            if application_id == "he-tme":
                artifacts += _he_tme(slide, tissue, grid, out_dir, report)
        finally:
            slide.close()
    except (ItemUserError, ItemSystemError):
        raise
    except MemoryError as exc:
        raise ItemSystemError("OUT_OF_MEMORY", "The analysis ran out of memory.") from exc
    except Exception as exc:
        raise ItemSystemError("ANALYSIS_FAILED", f"The analysis failed: {type(exc).__name__}: {exc}") from exc
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    report(1.0)
    return artifacts
