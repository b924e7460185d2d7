"""The whole journey in Chromium: device login (approved in a second tab), submit two slides with the RunSubmitter,
watch the RunMonitor reach TERMINATED, view a slide with its outputs; then the same notebook in Notebook 7.

Screenshots: ``ui-tests/screenshots/journey-*.png``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from harness import SCREENSHOTS, LabServer

from aignostics_jupyter.emulator import SYNTHETIC_ANALYSER, LocalPlatform
from aignostics_jupyter.samples import generate_sample_slides

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

CELLS = [
    "%load_ext aignostics_jupyter\n"
    "from aignostics_jupyter.widgets.login import LoginWidget\n"
    "from aignostics_jupyter.widgets.run_submitter import RunSubmitter",
    "login = LoginWidget()\nlogin",
    "wizard = RunSubmitter(application_id='he-tme', folder='slides')\nwizard",
]
LOGIN = ".aignostics-login"
WIZARD = ".aignostics-run-submitter"
MONITOR = ".aignostics-run-monitor"


@pytest.fixture
def manual_platform(tmp_path: Path) -> Iterator[LocalPlatform]:
    """The local platform without auto-approve: the user approves the device login on its page."""
    platform = LocalPlatform(
        tmp_path / "platform",
        auto_approve=False,
        device_poll_interval=1,
        worker_mode="thread",
        analyser=SYNTHETIC_ANALYSER,
    ).start()
    try:
        yield platform
    finally:
        platform.stop()


@pytest.fixture
def journey_lab(workspace: Path, manual_platform: LocalPlatform) -> Iterator[LabServer]:
    generate_sample_slides(workspace / "slides", count=2, size=1536, fmt="tiff", seed=3)
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(c) for c in CELLS],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )
    nbformat.write(notebook, workspace / "journey.ipynb")
    server = LabServer(workspace, env=manual_platform.env()).start()
    try:
        yield server
    finally:
        server.stop()


def shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"journey-{name}.png"), full_page=False)


def run_cell(page: Any, index: int) -> None:
    """Run one cell (Ctrl+Enter in command mode) and wait until the kernel has taken it."""
    cell = page.locator(".jp-Notebook .jp-Cell").nth(index)
    prompt = cell.locator(".jp-InputPrompt")
    for _ in range(6):
        select_kernel = page.locator(".jp-Dialog button:has-text('Select')")
        if select_kernel.count() and select_kernel.first.is_visible():  # the lab sometimes asks for the kernel
            select_kernel.first.click()
        try:
            prompt.click(timeout=5_000)
            page.keyboard.press("Escape")
            page.keyboard.press("Control+Enter")
            page.wait_for_function(
                "el => /\\[(\\d+|\\*)\\]/.test(el.textContent)", arg=prompt.element_handle(), timeout=10_000
            )
            return
        except Exception:  # a dialog was in the way or the kernel was not connected yet: try again
            continue
    raise AssertionError(f"cell {index} did not run")


def test_login_submit_monitor_view(page: Any, journey_lab: LabServer) -> None:
    try:
        journey(page, journey_lab)
    except Exception:
        shot(page, "failure")  # for the one who debugs it
        raise


def journey(page: Any, journey_lab: LabServer) -> None:
    page.goto(journey_lab.lab_url("lab/tree/journey.ipynb"))
    page.wait_for_selector(".jp-Notebook .jp-Cell", state="visible", timeout=60_000)
    run_cell(page, 0)
    run_cell(page, 1)

    # Log in with the device flow; approve in a second tab.
    page.wait_for_selector(f"{LOGIN} button:has-text('Log in')", timeout=60_000)
    page.click(f"{LOGIN} button:has-text('Log in')")
    link = page.wait_for_selector("a.aignostics-verification-link", timeout=30_000)
    code = page.input_value(f"{LOGIN} input[type='text']")
    assert len(code) == 9
    shot(page, "1-login-code")
    approve = page.context.new_page()
    approve.goto(link.get_attribute("href"))
    assert approve.input_value("input[name='user_code']") == code
    shot(approve, "2-approve")
    approve.click("button[value='approve']")
    approve.wait_for_selector("text=Your device is now logged in")
    approve.close()
    page.wait_for_selector(f"{LOGIN} [data-state='logged_in']", timeout=30_000)
    assert "Logged in as" in page.inner_text(LOGIN)
    shot(page, "3-logged-in")

    # Find the two slides, then upload and submit.
    run_cell(page, 2)
    page.wait_for_selector(f"{WIZARD} button:has-text('Find slides')", timeout=60_000)
    page.click(f"{WIZARD} button:has-text('Find slides')")
    page.wait_for_selector(f"{WIZARD} .aignostics-slide-row >> nth=1", timeout=60_000)
    rows = page.locator(f"{WIZARD} .aignostics-slide-row")
    assert page.locator(f"{WIZARD} .aignostics-invalid").count() == 2  # tissue and disease still to choose
    assert not page.locator(f"{WIZARD} button:has-text('Upload and submit')").is_enabled()
    for index, (tissue, disease) in enumerate([("LUNG", "LUNG_CANCER"), ("LIVER", "LIVER_CANCER")]):
        selects = rows.nth(index).locator("select")
        assert selects.count() == 3  # staining (fixed to H&E), tissue, disease
        selects.nth(1).select_option(label=tissue)
        selects.nth(2).select_option(label=disease)
    page.wait_for_function(
        "document.querySelectorAll('.aignostics-slide-row .aignostics-valid').length === 2", timeout=30_000
    )
    page.locator(WIZARD).scroll_into_view_if_needed()
    shot(page, "4-slides")
    submit = page.locator(f"{WIZARD} button:has-text('Upload and submit')")
    assert submit.is_enabled()
    submit.click()

    # The wizard becomes a RunMonitor, which polls until the run terminates.
    page.wait_for_selector(MONITOR, timeout=60_000)
    page.wait_for_selector(f"{MONITOR} .aignostics-run-state:has-text('TERMINATED')", timeout=90_000)
    assert page.locator(f"{MONITOR} .aignostics-item-row").count() == 2
    assert "2 succeeded" in page.inner_text(MONITOR)
    page.locator(MONITOR).scroll_into_view_if_needed()
    shot(page, "5-terminated")

    # View the first slide with its outputs overlaid.
    page.click(f"{MONITOR} .aignostics-item-row >> nth=0 >> button:has-text('View')")
    page.wait_for_selector(f"{MONITOR} .leaflet-container", timeout=60_000)
    page.wait_for_function(
        "document.querySelectorAll('.aignostics-run-monitor .leaflet-tile-loaded').length > 4", timeout=60_000
    )
    page.wait_for_timeout(1500)
    tiles = page.eval_on_selector_all(f"{MONITOR} .leaflet-tile-loaded", "els => els.map(e => e.src)")
    assert any("/overlays/" in src or "overlay" in src for src in tiles), tiles[:5]
    assert all("token=" not in src for src in tiles)
    page.locator(f"{MONITOR} .leaflet-container").first.scroll_into_view_if_needed()
    shot(page, "6-view")
    page.keyboard.press("Control+s")
    page.wait_for_timeout(1000)

    # The same notebook in Notebook 7.
    page.goto(journey_lab.lab_url("tree"))
    page.wait_for_selector("text=journey.ipynb", timeout=60_000)
    page.goto(journey_lab.lab_url("notebooks/journey.ipynb"))
    page.wait_for_selector(".jp-Notebook .jp-Cell", state="visible", timeout=60_000)
    run_cell(page, 0)
    run_cell(page, 1)
    page.wait_for_selector(f"{LOGIN} [data-state='logged_in']", timeout=60_000)
    shot(page, "7-notebook7")
