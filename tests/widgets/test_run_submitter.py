"""RunSubmitter against the local platform: find slides, validate rows against the schema, upload and submit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from aignostics_jupyter.client.models import RunState
from aignostics_jupyter.emulator import LocalPlatform
from aignostics_jupyter.widgets._platform import platform_client
from aignostics_jupyter.widgets.run_monitor import RunMonitor
from aignostics_jupyter.widgets.run_submitter import RunSubmitter
from tests.widgets import conftest_platform as fixtures

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

platform = fixtures.platform
platform_env = fixtures.platform_env
logged_in = fixtures.logged_in
slides = fixtures.slides


def run_count() -> int:
    return len(list(platform_client().runs.list(nocache=True)))


def scanned(wizard: RunSubmitter, folder: Path) -> RunSubmitter:
    wizard.folder_picker.path.value = str(folder)
    wizard.find_button.click()
    assert wizard.wait(20)
    return wizard


def test_he_tme_rows_turn_valid_only_with_tissue_and_disease_then_submit(
    logged_in: LocalPlatform, slides: Path
) -> None:
    wizard = scanned(RunSubmitter(application_id="he-tme", version="1.3.0"), slides)

    assert wizard.version_picker.value == "1.3.0"
    assert [row.slide.name for row in wizard.rows] == ["case-1.tiff", "case-2.tiff"]
    row = wizard.rows[0]
    assert bytes(row.thumbnail.value).startswith(b"\x89PNG")
    assert "µm/px" in row.info.value
    assert "CRC32C" in row.info.value
    assert set(row.choices) == {"staining_method", "specimen.tissue", "specimen.disease"}
    assert row.choices["staining_method"].value == "H&E"
    assert ("LUNG", "LUNG") in row.choices["specimen.tissue"].options
    assert not row.valid
    assert "'specimen' is a required property" in row.problems[0] or "tissue" in row.problems[0]
    assert wizard.submit_button.disabled

    row.choices["specimen.tissue"].value = "LUNG"
    row.choices["specimen.disease"].value = "LUNG_CANCER"
    assert row.valid
    assert "aignostics-valid" in row.state.value
    assert wizard.submit_button.disabled  # the second row is not valid yet
    assert wizard.set_choice("tissue", "LIVER") == 2
    assert wizard.set_choice("disease", "LIVER_CANCER") == 2
    assert all(r.valid for r in wizard.rows)
    assert not wizard.submit_button.disabled

    wizard.tags.value = ["wizard", "cohort-7"]
    wizard.note.value = "from the wizard"
    wizard.due_date.value = datetime.now(UTC) + timedelta(hours=6)
    wizard.deadline.value = datetime.now(UTC) + timedelta(hours=24)
    wizard.submit_button.click()
    assert wizard.wait(30)

    assert wizard.state == "submitted", wizard.message
    assert isinstance(wizard.monitor, RunMonitor)
    assert wizard.monitor in wizard.children
    assert all(r.progress.value == 1.0 for r in wizard.rows)
    assert wizard.overall.value == 1.0
    assert wizard.run is not None
    details = wizard.run.details(nocache=True)
    assert details.application_id == "he-tme"
    assert details.version_number == "1.3.0"
    assert details.scheduling is not None
    assert details.scheduling.deadline is not None
    assert details.custom_metadata is not None
    assert sorted(details.custom_metadata["sdk"]["tags"]) == ["cohort-7", "wizard"]
    items = list(wizard.run.items())
    assert {i.input_artifacts[0].metadata["specimen"]["tissue"] for i in items} == {"LIVER"}  # type: ignore[index]
    assert wizard.monitor.wait(30)
    assert wizard.monitor.state == RunState.TERMINATED.value
    header = wizard.monitor.header.value
    assert "deadline 20" in header
    assert "tags: " in header
    assert "note: from the wizard" in header


def test_test_app_needs_no_choices_and_excluded_rows_are_left_out(logged_in: LocalPlatform, slides: Path) -> None:
    wizard = scanned(RunSubmitter(application_id="test-app"), slides)
    assert all(row.valid for row in wizard.rows)
    assert wizard.rows[0].choices == {}

    wizard.rows[1].include.value = False
    wizard.submit()
    assert wizard.wait(30)

    assert wizard.run is not None, wizard.message
    assert [i.external_id.endswith("case-1.tiff") for i in wizard.run.items()] == [True]
    assert wizard.monitor is not None
    wizard.monitor.stop()


def test_a_folder_with_no_slides(logged_in: LocalPlatform, slides: Path) -> None:
    wizard = scanned(RunSubmitter(application_id="test-app"), slides / "empty")

    assert wizard.rows == []
    assert "holds no slide files" in wizard.message
    assert wizard.submit_button.disabled


def test_a_slide_without_mpp_blocks_the_submission(logged_in: LocalPlatform, slides: Path) -> None:
    before = run_count()
    wizard = scanned(RunSubmitter(application_id="test-app"), slides / "bad")

    assert len(wizard.rows) == 1
    assert not wizard.rows[0].valid
    assert "records no resolution" in wizard.rows[0].problems[0]
    assert wizard.submit_button.disabled
    assert "need attention" in " ".join(wizard.problems())

    wizard.submit()

    assert wizard.run is None
    assert "need attention" in wizard.message
    assert run_count() == before


def test_an_enum_violation_submits_nothing(logged_in: LocalPlatform, slides: Path) -> None:
    before = run_count()
    wizard = scanned(RunSubmitter(application_id="he-tme"), slides)
    wizard.set_choice("tissue", "LUNG")
    wizard.set_choice("disease", "LUNG_CANCER")
    wizard.rows[1].choices["specimen.tissue"].value = None

    wizard.submit_button.click()
    wizard.submit()

    assert wizard.run is None
    assert "1 of 2 slide(s) need attention" in wizard.message
    assert run_count() == before


def test_dates_are_checked(logged_in: LocalPlatform, slides: Path) -> None:
    wizard = scanned(RunSubmitter(application_id="test-app"), slides)
    wizard.due_date.value = datetime.now(UTC) + timedelta(hours=2)
    wizard.deadline.value = datetime.now(UTC) + timedelta(hours=1)
    assert "The deadline is before the due date." in wizard.problems()
    wizard.due_date.value = datetime(2020, 1, 1, tzinfo=UTC)
    assert "The due date is in the past." in wizard.problems()
    assert wizard.submit_button.disabled
    wizard.due_date.value = None
    wizard.deadline.value = None
    assert not wizard.submit_button.disabled


def test_glob_and_version_switch_keep_choices(logged_in: LocalPlatform, slides: Path) -> None:
    wizard = RunSubmitter(application_id="he-tme", version="1.3.0")
    wizard.source.value = "Glob"
    assert wizard.source_box.children == (wizard.glob,)
    wizard.glob.value = str(slides / "case-2*.tiff")
    wizard.find_button.click()
    assert wizard.wait(20)
    wizard.set_choice("tissue", "LUNG")

    wizard.version_picker.value = "1.0.0-beta.8"

    assert wizard.contract is not None
    assert wizard.contract.input_artifacts[0].name == "whole_slide_image"
    assert [r.slide.name for r in wizard.rows] == ["case-2.tiff"]
    assert wizard.rows[0].choices["specimen.tissue"].value == "LUNG"
    wizard.app_picker.value = "test-app"
    assert wizard.rows[0].choices == {}
    assert wizard.rows[0].valid


def test_bucket_source_lists_slides_but_they_need_measurements(logged_in: LocalPlatform, slides: Path) -> None:
    bucket = platform_client().bucket()
    bucket.upload(slides / "case-1.tiff", "wizard-bucket/case-1.tiff")
    wizard = RunSubmitter(application_id="test-app")
    wizard.source.value = "Bucket"
    wizard.bucket_prefix.value = "wizard-bucket/"

    wizard.find_button.click()
    assert wizard.wait(20)

    assert [r.slide.name for r in wizard.rows] == ["wizard-bucket/case-1.tiff"]
    assert not wizard.rows[0].valid
    assert "required property" in wizard.rows[0].problems[0]


def test_logged_out_scan_of_the_bucket(platform_env: LocalPlatform) -> None:
    wizard = RunSubmitter()

    assert "log in" in wizard.message.lower()
    assert wizard.submit_button.disabled
