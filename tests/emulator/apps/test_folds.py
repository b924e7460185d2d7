"""Tissue QC finds folded tissue (double thickness) where the sample slide has a fold, and nowhere else."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
import tifffile

from aignostics_jupyter.emulator.apps import analyse
from aignostics_jupyter.samples import generate_sample_slide
from aignostics_jupyter.samples.layout import make_layout

pytestmark = pytest.mark.integration


def _qc(tmp_path: Path, seed: int) -> tuple[dict[str, float], np.ndarray, dict[str, object], float]:
    slide = generate_sample_slide(tmp_path / f"s{seed}.svs", size=4096, seed=seed)
    artifacts = {a.name: a for a in analyse("test-app", "0.0.6", slide.path, {"resolution_mpp": 0.25}, tmp_path / "o")}
    table = artifacts["tissue_qc:csv_class_information"].path.read_text()
    areas = {r["class_name"]: float(r["area_mm2"]) for r in csv.DictReader(io.StringIO(table))}
    heatmap = artifacts["tissue_qc:segmentation_map_image"]
    truth = json.loads(slide.tissue_geojson.read_text())["features"]
    assert any(f["properties"]["classification"]["name"] == "fold" for f in truth) == bool(
        make_layout(4096, 4096, 0.25, seed).folds
    )
    return areas, tifffile.imread(heatmap.path), heatmap.metadata, slide.tissue_area_mm2


@pytest.mark.timeout(60)
def test_a_fold_is_found_where_it_is(tmp_path: Path) -> None:
    seed = 7
    layout = make_layout(4096, 4096, 0.25, seed)
    assert layout.folds
    areas, image, metadata, _ = _qc(tmp_path, seed)
    assert areas["fold"] > 0
    found = (image == metadata["class_colors"]["fold"]).all(axis=-1)  # type: ignore[index]
    scale = metadata["base_mpp"] / 0.25  # type: ignore[operator]
    x = (np.arange(image.shape[1]) + 0.5) * scale
    y = (np.arange(image.shape[0]) + 0.5) * scale
    codes, _ = layout.regions(x[None, :], y[:, None])
    coverage = layout.fold_coverage(x[None, :], y[:, None])
    assert coverage is not None
    truth = (coverage > 0.5) & (codes > 0)
    assert (found & truth).sum() / (found | truth).sum() >= 0.6


@pytest.mark.timeout(60)
def test_no_fold_is_reported_on_a_slide_without_one(tmp_path: Path) -> None:
    seed = 1
    assert not make_layout(4096, 4096, 0.25, seed).folds
    areas, image, metadata, truth_area = _qc(tmp_path, seed)
    assert areas["fold"] == 0
    assert not (image == metadata["class_colors"]["fold"]).all(axis=-1).any()  # type: ignore[index]
    assert areas["tissue"] == pytest.approx(truth_area, rel=0.05)
