"""The runner and the state machine: success, user and system errors, threshold, deadline, cancel, ordering."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from aignostics_jupyter.checksums import crc32c_bytes
from aignostics_jupyter.emulator.synthetic import ItemSystemError
from aignostics_jupyter.emulator.synthetic import analyse as synthetic_analyse

pytestmark = pytest.mark.integration


def test_a_run_succeeds_and_its_artifacts_download(api: Any) -> None:
    run_id = api.submit_slides(2, custom_metadata={"sdk": {"note": "ok"}})
    run = api.wait(run_id)
    assert (run["state"], run["termination_reason"], run["output"]) == ("TERMINATED", "ALL_ITEMS_PROCESSED", "FULL")
    assert run["statistics"] == {
        **run["statistics"],
        "item_count": 2,
        "item_succeeded_count": 2,
        "item_pending_count": 0,
    }
    assert run["terminated_at"] >= run["submitted_at"]
    items = api.items(run_id)
    for entry in items:
        assert (entry["state"], entry["termination_reason"], entry["output"]) == ("TERMINATED", "SUCCEEDED", "FULL")
        assert [a["name"] for a in entry["output_artifacts"]] == [
            "tissue_qc:segmentation_map_image",
            "tissue_qc:geojson_polygons",
            "tissue_qc:csv_class_information",
        ]
        assert {a["output"] for a in entry["output_artifacts"]} == {"AVAILABLE"}
        assert entry["input_artifacts"][0]["name"] == "whole_slide_image"
    artifact = items[0]["output_artifacts"][0]
    assert artifact["metadata"]["media_type"] == "image/tiff"
    assert httpx.get(artifact["download_url"]).content.startswith(b"II*")  # the deprecated field still works
    assert {"width", "height", "base_mpp", "class_colors"} <= set(artifact["metadata"])
    redirect = api.http.get(f"/runs/{run_id}/artifacts/{artifact['output_artifact_id']}/file")
    assert redirect.status_code == 307
    download = httpx.get(redirect.headers["location"])
    assert download.headers["content-type"] == "image/tiff"
    assert crc32c_bytes(download.content) == artifact["metadata"]["checksum_base64_crc32c"]
    other_run = api.submit_slides(1)
    api.wait(other_run)
    assert api.http.get(f"/runs/{other_run}/artifacts/{artifact['output_artifact_id']}/file").status_code == 404

    assert api.http.delete(f"/runs/{run_id}/artifacts").status_code == 200
    gone = api.http.get(f"/runs/{run_id}/artifacts/{artifact['output_artifact_id']}/file")
    assert gone.status_code == 410
    assert httpx.get(redirect.headers["location"]).status_code == 404
    deleted = api.items(run_id)[0]["output_artifacts"][0]
    assert (deleted["output"], deleted["metadata"], deleted["download_url"]) == ("DELETED_BY_USER", None, None)


def test_bad_inputs_end_as_user_errors_and_the_server_stays_healthy(api: Any) -> None:
    good = api.tiff_bytes()
    truncated = good[: len(good) // 3]
    cases = {
        "empty": b"",
        "not-a-slide": b"just some text, not an image" * 10,
        "truncated": truncated,
    }
    items = [api.item("good", api.upload(good, "good.tiff"), good)]
    for name, data in cases.items():
        items.append(api.item(name, api.upload(data, f"{name}.tiff"), data))
    items.append(api.item("missing", api.sign("never-uploaded.tiff"), good))
    items.append(api.item("checksum", api.upload(good, "c.tiff"), b"other bytes"))
    items.append(api.item("refused", "http://127.0.0.1:9/x.tiff", good))
    run_id = api.submit(items)
    run = api.wait(run_id)
    assert run["output"] == "PARTIAL"
    assert run["statistics"]["item_user_error_count"] == 6
    by_id = {i["external_id"]: i for i in api.items(run_id)}
    assert by_id["good"]["termination_reason"] == "SUCCEEDED"
    expected = {
        "empty": "INPUT.EMPTY_FILE",
        "not-a-slide": "INPUT.UNSUPPORTED_FORMAT",
        "truncated": "INPUT.UNREADABLE_SLIDE",
        "missing": "INPUT.DOWNLOAD_FAILED",
        "checksum": "INPUT.CHECKSUM_MISMATCH",
        "refused": "INPUT.DOWNLOAD_FAILED",
    }
    for external_id, code in expected.items():
        entry = by_id[external_id]
        assert (entry["termination_reason"], entry["error_code"], entry["output"]) == ("USER_ERROR", code, "NONE")
        assert entry["error_message"]
        assert {a["termination_reason"] for a in entry["output_artifacts"]} == {"USER_ERROR"}
    assert "HTTP 404" in by_id["missing"]["error_message"]
    assert api.http.get(f"{api.platform.api_root}/api/v1/health").status_code == 200


def _system_fault(*_: Any, **__: Any) -> Any:
    raise ItemSystemError("MODEL.OOM", "out of memory in cell classification")


def _crash(*_: Any, **__: Any) -> Any:
    raise ZeroDivisionError("boom")


def test_analysis_faults_are_system_errors(make_api: Any) -> None:
    api = make_api(_system_fault)
    run = api.wait(api.submit_slides(1))
    entry = api.items(run["run_id"])[0]
    assert (entry["termination_reason"], entry["error_code"]) == ("SYSTEM_ERROR", "MODEL.OOM")
    assert "out of memory" in entry["error_message"]
    assert run["statistics"]["item_system_error_count"] == 1
    crashing = make_api(_crash)
    entry = crashing.items(crashing.wait(crashing.submit_slides(1))["run_id"])[0]
    assert (entry["termination_reason"], entry["error_code"]) == ("SYSTEM_ERROR", "APPLICATION.INTERNAL_ERROR")
    assert "ZeroDivisionError" in entry["error_message"]


def test_error_threshold_cancels_the_run(make_api: Any) -> None:
    api = make_api(error_threshold=2)
    bad = b"not a slide at all"
    url = api.upload(bad, "bad.tiff")
    run = api.wait(api.submit([api.item(f"s{i}", url, bad) for i in range(5)]))
    assert (run["termination_reason"], run["error_code"]) == (
        "CANCELED_BY_SYSTEM",
        "SCHEDULER.ITEMS_WITH_ERROR_THRESHOLD_REACHED",
    )
    assert run["error_message"]
    assert run["statistics"]["item_user_error_count"] == 2
    assert run["statistics"]["item_skipped_count"] == 3
    skipped = api.items(run["run_id"], termination_reason="SKIPPED")
    assert "threshold of 2 items" in skipped[0]["error_message"]


def test_deadline_expiry_cancels_the_run(api: Any) -> None:
    api.platform.services.runner.pause()
    deadline = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 1.5))
    run_id = api.submit_slides(2, scheduling={"deadline": deadline})
    run = api.wait(run_id, timeout=6)
    assert (run["state"], run["termination_reason"], run["error_code"]) == (
        "TERMINATED",
        "CANCELED_BY_SYSTEM",
        "SCHEDULER.DEADLINE_EXCEEDED",
    )
    assert run["statistics"]["item_skipped_count"] == 2


class _Gate:
    """An analysis that waits for a signal, recording the order of the slides it was given."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.started = threading.Event()
        self.order: list[str] = []

    def __call__(self, application_id: str, version: str, slide: Path, metadata: Any, out_dir: Path, **kw: Any) -> Any:
        self.order.append(slide.name)
        self.started.set()
        self.release.wait(10)
        return synthetic_analyse(application_id, version, slide, metadata, out_dir, **kw)


def test_cancel_while_processing_discards_the_work(make_api: Any) -> None:
    gate = _Gate()
    api = make_api(gate)
    run_id = api.submit_slides(3)
    assert gate.started.wait(5)
    run = api.run(run_id)
    assert run["state"] == "PROCESSING"
    assert run["statistics"]["item_processing_count"] == 1
    assert api.http.post(f"/runs/{run_id}/cancel").status_code == 202
    gate.release.set()
    time.sleep(0.3)
    run = api.run(run_id)
    assert (run["termination_reason"], run["statistics"]["item_skipped_count"]) == ("CANCELED_BY_USER", 3)
    assert {a["output"] for i in api.items(run_id) for a in i["output_artifacts"]} == {"NONE"}


def test_due_date_runs_go_first_and_queue_positions_move(make_api: Any) -> None:
    gate = _Gate()
    gate.release.set()
    api = make_api(gate)
    api.platform.services.runner.pause()
    data = api.tiff_bytes()
    later = api.submit([api.item("later", api.upload(data, "later.tiff"), data)])
    urgent = api.submit(
        [api.item("urgent", api.upload(data, "urgent.tiff"), data)], scheduling={"due_date": "2030-01-01T00:00:00Z"}
    )
    assert api.run(later)["num_preceding_items_platform"] == 1
    assert api.items(later)[0]["queue_position_org"] == 1
    api.platform.services.runner.resume()
    api.wait(later)
    api.wait(urgent)
    assert gate.order == ["urgent.tiff", "later.tiff"]
    assert api.run(later)["num_preceding_items_platform"] is None


@pytest.mark.timeout(90)
def test_worker_processes_run_the_analysis(make_api: Any) -> None:
    api = make_api(worker_mode="process", workers=2)
    run_id = api.submit_slides(3)
    run = api.wait(run_id, timeout=80)
    assert (run["state"], run["output"]) == ("TERMINATED", "FULL")


def test_a_failing_worker_is_a_system_error_and_the_runner_carries_on(
    make_api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aignostics_jupyter.emulator import runner as runner_module

    real_run_job = runner_module.run_job
    calls: list[str] = []

    def dying(job: Any) -> Any:
        calls.append(job.item_id)
        if len(calls) == 1:
            raise RuntimeError("worker process died")
        return real_run_job(job)

    monkeypatch.setattr(runner_module, "run_job", dying)
    api = make_api()
    run = api.wait(api.submit_slides(2))
    reasons = sorted((i["termination_reason"], i["error_code"]) for i in api.items(run["run_id"]))
    assert reasons == [("SUCCEEDED", None), ("SYSTEM_ERROR", "PLATFORM.WORKER_FAILED")]
    assert run["output"] == "PARTIAL"


def test_artifacts_expire_after_the_retention(make_api: Any) -> None:
    api = make_api(artifact_retention=1.0)
    run_id = api.submit_slides(1)
    api.wait(run_id)
    artifact = api.items(run_id)[0]["output_artifacts"][0]["output_artifact_id"]
    deadline = time.monotonic() + 8
    while api.items(run_id)[0]["output_artifacts"][0]["output"] != "DELETED_BY_SYSTEM":
        assert time.monotonic() < deadline, "the artifacts were never expired"
        time.sleep(0.1)
    assert api.http.get(f"/runs/{run_id}/artifacts/{artifact}/file").status_code == 410


def _phantom(application_id: str, version: str, slide: Path, metadata: Any, out_dir: Path, **kw: Any) -> Any:
    produced = synthetic_analyse(application_id, version, slide, metadata, out_dir, **kw)
    produced[0].path = out_dir / "never-written.tiff"
    return produced


def test_results_that_cannot_be_stored_are_system_errors(make_api: Any) -> None:
    api = make_api(_phantom)
    run = api.wait(api.submit_slides(1))
    entry = api.items(run["run_id"])[0]
    assert (entry["termination_reason"], entry["error_code"]) == ("SYSTEM_ERROR", "PLATFORM.RECORDING_FAILED")
    assert run["state"] == "TERMINATED"
