"""Test harness shared by every test (tests/, ui-tests/, notebooks/): category markers and an isolated environment.

Every test carries exactly one category marker (unit, integration, e2e, live); collection fails otherwise. Notebook
cells collected by nbval are whole journeys and are marked e2e here.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

CATEGORIES = ("unit", "integration", "e2e", "live")

pytest_plugins = ["pytest_jupyter.jupyter_server"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Fail the run when a test carries no category marker, or more than one."""
    wrong = []
    for item in items:
        if type(item).__module__.startswith("nbval"):
            item.add_marker(pytest.mark.e2e)
        found = [m for m in CATEGORIES if item.get_closest_marker(m) is not None]
        if len(found) != 1:
            wrong.append(f"{item.nodeid}: {found or 'no category marker'}")
    if wrong:
        listing = "\n  ".join(wrong[:50])
        raise pytest.UsageError(
            f"Every test needs exactly one of the markers {', '.join(CATEGORIES)}; these do not:\n  {listing}"
        )


@pytest.fixture(autouse=True)
def isolated_env(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """Give every test its own HOME, XDG and Jupyter dirs, and no AIGNOSTICS_* variables from outside.

    Live tests are the exception: they check the user's real configuration and login against the real platform,
    so they keep the environment as it is.

    Yields:
        The per-test home directory (for live tests: the real one).
    """
    if request.node.get_closest_marker("live") is not None:
        yield Path.home()
        return
    home = tmp_path_factory.mktemp("home")
    for name in list(os.environ):
        if name.startswith("AIGNOSTICS_") and name not in ("AIGNOSTICS_RUN_E2E", "AIGNOSTICS_ALLOW_MUTATION"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("AIGNOSTICS_CACHE_DIR", str(home / ".cache" / "aignostics"))
    monkeypatch.setenv("AIGNOSTICS_LOCAL_DATA_DIR", str(home / ".local" / "share" / "aignostics-jupyter"))
    monkeypatch.chdir(home)
    from aignostics_jupyter.settings import reset_settings

    reset_settings()
    yield home
    reset_settings()
