"""he-tme finds the nuclei and the tissue of generated slides, measured against their ground truth."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import tifffile
from scipy.optimize import linear_sum_assignment
from scipy.spatial import cKDTree

from aignostics_jupyter.emulator.apps import ProducedArtifact
from aignostics_jupyter.samples import SampleSlide
from aignostics_jupyter.samples.layout import Region, make_layout

pytestmark = pytest.mark.integration

NUCLEUS_RADIUS_UM = 4.0


def truth_points(slide: SampleSlide) -> tuple[np.ndarray, list[str]]:
    """Ground-truth nucleus centres ``(n, 2)`` and classes."""
    features = json.loads(Path(slide.nuclei_geojson).read_text())["features"]
    points = np.array([f["geometry"]["coordinates"] for f in features], dtype=np.float64).reshape(-1, 2)
    return points, [f["properties"]["classification"]["name"] for f in features]


def _by_name(artifacts: list[ProducedArtifact]) -> dict[str, ProducedArtifact]:
    return {a.name: a for a in artifacts}


def _detected(artifacts: list[ProducedArtifact]) -> tuple[np.ndarray, list[str]]:
    cells = json.loads(_by_name(artifacts)["cell_classification:geojson_polygons"].path.read_text())["features"]
    centres = [np.asarray(f["geometry"]["coordinates"][0], dtype=np.float64)[:-1].mean(axis=0) for f in cells]
    return np.array(centres).reshape(-1, 2), [f["properties"]["classification"]["name"] for f in cells]


def _match(truth: np.ndarray, found: np.ndarray, radius_px: float) -> list[tuple[int, int]]:
    """One-to-one matching (Hungarian) of points closer than ``radius_px``."""
    if len(truth) == 0 or len(found) == 0:
        return []
    tree = cKDTree(found)
    cost = np.full((len(truth), len(found)), 1e6)
    for i, neighbours in enumerate(tree.query_ball_point(truth, radius_px)):
        for j in neighbours:
            cost[i, j] = np.hypot(*(truth[i] - found[j]))
    rows, cols = linear_sum_assignment(cost)
    return [(int(r), int(c)) for r, c in zip(rows, cols, strict=True) if cost[r, c] < radius_px]


@pytest.mark.timeout(180)
def test_nuclei_recall_and_precision(he_tme_results: list[tuple[SampleSlide, list[ProducedArtifact]]]) -> None:
    total_truth = total_found = total_matched = 0
    for slide, artifacts in he_tme_results:
        truth, _ = truth_points(slide)
        found, _ = _detected(artifacts)
        matched = _match(truth, found, NUCLEUS_RADIUS_UM / slide.mpp)
        recall, precision = len(matched) / len(truth), len(matched) / len(found)
        assert recall >= 0.85, f"{slide.path.name}: recall {recall:.3f}"
        assert precision >= 0.85, f"{slide.path.name}: precision {precision:.3f}"
        total_truth, total_found, total_matched = (
            total_truth + len(truth),
            total_found + len(found),
            total_matched + len(matched),
        )
    assert total_truth > 500


@pytest.mark.timeout(180)
def test_cell_classes_mostly_agree_with_truth(he_tme_results: list[tuple[SampleSlide, list[ProducedArtifact]]]) -> None:
    agree = pairs = 0
    for slide, artifacts in he_tme_results:
        truth, truth_classes = truth_points(slide)
        found, found_classes = _detected(artifacts)
        for i, j in _match(truth, found, NUCLEUS_RADIUS_UM / slide.mpp):
            pairs += 1
            agree += truth_classes[i] == found_classes[j]
    assert agree / pairs >= 0.8


@pytest.mark.timeout(180)
def test_tissue_area_within_ten_percent(he_tme_results: list[tuple[SampleSlide, list[ProducedArtifact]]]) -> None:
    for slide, artifacts in he_tme_results:
        readouts = _by_name(artifacts)["readout_generation:slide_readouts"].path.read_text().splitlines()
        values = {line.split(",")[0]: line.split(",")[1] for line in readouts[1:]}
        measured = float(values["tissue_area"])
        assert measured == pytest.approx(slide.tissue_area_mm2, rel=0.10)
        polygons = json.loads(_by_name(artifacts)["tissue_qc:geojson_polygons"].path.read_text())["features"]
        tissue = [f for f in polygons if f["properties"]["classification"]["name"] == "tissue"]
        assert len(tissue) >= 1


@pytest.mark.timeout(180)
def test_tissue_segmentation_overlaps_the_true_tumour(
    he_tme_results: list[tuple[SampleSlide, list[ProducedArtifact]]],
) -> None:
    ious = []
    for slide, artifacts in he_tme_results:
        heatmap = _by_name(artifacts)["tissue_segmentation:segmentation_map_image"]
        image = tifffile.imread(heatmap.path)
        downsample = heatmap.metadata["base_mpp"] / slide.mpp
        layout = make_layout(slide.width, slide.height, slide.mpp, slide.seed)
        l0_x = (np.arange(image.shape[1]) + 0.5) * downsample
        l0_y = (np.arange(image.shape[0]) + 0.5) * downsample
        codes, _ = layout.regions(l0_x[None, :], l0_y[:, None])
        found = (image == heatmap.metadata["class_colors"]["tumor"]).all(axis=-1)
        truth = codes == Region.TUMOR
        ious.append((found & truth).sum() / (found | truth).sum())
    assert min(ious) >= 0.6, ious
