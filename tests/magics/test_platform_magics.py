"""%aignostics against the local platform through a real IPython shell: every command and its error paths."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from IPython.core.interactiveshell import InteractiveShell

from aignostics_jupyter.client import DownloadResult, Run
from aignostics_jupyter.client.models import RunState
from aignostics_jupyter.emulator import LocalPlatform
from aignostics_jupyter.magics._results import Record, ResultList
from aignostics_jupyter.widgets._platform import platform_client
from aignostics_jupyter.widgets.app_browser import ApplicationBrowser
from aignostics_jupyter.widgets.login import LoginWidget
from aignostics_jupyter.widgets.run_browser import RunBrowser
from aignostics_jupyter.widgets.run_monitor import RunMonitor
from tests.magics import conftest_shell
from tests.magics.conftest_shell import one_error_line
from tests.widgets import conftest_platform as fixtures

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

ip = conftest_shell.ip
platform = fixtures.platform
platform_env = fixtures.platform_env
logged_in = fixtures.logged_in
slides = fixtures.slides

MISSING_RUN = "00000000-0000-4000-8000-000000000000"


def magic(ip: InteractiveShell, line: str, cell: str | None = None) -> object:
    if cell is None:
        return ip.run_line_magic("aignostics", line)
    return ip.run_cell_magic("aignostics", line, cell)


def wait_terminated(run: Run, timeout: float = 30) -> None:
    run.wait(poll=0.1, timeout=timeout)


# ------------------------------------------------------------------------------------------- login


def test_login_logs_in_with_the_device_flow_then_whoami_and_logout(
    ip: InteractiveShell, platform_env: LocalPlatform, capsys: pytest.CaptureFixture[str]
) -> None:
    widget = magic(ip, "login")

    assert isinstance(widget, LoginWidget)
    assert widget.wait(10)
    assert widget.state == "logged_in", widget.message

    me = magic(ip, "whoami")
    assert isinstance(me, Record)
    assert me.user.id.startswith("auth0|")
    html = me._repr_html_()
    assert "token valid until" in html
    assert "UTC" in html
    assert me.organization.aignostics_bucket_hmac_secret_access_key not in html

    again = magic(ip, "login")
    assert isinstance(again, LoginWidget)
    assert again.wait(10)
    assert again.state == "logged_in"

    capsys.readouterr()
    assert magic(ip, "logout") is None
    assert "Logged out" in capsys.readouterr().out
    assert magic(ip, "whoami") is None
    line = one_error_line(capsys.readouterr().out)
    assert "Not logged in" in line
    assert "%aignostics login" in line


@pytest.mark.parametrize(
    "line",
    ["whoami", "apps", "runs", f"run {MISSING_RUN}", "submit test-app x.tiff", f"cancel {MISSING_RUN}", "bucket ls"],
)
def test_a_logged_out_session_says_log_in(
    ip: InteractiveShell, platform_env: LocalPlatform, capsys: pytest.CaptureFixture[str], line: str
) -> None:
    assert magic(ip, line) is None

    text = one_error_line(capsys.readouterr().out)
    assert "log in" in text.lower()


# --------------------------------------------------------------------------------------- read


def test_apps_and_app(ip: InteractiveShell, logged_in: LocalPlatform, capsys: pytest.CaptureFixture[str]) -> None:
    apps = magic(ip, "apps")
    browser = magic(ip, "app he-tme --version 1.0.0-beta.8")

    assert isinstance(apps, ResultList)
    assert {a.application_id for a in apps} >= {"he-tme", "test-app"}
    assert "RUO" in apps._repr_html_()
    assert isinstance(browser, ApplicationBrowser)
    assert browser.version is not None
    assert browser.version.version_number == "1.0.0-beta.8"

    assert magic(ip, "app no-such-app") is None
    assert one_error_line(capsys.readouterr().out).startswith(
        "Error: There is no application 'no-such-app' (applications: he-tme, test-app)"
    )
    assert magic(ip, "app he-tme --version 9.9.9") is None
    assert "has no version 9.9.9" in one_error_line(capsys.readouterr().out)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (f"run {MISSING_RUN}", f"Error: There is no run {MISSING_RUN} (or it is not shared with you)."),
        (f"cancel {MISSING_RUN}", f"Error: There is no run {MISSING_RUN} (or it is not shared with you)."),
        (f"download {MISSING_RUN}", f"Error: There is no run {MISSING_RUN} (or it is not shared with you)."),
        (f"view x.tiff --results {MISSING_RUN}", "Error: x.tiff does not exist."),
        ("run not-a-uuid", "Error: 'not-a-uuid' is not a run id (run ids are UUIDs such as"),
    ],
)
def test_run_that_does_not_exist(
    ip: InteractiveShell, logged_in: LocalPlatform, capsys: pytest.CaptureFixture[str], line: str, expected: str
) -> None:
    assert magic(ip, line) is None

    assert one_error_line(capsys.readouterr().out).startswith(expected)


# ------------------------------------------------------------------------------------- submit


def test_submit_wait_runs_and_download(
    ip: InteractiveShell, logged_in: LocalPlatform, slides: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = magic(ip, f"submit test-app {slides}/case-1.tiff {slides}/case-2.tiff --tag magic,cohort-9 --note hi --wait")

    assert isinstance(run, Run), capsys.readouterr().out
    details = run.details(nocache=True)
    assert details.state == RunState.TERMINATED
    assert details.statistics.item_succeeded_count == 2
    assert details.custom_metadata is not None
    assert sorted(details.custom_metadata["sdk"]["tags"]) == ["cohort-9", "magic"]

    listed = magic(ip, "runs --tags magic,cohort-9 --state terminated")
    assert isinstance(listed, ResultList)
    assert [str(r.run_id) for r in listed] == [run.run_id]
    assert "TERMINATED" in listed._repr_html_()
    assert magic(ip, "runs --tags magic --state PENDING") == []
    assert isinstance(magic(ip, "runs --widget --app test-app"), RunBrowser)

    monitor = magic(ip, f"run {run.run_id}")
    assert isinstance(monitor, RunMonitor)
    assert monitor.wait(10)
    assert monitor.state == "TERMINATED"

    result = magic(ip, f"download {run.run_id} {tmp_path / 'results'}")
    assert isinstance(result, DownloadResult)
    assert len(result.downloaded) >= 2
    assert all(p.is_file() for p in result.downloaded)
    assert "Downloaded" in capsys.readouterr().out

    assert magic(ip, f"cancel {run.run_id}") is None
    assert "has already terminated" in one_error_line(capsys.readouterr().out)


def test_cell_submit_with_per_slide_metadata(
    ip: InteractiveShell, logged_in: LocalPlatform, slides: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = f"""
{slides}/case-1.tiff:
  tissue: LUNG
  disease: LUNG_CANCER
{slides}/case-2.tiff:
  tissue: LIVER
  disease: LIVER_CANCER
"""
    run = magic(ip, "submit he-tme", body)

    assert isinstance(run, Run), capsys.readouterr().out
    items = {Path(i.external_id).name: i for i in platform_client().runs.items(run.run_id)}
    meta = items["case-2.tiff"].input_artifacts[0].metadata
    assert meta is not None
    assert meta["specimen"] == {"tissue": "LIVER", "disease": "LIVER_CANCER"}
    assert meta["staining_method"] == "H&E"
    monitor = magic(ip, f"run {run.run_id}")
    assert isinstance(monitor, RunMonitor)
    monitor.stop()


def test_line_submit_places_tissue_and_disease_then_cancel(
    ip: InteractiveShell, logged_in: LocalPlatform, slides: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = magic(ip, f"submit he-tme {slides}/case-1.tiff --tissue LUNG --disease LUNG_CANCER")
    assert isinstance(run, Run), capsys.readouterr().out
    capsys.readouterr()

    magic(ip, f"cancel {run.run_id}")

    out = capsys.readouterr().out
    assert f"Canceled run {run.run_id}." in out or "Error:" in out  # it may have finished first
    wait_terminated(run)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("submit he-tme {slides}/case-1.tiff --tissue LUNG --disease FLU", "'FLU' is not one of"),
        ("submit he-tme {slides}/case-1.tiff", "'specimen' is a required property"),
        ("submit test-app {slides}/empty", "holds no slide files"),
        ("submit test-app {slides}/bad/no-mpp.tiff", "records no resolution"),
        ("submit test-app {slides}/nothing-*.tiff", "No file matches"),
        ("submit test-app", "Name the slides"),
        ("submit no-such-app {slides}/case-1.tiff", "There is no application 'no-such-app'"),
        ("submit he-tme {slides}/case-1.tiff --version 7.0.0", "he-tme has no version 7.0.0 (versions: 1.3.0"),
    ],
)
def test_bad_submissions_create_no_run(
    ip: InteractiveShell,
    logged_in: LocalPlatform,
    slides: Path,
    capsys: pytest.CaptureFixture[str],
    line: str,
    expected: str,
) -> None:
    before = len(list(platform_client().runs.list(nocache=True)))
    objects_before = len(platform_client().bucket().ls(""))

    assert magic(ip, line.format(slides=slides)) is None

    assert expected in one_error_line(capsys.readouterr().out)
    assert len(list(platform_client().runs.list(nocache=True))) == before
    assert len(platform_client().bucket().ls("")) == objects_before


def test_cell_submit_with_a_bad_body(
    ip: InteractiveShell, logged_in: LocalPlatform, capsys: pytest.CaptureFixture[str]
) -> None:
    assert magic(ip, "submit he-tme", "just text") is None

    assert "must map each slide" in one_error_line(capsys.readouterr().out)


# ------------------------------------------------------------------------------------- bucket, view, health


def test_bucket_commands(
    ip: InteractiveShell, logged_in: LocalPlatform, slides: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "note.txt"
    source.write_text("hello bucket")

    magic(ip, f"bucket upload {source} magic-test/note.txt")
    listing = magic(ip, "bucket ls magic-test/")
    target = magic(ip, f"bucket download magic-test/note.txt {tmp_path / 'back.txt'}")
    magic(ip, "bucket rm magic-test/note.txt")
    after = magic(ip, "bucket ls magic-test/")

    assert isinstance(listing, ResultList)
    assert [o.key for o in listing] == ["magic-test/note.txt"]
    assert "magic-test/note.txt" in listing._repr_html_()
    assert Path(str(target)).read_text() == "hello bucket"
    assert after == []
    out = capsys.readouterr().out
    assert "uploaded" in out
    assert "Deleted 1 object(s)." in out

    assert magic(ip, "bucket rm magic-test/absent.txt") is None
    assert "nothing was deleted" in one_error_line(capsys.readouterr().out)
    assert magic(ip, f"bucket upload {tmp_path / 'absent.txt'}") is None
    assert "does not exist" in one_error_line(capsys.readouterr().out)


def test_view_errors_are_one_line(
    ip: InteractiveShell, logged_in: LocalPlatform, capsys: pytest.CaptureFixture[str]
) -> None:
    assert magic(ip, "view /no/such/slide.svs") is None

    assert "does not exist" in one_error_line(capsys.readouterr().out)


def test_system_health_is_one_table(ip: InteractiveShell, logged_in: LocalPlatform) -> None:
    health = magic(ip, "system health")

    assert isinstance(health, ResultList)
    rows = {r["component"]: r for r in health}
    assert rows["platform"]["status"] == "ok"
    assert rows["platform (authenticated)"]["status"] == "ok"
    assert rows["slides"]["status"] == "ok"
    assert rows["server extension"]["status"] in ("ok", "not found", "unreachable", "error")
    assert "slides" in health._repr_html_()


def test_system_health_logged_out(ip: InteractiveShell, platform_env: LocalPlatform) -> None:
    health = magic(ip, "system health")

    assert isinstance(health, ResultList)
    rows = {r["component"]: r for r in health}
    assert rows["platform (authenticated)"]["status"] == "not logged in"


def test_no_token_in_magic_output(
    ip: InteractiveShell, logged_in: LocalPlatform, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    results = [magic(ip, line) for line in ("whoami", "apps", "runs", "system info", "system health", "local status")]
    store = platform_client().auth
    assert store is not None
    cached = store.store.read_access()
    refresh = store.store.read_refresh()
    assert cached is not None
    assert refresh is not None

    text = capsys.readouterr().out + caplog.text
    text += "".join(r._repr_html_() + repr(r) for r in results if r is not None)  # type: ignore[attr-defined]
    assert cached[0] not in text
    assert refresh not in text
    assert logged_in.refresh_token()[:20] not in text
    shutil.rmtree(Path.cwd() / "aignostics-results", ignore_errors=True)
    time.sleep(0)


def test_view_with_results_overlays_the_outputs(
    ip: InteractiveShell, logged_in: LocalPlatform, slides: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    run = platform_client().runs.submit("test-app", [slides / "case-2.tiff"])
    wait_terminated(run)

    viewer = magic(ip, f"view {slides / 'case-2.tiff'} --results {run.run_id}")
    plain = magic(ip, f"view {slides / 'case-1.tiff'}")

    assert viewer is not None
    assert viewer.overlays
    assert (tmp_path / "aignostics-results" / run.run_id).is_dir()
    assert plain is not None
    assert not plain.overlays


def test_view_of_a_slide_the_run_does_not_have(
    ip: InteractiveShell, logged_in: LocalPlatform, slides: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = platform_client().runs.submit("test-app", [slides / "case-2.tiff"])

    assert magic(ip, f"view {slides / 'case-1.tiff'} --results {run.run_id}") is None

    assert "has no item for case-1.tiff" in one_error_line(capsys.readouterr().out)
    wait_terminated(run)


def test_bucket_download_of_a_missing_key(
    ip: InteractiveShell, logged_in: LocalPlatform, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert magic(ip, f"bucket download magic-test/absent.bin {tmp_path}") is None

    assert "does not exist" in one_error_line(capsys.readouterr().out)
