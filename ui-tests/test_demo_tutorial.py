"""`aignostics-jupyter demo` in Chromium: open tutorial 3 ("Submitting runs"), run all its cells, see the run finish.

The demo gets a copy of the tutorials (a real directory where it would otherwise link the repository's), so the
lab's autosave never touches the committed notebooks. Screenshot: ``ui-tests/screenshots/demo-tutorial-03.png``.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
from pathlib import Path
from typing import Any

import nbformat
import pytest
from harness import SCREENSHOTS

from tests.test_demo import read_until_url, start_demo

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(480)]

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
TUTORIAL = "03-submitting-runs.ipynb"


def _answer_kernel_dialog(page: Any) -> None:
    """The lab sometimes asks which kernel to use while the session is starting: take the default."""
    select_kernel = page.locator(".jp-Dialog button:has-text('Select')")
    if select_kernel.count() and select_kernel.first.is_visible():
        select_kernel.first.click()


def run_cell(page: Any, index: int, timeout_ms: float) -> None:
    """Run one code cell (Ctrl+Enter in command mode) and wait until it has finished (its prompt shows a number)."""
    prompt = page.locator(".jp-Notebook .jp-CodeCell").nth(index).locator(".jp-InputPrompt")
    for _ in range(8):
        _answer_kernel_dialog(page)
        try:
            prompt.click(timeout=5_000)
            page.keyboard.press("Escape")
            page.keyboard.press("Control+Enter")
            page.wait_for_function(
                "el => /\\[(\\d+|\\*)\\]/.test(el.textContent)", arg=prompt.element_handle(), timeout=10_000
            )
            break
        except Exception:  # a dialog was in the way or the kernel was not connected yet: try again
            page.wait_for_timeout(1_000)
    else:
        raise AssertionError(f"code cell {index} did not start")
    page.wait_for_function("el => /\\[\\d+\\]/.test(el.textContent)", arg=prompt.element_handle(), timeout=timeout_ms)


def run_all(page: Any, code_cells: int) -> None:
    """Run every code cell in order, each after the previous one finished.

    The count comes from the file: the lab renders a notebook's cells progressively, so counting them in the page
    right after it opens can miss the later ones.
    """
    for index in range(code_cells):
        run_cell(page, index, timeout_ms=240_000)


def test_tutorial_03_runs_in_the_demo(tmp_path: Path, page: Any) -> None:
    directory = tmp_path / "demo"
    notebooks = directory / "workspace" / "notebooks"
    shutil.copytree(
        NOTEBOOKS, notebooks, ignore=shutil.ignore_patterns("tutorial-data", "aignostics-results", ".ipynb_checkpoints")
    )
    tutorial = nbformat.read(notebooks / TUTORIAL, as_version=4)  # type: ignore[no-untyped-call]
    for cell in tutorial.cells:  # start from a clean notebook, so every output seen below is new
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nbformat.write(tutorial, notebooks / TUTORIAL)  # type: ignore[no-untyped-call]
    demo = start_demo(directory)
    try:
        _, found = read_until_url(demo, 240)
        root, token = found.group(1), found.group(3)
        page.goto(f"{root}lab/tree/notebooks/{TUTORIAL}?token={token}")
        page.wait_for_selector(".jp-Notebook .jp-Cell", state="visible", timeout=90_000)
        page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=90_000)
        run_all(page, sum(cell.cell_type == "code" for cell in tutorial.cells))
        # The last cell lists the downloaded files per slide; the run terminated before that.
        page.wait_for_selector("text=TERMINATED CANCELED_BY_USER", state="attached", timeout=240_000)
        page.wait_for_selector("text=/sample-3001 \\['cell_classification/", state="attached", timeout=120_000)
        assert page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").count() == 0
        assert page.locator("text=/Traceback|Error/").count() == 0
        monitor = page.locator(".aignostics-run-monitor").first
        monitor.scroll_into_view_if_needed()
        page.wait_for_selector(".aignostics-run-monitor .aignostics-run-state:has-text('TERMINATED')", timeout=60_000)
        page.wait_for_timeout(1000)
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "demo-tutorial-03.png"), full_page=False)
        # The demo's sidebar shares the kernel's login and lists the runs the tutorial just made.
        page.click("li.lm-TabBar-tab[data-id='aignostics-jupyter-sidebar']")
        page.wait_for_selector("#aignostics-jupyter-sidebar .jp-AignosticsRunCard", timeout=60_000)
        page.wait_for_timeout(500)
        page.screenshot(path=str(SCREENSHOTS / "demo-sidebar.png"), full_page=False)
    except Exception:
        page.screenshot(path=str(tmp_path / "failure.png"))
        shutil.copy(tmp_path / "failure.png", "/tmp/demo-tutorial-failure.png")
        raise
    finally:
        demo.send_signal(signal.SIGINT)
        try:
            demo.wait(timeout=60)
        except subprocess.TimeoutExpired:
            demo.kill()
            demo.wait()
