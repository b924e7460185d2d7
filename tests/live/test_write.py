"""Mutating live checks: submit the smallest slide to the test application, wait, download, verify checksums."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.live, pytest.mark.timeout(900)]


@pytest.mark.usefixtures("mutation")
def test_submit_wait_download_verify(call: Any, client: Any, application: tuple[str, str], tmp_path: Path) -> None:
    from aignostics_jupyter.samples.generate import generate_sample_slide

    app_id, version = application
    slide = generate_sample_slide(tmp_path / "live-check.tiff", size=1024, fmt="tiff", seed=99)

    run = call("POST /v1/runs", lambda: client.runs.submit(app_id, [slide.path], version=version, tags=["live-check"]))
    details = call(f"waiting for run {run.run_id}", lambda: run.wait(poll=2.0, timeout=840))
    result = call(f"downloading run {run.run_id}", lambda: run.download(tmp_path / "results"))

    assert details.state.value == "TERMINATED"
    assert details.statistics.item_succeeded_count == 1, details.statistics
    assert result.failed == {}
    assert result.files, "the run produced no downloadable file"
    for path in result.files:
        assert path.stat().st_size > 0
