"""RunBrowser against the local platform: newest first, filters by application, state and tags, pages."""

from __future__ import annotations

from pathlib import Path

import pytest

from aignostics_jupyter.client import Run
from aignostics_jupyter.emulator import LocalPlatform
from aignostics_jupyter.widgets._platform import platform_client
from aignostics_jupyter.widgets.run_browser import RunBrowser
from aignostics_jupyter.widgets.run_monitor import RunMonitor
from tests.widgets import conftest_platform as fixtures

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

platform = fixtures.platform
platform_env = fixtures.platform_env
logged_in = fixtures.logged_in
slides = fixtures.slides


@pytest.fixture(scope="module")
def runs(platform: LocalPlatform, slides: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Run]:
    from aignostics_jupyter.client import Client
    from tests.client.local import local_settings

    settings = local_settings(platform, tmp_path_factory.mktemp("cache"), refresh_token=platform.refresh_token())
    made = []
    with Client(settings) as client:
        for index in range(3):
            made.append(client.runs.submit("test-app", [slides / "case-1.tiff"], tags=["browse", f"n{index}"]))
        for run in made:
            run.wait(poll=0.1, timeout=30)
    return made


def test_newest_first_paginated_and_open(logged_in: LocalPlatform, runs: list[Run]) -> None:
    browser = RunBrowser(tags="browse", page_size=2)
    assert browser.wait(20)

    assert [str(r.run_id) for r in browser.runs] == [r.run_id for r in reversed(runs)]
    assert browser.pages == 2
    assert len(browser.table.children) == 2
    assert browser.page_label.value == "page 1 of 2"
    assert browser.prev_button.disabled
    browser.next_button.click()
    assert browser.page == 1
    assert len(browser.table.children) == 1
    assert browser.next_button.disabled
    browser.prev_button.click()
    assert browser.page == 0
    assert "browse" in browser.table.children[0].children[0].value

    browser.table.children[0].children[1].click()
    assert isinstance(browser.monitor, RunMonitor)
    assert browser.monitor.run.run_id == runs[-1].run_id
    assert browser.monitor.wait(10)
    assert browser.monitor.state == "TERMINATED"


def test_filters(logged_in: LocalPlatform, runs: list[Run]) -> None:
    browser = RunBrowser(application_id="test-app", tags="browse,n1")
    assert browser.wait(20)
    assert [str(r.run_id) for r in browser.runs] == [runs[1].run_id]

    browser.state_filter.value = "PENDING"
    assert browser.wait(20)
    assert browser.runs == []
    assert browser.message == "No runs match these filters."

    browser.state_filter.value = "TERMINATED"
    browser.tags_filter.value = "browse"
    assert browser.wait(20)
    assert len(browser.runs) == 3

    browser.app_filter.value = "he-tme"
    assert browser.wait(20)
    assert all(r.application_id == "he-tme" for r in browser.runs)
    assert set(browser.app_filter.options) >= {("he-tme", "he-tme"), ("test-app", "test-app")}
    assert platform_client() is browser.client


def test_logged_out(platform_env: LocalPlatform) -> None:
    browser = RunBrowser()
    assert browser.wait(10)

    assert "log in" in browser.message.lower()
