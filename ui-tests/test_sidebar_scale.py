"""The sidebar stays responsive with 2,000 runs: time to first cards, loading every page, scrolling (Chromium).

The local platform runs in this process with its runner off; 2,000 runs are written straight into its store
(1,995 canceled, 5 pending), and the lab's server extension reads them over HTTP like any platform. The numbers are
printed and saved to ``ui-tests/screenshots/sidebar-scale.json``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from harness import SCREENSHOTS, LabServer
from test_sidebar_support import PANEL, open_lab, open_sidebar, screenshot, write_sidebar_settings

from aignostics_jupyter.client import TokenStore
from aignostics_jupyter.client.models import (
    InputArtifactCreationRequest,
    ItemCreationRequest,
    RunCreationRequest,
)
from aignostics_jupyter.emulator import ADMIN_USER_ID, LocalPlatform
from aignostics_jupyter.emulator.catalog import get_application, latest_version
from aignostics_jupyter.emulator.identity import get_principal
from aignostics_jupyter.emulator.runstore import cancel_run, create_run
from aignostics_jupyter.settings import get_settings, reset_settings

pytestmark = [pytest.mark.e2e]

RUNS = 2000
ACTIVE = 5


def seed_runs(platform: LocalPlatform, count: int, active: int) -> list[str]:
    """Write ``count`` one-item runs of test-app; all but the newest ``active`` are canceled."""
    application = get_application("test-app")
    assert application is not None
    version = latest_version(application)
    principal = get_principal(platform.services.db, ADMIN_USER_ID)
    assert principal is not None
    input_name = version.input_artifacts[0].name
    run_ids = []
    for index in range(count):
        body = RunCreationRequest(
            application_id="test-app",
            version_number=version.number,
            custom_metadata={"sdk": {"tags": [f"batch-{index % 7}"], "note": f"seeded {index}"}},
            items=[
                ItemCreationRequest(
                    external_id=f"slides/case-{index:04d}.tiff",
                    input_artifacts=[
                        InputArtifactCreationRequest(
                            name=input_name, download_url="http://127.0.0.1:9/none.tiff", metadata={}
                        )
                    ],
                )
            ],
        )
        run_ids.append(create_run(platform.services.db, principal, body, version))
    for run_id in run_ids[: count - active]:
        cancel_run(platform.services.db, run_id, reason="CANCELED_BY_USER", item_message="seeded")
    return run_ids


@pytest.fixture
def crowded_lab(workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LabServer]:
    """A lab logged in (through the shared token cache) to a local platform holding 2,000 runs."""
    with LocalPlatform(tmp_path / "platform", runner_enabled=False, worker_mode="thread") as platform:
        started = time.perf_counter()
        seed_runs(platform, RUNS, ACTIVE)
        print(f"seeded {RUNS} runs in {time.perf_counter() - started:.1f} s")
        for name, value in platform.env().items():
            monkeypatch.setenv(name, value)
        reset_settings()
        TokenStore.for_settings(get_settings()).write_refresh(platform.refresh_token())
        server = LabServer(workspace, env=platform.env())
        write_sidebar_settings(server, pageSize=100)
        server.start()
        try:
            yield server
        finally:
            server.stop()


def _card_count(page: Any) -> int:
    return int(page.eval_on_selector_all(f"{PANEL} .jp-AignosticsRunCard", "cards => cards.length"))


SCROLL_SCRIPT = """
async (selector) => {
  const list = document.querySelector(selector);
  const frame = () => new Promise(resolve => requestAnimationFrame(() => resolve(performance.now())));
  const times = [];
  let previous = await frame();
  for (let step = 0; step < 60; step++) {
    list.scrollTop = (step % 2 === 0 ? step : 60 - step) * (list.scrollHeight / 60);
    const now = await frame();
    times.push(now - previous);
    previous = now;
  }
  times.sort((a, b) => a - b);
  return {median: times[30], p95: times[57], max: times[59]};
}
"""


@pytest.mark.timeout(240)
def test_two_thousand_runs_stay_responsive(page: Any, crowded_lab: LabServer) -> None:
    open_lab(page, crowded_lab)

    started = time.perf_counter()
    open_sidebar(page)
    page.wait_for_selector(f"{PANEL} .jp-AignosticsRunCard", timeout=60_000)
    first_cards_s = time.perf_counter() - started

    # Scroll to the end until every page is loaded (each page is 100 runs).
    list_selector = f"{PANEL} .jp-AignosticsRuns-list"
    started = time.perf_counter()
    deadline = time.monotonic() + 120
    status = f"{PANEL} .jp-AignosticsRuns-status"
    # Lists have no total: the end is known once a page comes back short (the "+" goes).
    while page.get_attribute(list_selector, "data-count") != str(RUNS) or "+" in page.inner_text(status):
        assert time.monotonic() < deadline, page.get_attribute(list_selector, "data-count")
        page.eval_on_selector(list_selector, "list => { list.scrollTop = list.scrollHeight; }")
        page.wait_for_timeout(100)
    all_loaded_s = time.perf_counter() - started
    assert "2000 runs" in page.inner_text(status)

    frames = page.evaluate(SCROLL_SCRIPT, list_selector)
    cards_in_dom = _card_count(page)
    screenshot(page, "scale-2000-runs")

    # The oldest run is reachable at the bottom.
    page.eval_on_selector(list_selector, "list => { list.scrollTop = list.scrollHeight; }")
    page.wait_for_timeout(200)
    last_note = page.get_attribute(f"{PANEL} .jp-AignosticsRunCard >> nth=-1", "title")

    # Keyboard: from the first card, End focuses the oldest run (rendered on demand).
    page.eval_on_selector(list_selector, "list => { list.scrollTop = 0; }")
    page.focus(f"{PANEL} .jp-AignosticsRunCard >> nth=0")
    page.keyboard.press("End")
    focused_title = page.evaluate("document.activeElement.getAttribute('title')")
    page.keyboard.press("ArrowUp")
    above_title = page.evaluate("document.activeElement.getAttribute('title')")

    # Hidden panel: no refresh requests at all; shown again: refreshing resumes at once.
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url) if "/api/runs" in request.url else None)
    page.click("li.lm-TabBar-tab[data-id='filebrowser']")
    page.wait_for_selector(PANEL, state="hidden")
    page.wait_for_timeout(7000)
    hidden_requests = len(requests)
    open_sidebar(page)
    page.wait_for_timeout(1500)
    shown_requests = len(requests)

    result = {
        "runs": RUNS,
        "first_cards_s": round(first_cards_s, 3),
        "all_pages_loaded_s": round(all_loaded_s, 3),
        "scroll_frame_ms": {k: round(v, 1) for k, v in frames.items()},
        "cards_in_dom": cards_in_dom,
    }
    print(json.dumps(result))
    SCREENSHOTS.mkdir(exist_ok=True)
    (SCREENSHOTS / "sidebar-scale.json").write_text(json.dumps(result, indent=2) + "\n")
    assert last_note == "seeded 0"
    assert focused_title == "seeded 0"
    assert above_title == "seeded 1"
    assert hidden_requests == 0
    assert shown_requests > 0
    assert cards_in_dom < 40
    assert first_cards_s < 10
    assert frames["median"] < 50
