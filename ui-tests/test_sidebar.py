"""The sidebar panel in a real JupyterLab, in Chromium, at a JupyterHub-style base URL."""

from __future__ import annotations

from typing import Any

import pytest
from harness import SCREENSHOTS, LabServer

from aignostics_jupyter import __version__

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

TAB = "li.lm-TabBar-tab[data-id='aignostics-jupyter-sidebar']"
PANEL = "#aignostics-jupyter-sidebar"


def open_lab(page: Any, lab: LabServer) -> None:
    page.goto(lab.lab_url())
    page.wait_for_selector("#jp-main-dock-panel", state="visible", timeout=60_000)
    page.wait_for_selector(TAB, state="visible")


def test_sidebar_shows_the_health_answer(page: Any, lab: LabServer) -> None:
    open_lab(page, lab)

    page.click(TAB)
    page.wait_for_selector(f"{PANEL} .jp-AignosticsPanel-version", state="visible")

    assert page.inner_text(f"{PANEL} .jp-AignosticsPanel-version") == __version__
    header_status = page.inner_text(f"{PANEL} .jp-AignosticsPanel-header [aria-label='extension status']")
    assert header_status.strip().lower() == "ok"
    rows = page.inner_text(f"{PANEL} table")
    assert "server extension" in rows
    assert "slides" in rows
    assert "platform" in rows
    # The panel's request went to the hub-style base URL, like every request of the page.
    assert lab.api("aignostics-jupyter/api/health")["version"] == __version__
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "sidebar-health.png"))


def test_palette_command_opens_the_sidebar(page: Any, lab: LabServer) -> None:
    open_lab(page, lab)
    assert not page.is_visible(PANEL)

    page.keyboard.press("Control+Shift+c")
    page.fill(".lm-CommandPalette-input", "Aignostics")
    page.click(".lm-CommandPalette-item:has-text('Open Aignostics Sidebar')")

    page.wait_for_selector(PANEL, state="visible")
    page.wait_for_selector(f"{PANEL} .jp-AignosticsPanel-version", state="visible")
