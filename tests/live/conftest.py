"""The live checks' charter: what they target, when they run, and how they fail.

- The whole suite is skipped unless ``AIGNOSTICS_RUN_E2E=1``; it then uses the environment as it is (the real
  ``AIGNOSTICS_*`` settings and the user's login), not the per-test isolation of the other suites.
- Read-only tests need only credentials; mutating tests also need ``AIGNOSTICS_ALLOW_MUTATION=1``.
- The application and version are discovered (``test-app``, latest) unless pinned with
  ``AIGNOSTICS_E2E_APPLICATION`` / ``AIGNOSTICS_E2E_APPLICATION_VERSION``.
- A missing entity is a skip that names it; an HTTP or network error is a failure with its status and body.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest

from aignostics_jupyter.exceptions import AignosticsError

T = TypeVar("T")

ENABLED = os.environ.get("AIGNOSTICS_RUN_E2E") == "1"
MUTATION = os.environ.get("AIGNOSTICS_ALLOW_MUTATION") == "1"


def pytest_report_header(config: pytest.Config) -> list[str]:
    """Say at the start what the live suite targets."""
    if not ENABLED:
        return ["live checks: skipped (set AIGNOSTICS_RUN_E2E=1 and credentials to run them)"]
    from aignostics_jupyter.settings import get_settings

    settings = get_settings(reload=True)
    app = os.environ.get("AIGNOSTICS_E2E_APPLICATION", "test-app (auto-discovered)")
    version = os.environ.get("AIGNOSTICS_E2E_APPLICATION_VERSION", "latest (auto-discovered)")
    return [
        f"live checks: target {settings.api_root}",
        f"live checks: mutation {'ALLOWED' if MUTATION else 'not allowed (read-only)'}",
        f"live checks: application {app}, version {version}",
    ]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip every live test unless the suite is enabled; otherwise run the mutating ones first.

    Mutating checks go first so that, on an organization with no runs yet, the run-reading checks find the run
    they created instead of skipping.
    """
    if ENABLED:
        items.sort(key=lambda item: "mutation" not in getattr(item, "fixturenames", ()))
        return
    skip = pytest.mark.skip(reason="live checks need AIGNOSTICS_RUN_E2E=1 and credentials")
    for item in items:
        if item.get_closest_marker("live") is not None:
            item.add_marker(skip)


def checked(what: str, fn: Callable[[], T]) -> T:
    """Run a platform call; an HTTP or network error fails the test with its status and body."""
    try:
        return fn()
    except AignosticsError as exc:
        pytest.fail(f"{what} failed: HTTP {exc.status_code}: {exc.message} (detail: {exc.detail!r})", pytrace=False)


@pytest.fixture(scope="session")
def call() -> Callable[[str, Callable[[], Any]], Any]:
    """``call(what, fn)``: run a platform call, failing with status and body on an HTTP or network error."""
    return checked


@pytest.fixture(scope="session")
def client() -> Iterator[Any]:
    """A client for the configured platform, logged in from the environment (refresh token or token cache)."""
    from aignostics_jupyter.client import Client
    from aignostics_jupyter.settings import get_settings

    with Client(get_settings(reload=True)) as live:
        yield live


@pytest.fixture(scope="session")
def application(client: Any) -> tuple[str, str]:
    """The application and version under test: pinned by env or discovered; a skip naming it when missing."""
    from aignostics_jupyter.smoke import discover

    try:
        return checked("discovering the application", lambda: discover(client))
    except LookupError as exc:
        pytest.skip(str(exc))


@pytest.fixture
def mutation() -> None:
    """Skip a mutating test unless mutation is allowed."""
    if not MUTATION:
        pytest.skip("mutating check: set AIGNOSTICS_ALLOW_MUTATION=1 to run it")
