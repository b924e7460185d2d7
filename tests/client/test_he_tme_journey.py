"""A whole Atlas H&E-TME journey on the local platform with its real analysis: submit, wait, readouts."""

from __future__ import annotations

from pathlib import Path

import pytest

from aignostics_jupyter.client import Client
from aignostics_jupyter.emulator import DEFAULT_ANALYSER
from aignostics_jupyter.samples.generate import generate_sample_slide
from tests.client.local import local_platform, local_settings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(150)]


def test_he_tme_on_a_generated_slide(tmp_path: Path) -> None:
    generate_sample_slide(tmp_path / "sample.tiff", size=2048, fmt="tiff", mpp=0.5)
    specimen = {"tissue": "LUNG", "disease": "LUNG_CANCER"}

    with (
        local_platform(tmp_path / "platform", analyser=DEFAULT_ANALYSER) as platform,
        Client(local_settings(platform, tmp_path / "cache"), token_provider=platform.access_token) as client,
    ):
        run = client.runs.submit(
            "he-tme", tmp_path / "sample.tiff", metadata={"staining_method": "H&E", "specimen": specimen}
        )
        final = run.wait(poll=0.2, timeout=120)
        result = run.download(tmp_path / "results")
        tables = run.readouts(tmp_path / "results", download=False)

    assert final.statistics.item_succeeded_count == 1
    names = {p.name for p in result.downloaded}
    assert {"readout_generation_slide_readouts.csv", "cell_classification_geojson_polygons.json"} <= names
    assert {p.parent.name for p in result.downloaded} == {"sample"}
    cells = tables["readout_generation:cell_readouts"]
    assert len(cells) > 0
    assert (cells["external_id"] == str((tmp_path / "sample.tiff").resolve())).all()
