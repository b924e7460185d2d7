"""Fixtures for widget and magic tests against the local platform (import the ones you use into the test module).

The platform runs over real HTTP in a thread with the fast synthetic analysis; the kernel-side settings are
pointed at it through ``AIGNOSTICS_*`` variables, as ``%aignostics local start`` would.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tifffile

from aignostics_jupyter.emulator import SYNTHETIC_ANALYSER, LocalPlatform
from aignostics_jupyter.settings import get_settings
from aignostics_jupyter.slides.writers import write_test_pattern_slide
from aignostics_jupyter.widgets._platform import reset_platform_client

__all__ = ["all_widget_states", "logged_in", "platform", "platform_env", "slides", "start_platform", "stop_monitors"]


def start_platform(data_dir: Path, **options: Any) -> LocalPlatform:
    """Start a local platform for tests (thread workers, synthetic analysis, no device polling delay)."""
    options.setdefault("worker_mode", "thread")
    options.setdefault("analyser", SYNTHETIC_ANALYSER)
    options.setdefault("device_poll_interval", 0)
    return LocalPlatform(data_dir, **options).start()


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPlatform]:
    running = start_platform(tmp_path_factory.mktemp("platform"), auto_approve=True)
    try:
        yield running
    finally:
        stop_monitors()
        running.stop()


@pytest.fixture
def platform_env(platform: LocalPlatform, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalPlatform]:
    """Point this test's settings (and the kernel's shared client) at the platform; logged out."""
    for name, value in platform.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AIGNOSTICS_RETRY_WAIT_MIN", "0.01")
    monkeypatch.setenv("AIGNOSTICS_RETRY_WAIT_MAX", "0.05")
    get_settings(reload=True)
    reset_platform_client()
    yield platform
    reset_platform_client()


@pytest.fixture
def logged_in(platform_env: LocalPlatform, monkeypatch: pytest.MonkeyPatch) -> LocalPlatform:
    """As ``platform_env``, logged in as the seeded admin through a refresh token."""
    monkeypatch.setenv("AIGNOSTICS_REFRESH_TOKEN", platform_env.refresh_token())
    get_settings(reload=True)
    reset_platform_client()
    return platform_env


@pytest.fixture(scope="module")
def slides(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with two small slides, plus ``bad/`` (a slide without mpp) and ``empty/`` (no slides)."""
    folder = tmp_path_factory.mktemp("slides")
    write_test_pattern_slide(folder / "case-1.tiff", 1024, 768, fmt="tiff", mpp=0.5, smallest_level=256)
    write_test_pattern_slide(folder / "case-2.tiff", 900, 700, fmt="tiff", mpp=0.5, smallest_level=256)
    (folder / "bad").mkdir()
    pixels = np.full((512, 512, 3), 200, dtype=np.uint8)
    tifffile.imwrite(folder / "bad" / "no-mpp.tiff", pixels, tile=(256, 256), photometric="rgb")
    (folder / "empty").mkdir()
    (folder / "empty" / "notes.txt").write_text("no slides here")
    return folder


def stop_monitors() -> None:
    """Stop every RunMonitor still polling (their platform is about to go away)."""
    from ipywidgets.widgets.widget import _instances

    from aignostics_jupyter.widgets.run_monitor import RunMonitor

    for widget in list(_instances.values()):
        if isinstance(widget, RunMonitor):
            widget.stop()


def all_widget_states() -> list[dict[str, Any]]:
    """The state of every live widget (what the front end would receive)."""
    from ipywidgets.widgets.widget import _instances

    return [widget.get_state() for widget in list(_instances.values())]
