"""Acceptance: an he-tme run of three generated slides on the local platform, through the client, end to end.

The run goes through everything a user's would: upload to the organization bucket, signed URLs, the runner's
worker processes fetching each slide by its download URL, the real analysis, artifacts behind 307 redirects, and
the verified download. Its outputs are then measured against the slides' ground truth.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from aignostics_jupyter.client import Client
from aignostics_jupyter.emulator import DEFAULT_ANALYSER
from aignostics_jupyter.samples.generate import generate_sample_slides
from tests.client.local import local_platform, local_settings
from tests.emulator.apps.test_accuracy import NUCLEUS_RADIUS_UM, _match, truth_points

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


def _cell_centres(path: Path) -> np.ndarray:
    features = json.loads(path.read_text())["features"]
    centres = [np.asarray(f["geometry"]["coordinates"][0], dtype=np.float64)[:-1].mean(axis=0) for f in features]
    return np.array(centres).reshape(-1, 2)


def _tissue_area_mm2(path: Path) -> float:
    with path.open(newline="") as stream:
        rows = {row["metric"]: row for row in csv.DictReader(stream)}
    return float(rows["tissue_area"]["value"])


def test_three_slides_full_output_matching_ground_truth(tmp_path: Path) -> None:
    slides = generate_sample_slides(tmp_path / "slides", count=3, size=2560, fmt="svs", seed=31)
    specimen = {"tissue": "BREAST", "disease": "BREAST_CANCER"}

    with (
        local_platform(tmp_path / "platform", analyser=DEFAULT_ANALYSER, worker_mode="process") as platform,
        Client(local_settings(platform, tmp_path / "cache"), token_provider=platform.access_token) as client,
    ):
        run = client.runs.submit(
            "he-tme", [s.path for s in slides], metadata={"staining_method": "H&E", "specimen": specimen}
        )
        final = run.wait(poll=0.5, timeout=240)
        result = run.download(tmp_path / "results")

    assert final.state.value == "TERMINATED"
    assert final.termination_reason is not None
    assert final.termination_reason.value == "ALL_ITEMS_PROCESSED"
    assert final.output.value == "FULL"
    assert final.statistics.item_succeeded_count == 3
    assert result.failed == {}
    for slide in slides:
        folder = result.folder / slide.path.stem
        truth, _ = truth_points(slide)
        found = _cell_centres(folder / "cell_classification_geojson_polygons.json")
        matched = _match(truth, found, NUCLEUS_RADIUS_UM / slide.mpp)
        recall, precision = len(matched) / len(truth), len(matched) / len(found)
        assert recall >= 0.85, f"{slide.path.name}: recall {recall:.3f}"
        assert precision >= 0.85, f"{slide.path.name}: precision {precision:.3f}"
        area = _tissue_area_mm2(folder / "readout_generation_slide_readouts.csv")
        assert abs(area - slide.tissue_area_mm2) <= 0.10 * slide.tissue_area_mm2, (area, slide.tissue_area_mm2)
