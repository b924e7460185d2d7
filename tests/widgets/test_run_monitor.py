"""RunMonitor against the local platform: live polling to TERMINATED, cancel with confirmation, download, view."""

from __future__ import annotations

from pathlib import Path

import pytest

from aignostics_jupyter.client import Run
from aignostics_jupyter.emulator import LocalPlatform
from aignostics_jupyter.widgets._platform import platform_client
from aignostics_jupyter.widgets.run_monitor import RunMonitor
from tests.widgets import conftest_platform as fixtures

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

platform = fixtures.platform
platform_env = fixtures.platform_env
logged_in = fixtures.logged_in
slides = fixtures.slides


def submit(slides: Path, *names: str) -> Run:
    return platform_client().runs.submit("test-app", [slides / n for n in names or ("case-1.tiff", "case-2.tiff")])


def test_polls_until_terminated_then_stops(logged_in: LocalPlatform, slides: Path) -> None:
    run = submit(slides)

    monitor = RunMonitor(run.run_id, poll=0.1, max_poll=0.5)

    assert monitor.wait(30)
    assert monitor.state == "TERMINATED"
    assert monitor.termination_reason == "ALL_ITEMS_PROCESSED"
    assert not monitor.polling
    assert monitor.progress.value == 2
    assert monitor.progress.max == 2
    assert monitor.progress.bar_style == "success"
    assert "2 succeeded" in monitor.progress_text.value
    assert len(monitor.items_box.children) == 2
    row = next(iter(monitor.rows.values()))
    assert "TERMINATED" in row.state.value
    assert "output(s)" in row.outputs.value
    assert not row.view_button.disabled
    assert monitor.cancel_button.layout.display == "none"
    assert run.run_id in monitor.header.value
    assert repr(monitor) == f"RunMonitor({run.run_id!r}, state=TERMINATED)"


def test_cancel_asks_first(logged_in: LocalPlatform, slides: Path) -> None:
    run = submit(slides)
    monitor = RunMonitor(run.run_id, start=False)
    monitor.refresh()

    monitor.cancel_button.click()
    assert monitor.confirm.layout.display == "flex"
    monitor.confirm_no.click()
    assert monitor.confirm.layout.display == "none"

    monitor.cancel_button.click()
    monitor.confirm_yes.click()
    assert monitor.wait(10)

    assert monitor.message, "the monitor says what happened"
    final = run.wait(poll=0.1, timeout=30)
    assert final.termination_reason is not None
    if monitor.message == "Cancel requested.":
        assert final.termination_reason.value in ("CANCELED_BY_USER", "ALL_ITEMS_PROCESSED")


def test_download_with_progress(logged_in: LocalPlatform, slides: Path, tmp_path: Path) -> None:
    run = submit(slides, "case-1.tiff")
    run.wait(poll=0.1, timeout=30)
    monitor = RunMonitor(run.run_id, start=False, dest=tmp_path / "results")
    monitor.refresh()

    monitor.download_button.click()
    assert monitor.wait(20)

    assert monitor.message.startswith("Downloaded:"), monitor.message
    assert monitor.download_progress.value == 1.0
    files = list((tmp_path / "results" / run.run_id).rglob("*.*"))
    assert files


def test_view_opens_the_slide_with_its_outputs(logged_in: LocalPlatform, slides: Path, tmp_path: Path) -> None:
    run = submit(slides, "case-1.tiff")
    run.wait(poll=0.1, timeout=30)
    monitor = RunMonitor(run.run_id, start=False, dest=tmp_path / "results")
    monitor.refresh()
    row = next(iter(monitor.rows.values()))

    row.view_button.click()
    assert monitor.wait(30)

    assert monitor.viewer is not None, monitor.message
    assert monitor.viewer in monitor.viewer_box.children
    assert monitor.viewer.overlays
    assert monitor.message == "Showing case-1.tiff with its outputs."


def test_a_run_that_does_not_exist(logged_in: LocalPlatform) -> None:
    monitor = RunMonitor("00000000-0000-4000-8000-000000000000", poll=0.05)

    assert monitor.wait(10)
    assert not monitor.polling
    assert monitor.message == "There is no run 00000000-0000-4000-8000-000000000000 (or it is not shared with you)."
    assert monitor.state == ""


def test_a_run_id_that_is_not_a_uuid(logged_in: LocalPlatform) -> None:
    monitor = RunMonitor("nonsense")

    assert not monitor.polling
    assert monitor.message.startswith("'nonsense' is not a run id")


def test_a_logged_out_session(platform_env: LocalPlatform) -> None:
    monitor = RunMonitor("00000000-0000-4000-8000-000000000000", poll=0.05)

    assert monitor.wait(10)
    assert "log in" in monitor.message.lower()


def test_an_item_error_is_shown_on_its_row(logged_in: LocalPlatform, tmp_path: Path) -> None:
    from aignostics_jupyter.client.models import InputArtifactCreationRequest, ItemCreationRequest, RunCreationRequest

    client = platform_client()
    junk = tmp_path / "junk.tiff"
    junk.write_bytes(b"this is not a slide" * 100)
    bucket = client.bucket()
    info = bucket.upload(junk, "monitor-test/junk.tiff")
    metadata = {"checksum_base64_crc32c": info.crc32c, "resolution_mpp": 0.5, "width_px": 100, "height_px": 100}
    artifact = InputArtifactCreationRequest(
        name="whole_slide_image", download_url=bucket.sign("monitor-test/junk.tiff"), metadata=metadata
    )
    request = RunCreationRequest(
        application_id="test-app",
        version_number="0.0.6",
        items=[ItemCreationRequest(external_id=str(junk), input_artifacts=[artifact])],
    )
    run = client.runs.create(request)

    monitor = RunMonitor(run.run_id, poll=0.1, max_poll=0.3)

    assert monitor.wait(30)
    row = next(iter(monitor.rows.values()))
    assert "USER_ERROR" in row.state.value
    assert row.item.error_message
    assert row.item.error_message[:20] in row.state.value
    assert row.view_button.disabled
    assert monitor.progress.bar_style == "danger"
    assert "1 failed" in monitor.progress_text.value


def test_view_says_so_when_the_viewer_cannot_load(
    logged_in: LocalPlatform, slides: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    run = submit(slides, "case-2.tiff")
    run.wait(poll=0.1, timeout=30)
    monitor = RunMonitor(run.run_id, start=False, dest=tmp_path)
    monitor.refresh()
    monkeypatch.setitem(sys.modules, "aignostics_jupyter.widgets.slide_viewer", None)

    next(iter(monitor.rows.values())).view_button.click()
    assert monitor.wait(10)

    assert monitor.viewer is None
    assert monitor.message.startswith("The slide viewer is not available in this kernel")


def test_view_of_a_slide_that_is_not_on_this_machine(logged_in: LocalPlatform, slides: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "moved.tiff"
    shutil.copyfile(slides / "case-1.tiff", copy)
    run = platform_client().runs.submit("test-app", [copy])
    run.wait(poll=0.1, timeout=30)
    copy.unlink()
    monitor = RunMonitor(run.run_id, start=False, dest=tmp_path)
    monitor.refresh()

    next(iter(monitor.rows.values())).view_button.click()
    assert monitor.wait(10)

    assert monitor.message == f"The slide {copy} is not on this machine, so it cannot be shown."


def test_polling_gives_up_after_repeated_errors_and_refresh_restarts_it(
    logged_in: LocalPlatform, slides: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aignostics_jupyter.exceptions import TransportError
    from aignostics_jupyter.widgets import run_monitor

    run = submit(slides, "case-1.tiff")
    monkeypatch.setattr(run_monitor, "MAX_POLL_ERRORS", 3)
    monitor = RunMonitor(run.run_id, poll=0.01, max_poll=0.01, start=False)
    real_refresh = monitor.refresh

    def broken() -> bool:
        raise TransportError("GET http://x/api/v1/runs/1 failed: ConnectError")

    monitor.refresh = broken  # type: ignore[method-assign]
    monitor.start()
    assert monitor.wait(10)
    assert monitor.message.startswith("Stopped watching after 3 failed attempts (GET http://x/api/v1/runs/1 failed")

    monitor.refresh = real_refresh  # type: ignore[method-assign]
    monitor.refresh_button.click()
    assert monitor.wait(30)
    assert monitor.state == "TERMINATED"
