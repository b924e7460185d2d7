"""Every output artifact of test-app and he-tme: exact names, valid content, metadata that matches the file."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
import tifffile

from aignostics_jupyter.checksums import crc32c_file
from aignostics_jupyter.emulator.apps import OUTPUT_ARTIFACTS, ItemSystemError, ProducedArtifact, analyse
from aignostics_jupyter.samples import SampleSlide, generate_sample_slide
from aignostics_jupyter.slides.writers import write_slide

pytestmark = pytest.mark.integration

HE_TME_NAMES = {
    "tissue_qc:segmentation_map_image",
    "tissue_qc:geojson_polygons",
    "tissue_qc:csv_class_information",
    "tissue_segmentation:segmentation_map_image",
    "tissue_segmentation:geojson_polygons",
    "tissue_segmentation:csv_class_information",
    "cell_classification:geojson_polygons",
    "readout_generation:slide_readouts",
    "readout_generation:cell_readouts",
}
EXTENSIONS = {"image/tiff": ".tiff", "application/geo+json": ".json", "text/csv": ".csv"}


def _check_artifact(artifact: ProducedArtifact, slide_width: int, slide_height: int) -> None:
    media_type = artifact.metadata["media_type"]
    assert artifact.path.suffix == EXTENSIONS[media_type]
    assert artifact.metadata["checksum_base64_crc32c"] == crc32c_file(artifact.path)
    if media_type == "image/tiff":
        meta = artifact.metadata
        image = tifffile.imread(artifact.path)
        assert image.shape == (meta["height"], meta["width"], 3)
        scale = meta["base_mpp"] / 0.25
        assert meta["width"] * scale >= slide_width > (meta["width"] - 1) * scale
        assert meta["height"] * scale >= slide_height > (meta["height"] - 1) * scale
        assert "background" in meta["class_colors"]
        colours = {tuple(c) for c in meta["class_colors"].values()}
        assert {tuple(int(v) for v in px) for px in image.reshape(-1, 3)[::97]} <= colours
    elif media_type == "application/geo+json":
        collection = json.loads(artifact.path.read_text())
        assert collection["type"] == "FeatureCollection"
        for feature in collection["features"]:
            assert feature["type"] == "Feature"
            assert feature["geometry"]["type"] == "Polygon"
            for ring in feature["geometry"]["coordinates"]:
                assert len(ring) >= 4
                assert ring[0] == ring[-1]
                assert all(-1 <= x <= slide_width + 1 and -1 <= y <= slide_height + 1 for x, y in ring)
            assert {"name", "color"} <= set(feature["properties"]["classification"])
    else:
        rows = list(csv.DictReader(io.StringIO(artifact.path.read_text())))
        assert rows


@pytest.mark.timeout(180)
def test_he_tme_writes_all_nine_artifacts(he_tme_results: list[tuple[SampleSlide, list[ProducedArtifact]]]) -> None:
    for slide, artifacts in he_tme_results:
        assert [a.name for a in artifacts] == list(OUTPUT_ARTIFACTS["he-tme"])
        assert {a.name for a in artifacts} == HE_TME_NAMES
        for artifact in artifacts:
            assert artifact.metadata["media_type"] == OUTPUT_ARTIFACTS["he-tme"][artifact.name]
            _check_artifact(artifact, slide.width, slide.height)


@pytest.mark.timeout(180)
def test_cells_are_qupath_detections_with_measurements(
    he_tme_results: list[tuple[SampleSlide, list[ProducedArtifact]]],
) -> None:
    slide, artifacts = he_tme_results[0]
    by_name = {a.name: a for a in artifacts}
    cells = json.loads(by_name["cell_classification:geojson_polygons"].path.read_text())["features"]
    rows = list(csv.DictReader(io.StringIO(by_name["readout_generation:cell_readouts"].path.read_text())))
    assert len(cells) == len(rows) > 100
    for feature, row in zip(cells[:50], rows[:50], strict=True):
        properties = feature["properties"]
        assert properties["objectType"] in {"cell", "detection"}
        assert properties["classification"]["name"] == row["cell_class"]
        assert len(properties["classification"]["color"]) == 3
        measurements = properties["measurements"]
        assert 5 < measurements["area_um2"] < 250
        assert measurements["perimeter_um"] > 0
        assert 0 <= measurements["eccentricity"] < 1
        assert float(row["area_um2"]) == pytest.approx(measurements["area_um2"])
        assert float(row["x_um"]) == pytest.approx(float(row["x_px"]) * slide.mpp, abs=0.01)
    readouts = {
        r["metric"]: float(r["value"])
        for r in csv.DictReader(io.StringIO(by_name["readout_generation:slide_readouts"].path.read_text()))
    }
    assert readouts["cell_count_total"] == len(rows)
    per_class = sum(readouts[f"cell_count_{c}"] for c in ("tumor_cell", "lymphocyte", "fibroblast", "other"))
    assert per_class == len(rows)
    assert readouts["tissue_area"] == pytest.approx(
        readouts["tumor_area"] + readouts["stroma_area"] + readouts["necrosis_area"], rel=1e-3
    )
    assert readouts["cell_density_total"] == pytest.approx(len(rows) / readouts["tissue_area"], rel=1e-3)


@pytest.mark.timeout(180)
def test_segmentation_finds_the_tumour(he_tme_results: list[tuple[SampleSlide, list[ProducedArtifact]]]) -> None:
    for _slide, artifacts in he_tme_results:
        table = {a.name: a for a in artifacts}["tissue_segmentation:csv_class_information"].path.read_text()
        areas = {r["class_name"]: float(r["area_mm2"]) for r in csv.DictReader(io.StringIO(table))}
        assert areas["tumor"] > 0
        assert areas["stroma"] > 0


@pytest.mark.parametrize(("fmt", "version"), [("tiff", "0.0.4"), ("dicom", "0.0.6")])
@pytest.mark.timeout(60)
def test_test_app_writes_the_three_tissue_qc_artifacts(tmp_path: Path, fmt: str, version: str) -> None:
    suffix = ".tiff" if fmt == "tiff" else ""
    slide = generate_sample_slide(tmp_path / f"slide{suffix}", size=2048, fmt=fmt, seed=5, mpp=0.5)
    progress: list[float] = []
    artifacts = analyse(
        "test-app", version, slide.path, {"resolution_mpp": 0.5}, tmp_path / "out", progress=progress.append
    )
    assert [a.name for a in artifacts] == [
        "tissue_qc:segmentation_map_image",
        "tissue_qc:geojson_polygons",
        "tissue_qc:csv_class_information",
    ]
    for artifact in artifacts:
        assert artifact.metadata["checksum_base64_crc32c"] == crc32c_file(artifact.path)
        if artifact.metadata["media_type"] != "image/tiff":
            _check_artifact(artifact, 2048, 2048)
    heatmap = artifacts[0].metadata
    assert heatmap["width"] * heatmap["base_mpp"] >= 2048 * 0.5 > (heatmap["width"] - 1) * heatmap["base_mpp"]
    assert progress[0] == 0.0
    assert progress[-1] == 1.0
    assert progress == sorted(progress)
    table = artifacts[2].path.read_text()
    areas = {r["class_name"]: float(r["area_mm2"]) for r in csv.DictReader(io.StringIO(table))}
    assert set(areas) == {"background", "tissue", "fold"}
    assert areas["tissue"] + areas["fold"] == pytest.approx(slide.tissue_area_mm2, rel=0.1)
    assert not any(p.name.startswith(".scratch") for p in (tmp_path / "out").iterdir())


def test_unknown_application_or_version_is_a_system_error(tmp_path: Path) -> None:
    with pytest.raises(ItemSystemError) as caught:
        analyse("he-tme", "9.9.9", tmp_path / "x.svs", {"resolution_mpp": 0.25}, tmp_path)
    assert caught.value.code == "UNKNOWN_APPLICATION_VERSION"
    with pytest.raises(ItemSystemError):
        analyse("no-such-app", "1.0.0", tmp_path / "x.svs", {"resolution_mpp": 0.25}, tmp_path)


@pytest.mark.timeout(60)
def test_a_slide_without_tissue_gives_empty_but_valid_results(tmp_path: Path) -> None:
    def blank(_downsample: float, _x: int, _y: int, w: int, h: int) -> np.ndarray:
        return np.full((h, w, 3), 243, dtype=np.uint8)

    path = write_slide(tmp_path / "blank.svs", 2048, 1536, blank, mpp=0.5, fmt="svs")
    metadata = {"resolution_mpp": 0.5, "width_px": 2048.0, "height_px": "1536"}
    artifacts = analyse("he-tme", "1.0.0-beta.8", path, metadata, tmp_path / "out")
    assert {a.name for a in artifacts} == HE_TME_NAMES
    by_name = {a.name: a for a in artifacts}
    cells = json.loads(by_name["cell_classification:geojson_polygons"].path.read_text())
    assert cells["features"] == []
    readouts = {
        r["metric"]: float(r["value"])
        for r in csv.DictReader(io.StringIO(by_name["readout_generation:slide_readouts"].path.read_text()))
    }
    assert readouts["tissue_area"] == 0
    assert readouts["cell_count_total"] == 0
    image = tifffile.imread(by_name["tissue_qc:segmentation_map_image"].path)
    assert not image.any()
    for artifact in artifacts:
        assert artifact.metadata["checksum_base64_crc32c"] == crc32c_file(artifact.path)
