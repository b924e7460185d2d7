"""The sidebar in a real JupyterLab at /user/demo/, in Chromium, against the local platform as a subprocess.

One journey: log in from the sidebar (device flow), watch a run submitted from Python appear and progress
without reloading, cancel another, download results into the workspace (they appear in the file browser), open
them in a notebook (a cell is inserted), upload a file to the bucket from the file browser's context menu and
delete it. Screenshots in the light and dark themes go to ``ui-tests/screenshots/sidebar-*.png``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from harness import LabServer
from test_sidebar_support import (
    PANEL,
    badge,
    confirm_dialog,
    open_lab,
    open_sidebar,
    platform_subprocess,
    run_palette,
    screenshot,
    use_theme,
    write_sidebar_settings,
)

from aignostics_jupyter import __version__
from aignostics_jupyter.client import Client
from aignostics_jupyter.settings import get_settings, reset_settings
from aignostics_jupyter.slides.writers import write_test_pattern_slide

pytestmark = [pytest.mark.e2e]


@pytest.fixture
def platform_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """The local platform subprocess; this process's ``AIGNOSTICS_*`` point at it (the kernel's view)."""
    data = tmp_path / "platform"
    data.mkdir()
    with platform_subprocess(data, synthetic_delay=6.0) as env:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        reset_settings()
        yield env


@pytest.fixture
def sidebar_lab(workspace: Path, platform_env: dict[str, str]) -> Iterator[LabServer]:
    """JupyterLab at /user/demo/ whose server extension talks to the local platform."""
    server = LabServer(workspace, env=platform_env)
    # Short refresh intervals keep the journey quick (the defaults are 5 s active, up to 60 s idle).
    write_sidebar_settings(server, activeRefreshSeconds=2, idleRefreshSeconds=6)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _slides(folder: Path, names: list[str]) -> list[Path]:
    folder.mkdir(exist_ok=True)
    return [
        write_test_pattern_slide(folder / name, 512, 384, fmt="tiff", mpp=0.5, smallest_level=128) for name in names
    ]


@pytest.mark.timeout(240)
def test_sidebar_journey(page: Any, sidebar_lab: LabServer, workspace: Path, tmp_path: Path) -> None:
    open_lab(page, sidebar_lab)
    open_sidebar(page)

    # The footer shows the extension version from api/health.
    page.wait_for_selector(f"{PANEL} .jp-AignosticsPanel-version:text('{__version__}')")

    # ---- log in from the sidebar: device flow, code and link shown, approved by the local platform
    page.click(f"{PANEL} button:has-text('Log in')")
    code = page.wait_for_selector(f"{PANEL} [aria-label='user code']")
    assert code.inner_text().strip()
    assert page.get_attribute(f"{PANEL} .jp-AignosticsLogin-link", "href").startswith("http://127.0.0.1:")
    screenshot(page, "login-light")
    page.wait_for_selector(f"{PANEL} .jp-AignosticsUser-name", timeout=30_000)
    assert page.inner_text(f"{PANEL} .jp-AignosticsUser-org").strip()

    # ---- a run submitted from Python (the kernel shares the sidebar's login) appears and progresses
    slides = _slides(workspace / "slides", ["case-1.tiff", "case-2.tiff", "case-3.tiff"])
    with Client(get_settings()) as client:
        watched = client.runs.submit(
            "he-tme",
            slides[:2],
            metadata={"staining_method": "H&E", "specimen": {"tissue": "LUNG", "disease": "LUNG_CANCER"}},
            tags=["ui-journey", "cohort-a"],
            note="watched",
        )
        doomed = client.runs.submit("test-app", slides[2:], tags=["ui-journey"])
    card = f"{PANEL} [data-run-id='{watched.run_id}']"
    page.wait_for_selector(card, timeout=20_000)
    assert "ui-journey" in page.inner_text(card)
    first_seen = badge(page, watched.run_id)
    assert first_seen in {"pending", "processing"}

    # ---- cancel the other run (confirmation dialog)
    page.wait_for_selector(f"{PANEL} [data-run-id='{doomed.run_id}']")
    page.click(f"{PANEL} [data-run-id='{doomed.run_id}']")
    page.click(f"{PANEL} button:has-text('Cancel run')")
    confirm_dialog(page, "Cancel run")
    page.wait_for_selector(f"{PANEL} .jp-AignosticsRunDetails .jp-AignosticsBadge:text('canceled')")
    page.click(f"{PANEL} [aria-label='Back to the runs']")

    # The watched run finishes without a reload: progress reaches 2/2 and a notification says so.
    page.wait_for_function(
        """(selector) => {
            const card = document.querySelector(selector);
            return card && card.querySelector('.jp-AignosticsBadge').textContent === 'succeeded';
        }""",
        arg=card,
        timeout=60_000,
    )
    assert page.inner_text(f"{card} .jp-AignosticsProgress-text") == "2/2 succeeded"
    page.wait_for_selector(".Toastify__toast:has-text('2/2 items succeeded')", timeout=15_000)
    assert badge(page, doomed.run_id) == "canceled"
    screenshot(page, "runs-light")

    # ---- download the results into the workspace; the files appear in the file browser
    page.click(card)
    page.click(f"{PANEL} button:has-text('Download results')")
    status = f"{PANEL} [aria-label='results download']"
    page.wait_for_selector(f"{status}:has-text('files downloaded')", timeout=30_000)
    folder = workspace / "aignostics-results" / watched.run_id
    downloaded = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    assert any(p.startswith("case-1/") for p in downloaded)
    assert any(p.startswith("case-2/") for p in downloaded)
    page.click(f"{status} button")
    page.wait_for_selector(".jp-DirListing-item:has-text('case-1')", timeout=15_000)
    page.wait_for_selector(".jp-DirListing-item:has-text('case-2')")
    open_sidebar(page)
    screenshot(page, "details-light")

    # ---- open in notebook: a new notebook gets a cell that opens the results in a SlideViewer
    page.click(f"{PANEL} button:has-text('Open in notebook')")
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell .cm-content:has-text('SlideViewer')", timeout=30_000)
    cell = page.inner_text(".jp-NotebookPanel .jp-Cell .cm-content")
    assert "from aignostics_jupyter.widgets import SlideViewer" in cell
    # The notebook was created in the folder the file browser shows (the results), so the path is relative to it.
    assert 'results = "."' in cell
    assert not page.is_visible(".jp-Dialog"), page.inner_text(".jp-Dialog")
    # Run it: the slide opens in a SlideViewer with the downloaded results overlaid.
    page.wait_for_selector(".jp-StatusBar-TextItem:has-text('| Idle')", timeout=60_000)  # the kernel is ready
    page.click(".jp-NotebookPanel .jp-Cell .cm-content")
    page.keyboard.press("Shift+Enter")
    try:
        page.wait_for_selector(".jp-NotebookPanel .jp-OutputArea .leaflet-container", timeout=90_000)
    except Exception:
        screenshot(page, "notebook-failure")
        raise
    outputs = page.inner_text(".jp-NotebookPanel .jp-OutputArea")
    assert "No results" not in outputs
    assert "Traceback" not in outputs
    page.wait_for_timeout(3000)
    screenshot(page, "notebook-light")

    # ---- the bucket: upload from the file browser's context menu, then delete with confirmation
    (workspace / "upload-me.txt").write_text("hello bucket\n")
    page.click("li.lm-TabBar-tab[data-id='filebrowser']")
    page.click(".jp-BreadCrumbs-home")
    item = page.wait_for_selector(".jp-DirListing-item:has-text('upload-me.txt')", timeout=15_000)
    item.click(button="right")
    page.click(".lm-Menu-item:has-text('Upload to Aignostics bucket')")
    page.wait_for_selector(".Toastify__toast:has-text('upload-me.txt')", timeout=15_000)
    open_sidebar(page)
    page.click(f"{PANEL} [role='tab']:has-text('Bucket')")
    row = f"{PANEL} [data-key='upload-me.txt']"
    page.wait_for_selector(row, timeout=15_000)
    assert "13 B" in page.inner_text(row)
    screenshot(page, "bucket-light")
    page.click(f"{PANEL} [aria-label='Delete upload-me.txt']")
    confirm_dialog(page, "Delete")
    page.wait_for_selector(row, state="detached", timeout=15_000)

    # ---- the same views in the dark theme
    use_theme(page, "JupyterLab Dark")
    page.click(f"{PANEL} [role='tab']:has-text('Runs')")
    page.click(f"{PANEL} [aria-label='Back to the runs']")  # the tab kept the run's details open
    page.wait_for_selector(card)
    screenshot(page, "runs-dark")
    page.click(card)
    page.wait_for_selector(f"{PANEL} .jp-AignosticsItem")
    screenshot(page, "details-dark")
    page.click(f"{PANEL} [role='tab']:has-text('Bucket')")
    page.wait_for_selector(f"{PANEL} .jp-AignosticsObjects")
    screenshot(page, "bucket-dark")

    # ---- log out from the palette: the kernel's shared login is gone too
    run_palette(page, "Log Out of the Aignostics Platform")
    page.wait_for_selector(f"{PANEL} button:has-text('Log in')", timeout=15_000)
    screenshot(page, "login-dark")
    assert sidebar_lab.api("aignostics-jupyter/api/session")["logged_in"] is False


@pytest.mark.timeout(120)
def test_palette_command_opens_the_sidebar(page: Any, lab: LabServer) -> None:
    open_lab(page, lab)
    assert not page.is_visible(PANEL)

    run_palette(page, "Open Aignostics Sidebar")

    page.wait_for_selector(PANEL, state="visible")
    page.wait_for_selector(f"{PANEL} .jp-AignosticsPanel-version:text('{__version__}')")
    # Not configured for a reachable platform and not logged in: the login view is shown.
    page.wait_for_selector(f"{PANEL} button:has-text('Log in')")
