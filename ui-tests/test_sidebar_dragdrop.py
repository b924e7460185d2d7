"""Drag files from the JupyterLab file browser onto the sidebar (moved to the right) to upload them (Chromium)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from harness import LabServer
from test_sidebar_support import PANEL, TAB, open_lab, open_sidebar, screenshot

from aignostics_jupyter.client import Client, TokenStore
from aignostics_jupyter.emulator import LocalPlatform
from aignostics_jupyter.settings import get_settings, reset_settings

pytestmark = [pytest.mark.e2e]


@pytest.fixture
def logged_in_lab(workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LabServer]:
    """A lab whose sidebar is logged in through the token cache a kernel would have written."""
    with LocalPlatform(tmp_path / "platform", runner_enabled=False, worker_mode="thread") as platform:
        for name, value in platform.env().items():
            monkeypatch.setenv(name, value)
        reset_settings()
        TokenStore.for_settings(get_settings()).write_refresh(platform.refresh_token())
        server = LabServer(workspace, env=platform.env()).start()
        try:
            yield server
        finally:
            server.stop()


def _drag(page: Any, source: str, target: str) -> None:
    """A mouse drag with intermediate moves (Lumino starts a drag after a few pixels)."""
    start = page.locator(source).bounding_box()
    end = page.locator(target).bounding_box()
    page.mouse.move(start["x"] + 20, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(start["x"] + 40, start["y"] + start["height"] / 2, steps=5)
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] / 2, steps=20)
    page.mouse.up()


@pytest.mark.timeout(120)
def test_drop_files_from_the_file_browser_onto_the_bucket(page: Any, logged_in_lab: LabServer, workspace: Path) -> None:
    (workspace / "dropped.csv").write_text("a,b\n1,2\n")
    open_lab(page, logged_in_lab)
    open_sidebar(page)
    page.wait_for_selector(f"{PANEL} .jp-AignosticsUser-name")  # logged in via the shared token cache

    # Move the sidebar to the right so the file browser and the bucket are visible together.
    page.click(TAB, button="right")
    page.click(".lm-Menu-item:has-text('Switch Sidebar Side')")
    page.click("li.lm-TabBar-tab[data-id='filebrowser']")
    page.wait_for_selector(".jp-DirListing-item:has-text('dropped.csv')")
    if not page.is_visible(PANEL):
        page.click(TAB)
    page.wait_for_selector(f"#jp-right-stack {PANEL}", state="visible")
    page.click(f"{PANEL} [role='tab']:has-text('Bucket')")
    page.wait_for_selector(f"{PANEL} .jp-AignosticsBucket:has-text('This folder is empty')")

    _drag(page, ".jp-DirListing-item:has-text('dropped.csv')", f"{PANEL} .jp-AignosticsBucket")

    page.wait_for_selector(f"{PANEL} [data-key='dropped.csv']", timeout=15_000)
    screenshot(page, "dragdrop-light")
    with Client(get_settings()) as client:
        assert [o.key for o in client.bucket().ls("dropped")] == ["dropped.csv"]
    assert (workspace / "dropped.csv").is_file()  # copied up, not moved
