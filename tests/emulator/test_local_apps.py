"""The runner with the real local applications: a generated sample slide through Atlas H&E-TME."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from aignostics_jupyter.checksums import crc32c_bytes
from aignostics_jupyter.emulator import DEFAULT_ANALYSER
from aignostics_jupyter.samples.generate import generate_sample_slide

pytestmark = pytest.mark.integration


@pytest.mark.timeout(150)
def test_he_tme_on_a_sample_slide(make_api: Any, tmp_path: Path) -> None:
    sample = generate_sample_slide(tmp_path / "sample.svs", size=2048, fmt="svs", seed=11)
    data = sample.path.read_bytes()
    api = make_api(analyser=DEFAULT_ANALYSER)
    url = api.upload(data, "samples/sample.svs")
    metadata = {
        "checksum_base64_crc32c": sample.checksum_base64_crc32c,
        "width_px": sample.width,
        "height_px": sample.height,
        "resolution_mpp": sample.mpp,
        "media_type": "application/octet-stream",
        "staining_method": "H&E",
        "specimen": {"tissue": "LUNG", "disease": "LUNG_CANCER"},
    }
    run_id = api.submit(
        [api.item("sample.svs", url, data, name="input_slide", metadata=metadata)], application_id="he-tme"
    )
    run = api.wait(run_id, timeout=140)
    item = api.items(run_id)[0]
    assert (run["state"], run["output"]) == ("TERMINATED", "FULL"), item["error_message"]
    assert len(item["output_artifacts"]) == 9
    assert {a["output"] for a in item["output_artifacts"]} == {"AVAILABLE"}
    cells = next(a for a in item["output_artifacts"] if a["name"] == "cell_classification:geojson_polygons")
    location = api.http.get(f"/runs/{run_id}/artifacts/{cells['output_artifact_id']}/file").headers["location"]
    content = httpx.get(location).content
    assert crc32c_bytes(content) == cells["metadata"]["checksum_base64_crc32c"]
    assert b"FeatureCollection" in content
