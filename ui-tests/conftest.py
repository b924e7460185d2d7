"""Fixtures for the browser tests: a JupyterLab server at /user/demo/ and a Chromium page."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import CHROMIUM, CHROMIUM_ARGS, LabServer


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """The lab's root directory."""
    root = tmp_path / "workspace"
    root.mkdir()
    return root


@pytest.fixture
def lab(workspace: Path) -> Iterator[LabServer]:
    """A JupyterLab server with the extension, authentication required, at a hub-style base URL."""
    server = LabServer(workspace).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def page() -> Iterator[object]:
    """A Chromium page (Debian's Chromium driven by Playwright; no browser download)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        page = context.new_page()
        page.set_default_timeout(30_000)
        try:
            yield page
        finally:
            context.close()
            browser.close()
