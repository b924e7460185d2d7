"""Helpers of the sidebar browser tests: the local platform as a subprocess, lab and sidebar actions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from harness import SCREENSHOTS, LabServer, free_port

from aignostics_jupyter.emulator.platform import client_env

TAB = "li.lm-TabBar-tab[data-id='aignostics-jupyter-sidebar']"
PANEL = "#aignostics-jupyter-sidebar"


@contextmanager
def platform_subprocess(data_dir: Path, *, synthetic_delay: float = 0.0) -> Iterator[dict[str, str]]:
    """``python -m aignostics_jupyter.emulator`` on a free port (auto-approve, synthetic analysis).

    Yields:
        The ``AIGNOSTICS_*`` settings that point a client at it.
    """
    port = free_port()
    env = {**os.environ, "AIGNOSTICS_LOCAL_SYNTHETIC_DELAY": str(synthetic_delay)}
    log = (data_dir.parent / f"platform-{port}.log").open("wb")
    command = [
        sys.executable,
        "-m",
        "aignostics_jupyter.emulator",
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
        "--auto-approve",
        "--analyser",
        "synthetic",
        "--workers",
        "1",
    ]
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    api_root = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the local platform exited: {process.returncode}")
            try:
                with urllib.request.urlopen(f"{api_root}/api/v1/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield client_env(api_root)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


def open_lab(page: Any, lab: LabServer, path: str = "lab") -> None:
    """Open the lab UI and wait for the sidebar's tab."""
    page.goto(lab.lab_url(path))
    page.wait_for_selector("#jp-main-dock-panel", state="visible", timeout=60_000)
    page.wait_for_selector(TAB, state="visible")


def open_sidebar(page: Any) -> None:
    """Show the sidebar (click its tab unless it is already showing)."""
    if not page.is_visible(PANEL):
        page.click(TAB)
    page.wait_for_selector(PANEL, state="visible")


def run_palette(page: Any, text: str) -> None:
    """Run the first command palette entry matching ``text``."""
    page.keyboard.press("Control+Shift+c")
    page.fill(".lm-CommandPalette-input", text)
    page.click(f".lm-CommandPalette-item:has-text('{text}')")


def use_theme(page: Any, theme: str) -> None:
    """Switch the lab's theme (``JupyterLab Light`` / ``JupyterLab Dark``) and wait for it."""
    run_palette(page, f"Use Theme: {theme}")
    light = "true" if "Light" in theme else "false"
    page.wait_for_selector(f"body[data-jp-theme-light='{light}']", state="attached")
    page.wait_for_timeout(500)


def screenshot(page: Any, name: str) -> Path:
    """Save a screenshot under ``ui-tests/screenshots/sidebar-{name}.png``."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"sidebar-{name}.png"
    page.screenshot(path=str(path))
    return path


def badge(page: Any, run_id: str) -> str:
    """The state badge of a run's card."""
    return str(page.inner_text(f"{PANEL} [data-run-id='{run_id}'] .jp-AignosticsBadge")).strip().lower()


def confirm_dialog(page: Any, accept: str) -> None:
    """Accept the open JupyterLab dialog with the button labelled ``accept``."""
    page.wait_for_selector(".jp-Dialog", state="visible")
    page.click(f".jp-Dialog button:has-text('{accept}')")
    page.wait_for_selector(".jp-Dialog", state="detached")


def write_sidebar_settings(lab: LabServer, **values: Any) -> None:
    """Override the sidebar's settings of a lab that has not started yet."""
    path = lab.root_dir.parent / f".lab-{lab.port}" / "settings" / "aignostics-jupyter" / "plugin.jupyterlab-settings"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(values))
