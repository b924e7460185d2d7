"""Time from running a SlideViewer cell to all its visible tiles painted, in Chromium (not part of the test suite).

Results (2026-11-21, 2 cores, 8192 x 8192 generated slides, 5 runs, one slide per run, browser cache off)::

                                  p50 ms    max ms
    HTML widget (baseline)            53       135
    SlideViewer, tiles painted       235      2467   (max = run 1, which loads the map's JavaScript)
    viewer / baseline (p50): 4.4; goal <= 1.5 s from running the cell: met at p50, not by the first run.

How to run::

    python benchmarks/bench_viewer_paint.py [--size 8192] [--runs 5] [--dir DIR]

What it measures: a real JupyterLab (``ui-tests/harness.py``'s ``LabServer``, token auth, hub-style base URL) and
Debian's Chromium driven by Playwright with the harness's flags. One notebook holds, after an import cell, pairs of
cells: a baseline cell whose output is only an ``ipywidgets.HTML``, and a cell creating a fresh ``SlideViewer`` on a
generated slide (``generate_sample_slide``; one slide per run and the browser cache disabled, so every run is
cold). For each cell the page records ``performance.now()`` at the Shift+Enter key press (a capture-phase
listener) and polls with ``requestAnimationFrame``:

* viewer: every ``img.leaflet-tile`` inside that cell's map container that intersects the visible part of the
  container is ``complete`` with ``naturalWidth > 0`` (at least one tile), and stays so for 500 ms (so a zoom change
  right after the first paint is not missed); the time is the first frame of that stable state;
* baseline: the HTML widget's element is in the cell's output with a non-empty box.

Prints p50 and max of each over ``--runs`` runs and the viewer/baseline ratio. The first viewer run includes loading
the map's JavaScript in the page; the kernel has already imported the package (import cell).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ui-tests"))

from harness import CHROMIUM, CHROMIUM_ARGS, LabServer

from aignostics_jupyter.samples import generate_sample_slide

VIEWER = ".aignostics-slide-viewer"

# Installed once per page: on each Shift+Enter, poll with requestAnimationFrame until window.__paintCheck() (set per
# measurement) has held for `stable` ms; store the elapsed time from the key press in window.__paintResult.
_INSTALL = """
() => {
  document.addEventListener('keydown', (event) => {
    if (event.key !== 'Enter' || !event.shiftKey || !window.__paintCheck) return;
    const started = performance.now();
    const check = window.__paintCheck;
    const stable = window.__paintStable || 0;
    const token = (window.__paintToken = (window.__paintToken || 0) + 1);
    window.__paintResult = null;
    let okSince = null;
    const frame = (now) => {
      if (token !== window.__paintToken) return;
      if (check()) {
        if (okSince === null) okSince = now;
        if (now - okSince >= stable) { window.__paintResult = okSince - started; return; }
      } else {
        okSince = null;
      }
      requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
  }, true);
}
"""

_VIEWER_CHECK = """
(index) => {
  window.__paintStable = 500;
  window.__paintCheck = () => {
    const cell = document.querySelectorAll('.jp-Notebook .jp-Cell')[index];
    const map = cell && cell.querySelector('.aignostics-slide-viewer .leaflet-container');
    if (!map) return false;
    const box = map.getBoundingClientRect();
    let left = Math.max(box.left, 0), top = Math.max(box.top, 0);
    let right = Math.min(box.right, window.innerWidth), bottom = Math.min(box.bottom, window.innerHeight);
    if (right <= left || bottom <= top) { left = box.left; top = box.top; right = box.right; bottom = box.bottom; }
    const visible = [...map.querySelectorAll('img.leaflet-tile')].filter((img) => {
      const r = img.getBoundingClientRect();
      return r.right > left && r.left < right && r.bottom > top && r.top < bottom;
    });
    return visible.length > 0 && visible.every((img) => img.complete && img.naturalWidth > 0);
  };
}
"""

_BASELINE_CHECK = """
(index) => {
  window.__paintStable = 0;
  window.__paintCheck = () => {
    const cell = document.querySelectorAll('.jp-Notebook .jp-Cell')[index];
    const probe = cell && cell.querySelector('.jp-OutputArea .paint-probe');
    if (!probe) return false;
    const r = probe.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  };
}
"""


def _notebook(runs: int) -> dict[str, Any]:
    sources = ["import ipywidgets\nfrom aignostics_jupyter.widgets.slide_viewer import SlideViewer\nprint('ready')"]
    for run in range(runs):
        sources.append(f"ipywidgets.HTML('<div class=\"paint-probe\">baseline {run}</div>')")
        sources.append(f"SlideViewer('slides/sample-{run}.svs', height=420)")
    cells: list[dict[str, Any]] = [
        {"id": f"cell-{i}", "cell_type": "code", "metadata": {}, "source": s, "outputs": [], "execution_count": None}
        for i, s in enumerate(sources)
    ]
    kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return {"cells": cells, "metadata": {"kernelspec": kernelspec}, "nbformat": 4, "nbformat_minor": 5}


def _measure(page: Any, index: int, check: str, timeout_s: float = 60.0) -> float:
    """Run cell ``index`` with Shift+Enter and return the ms until ``check`` held (as the page measured it)."""
    page.evaluate(check, index)
    page.evaluate("() => { window.__paintResult = null; }")
    cell = page.locator(".jp-Notebook .jp-Cell").nth(index)
    cell.scroll_into_view_if_needed()
    cell.locator(".jp-InputArea-editor").click()
    page.wait_for_timeout(300)
    page.keyboard.press("Shift+Enter")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        result = page.evaluate("() => window.__paintResult")
        if result is not None:
            page.evaluate("() => { window.__paintCheck = null; }")
            page.wait_for_timeout(500)
            return float(result)
        page.wait_for_timeout(50)
    raise TimeoutError(f"cell {index} did not paint within {timeout_s} s")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=8192, help="slide width and height in pixels")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--dir", type=Path, default=None, help="work directory (default: a temporary one)")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        workspace = Path(tmp) / "workspace"
        (workspace / "slides").mkdir(parents=True)
        for run in range(args.runs):  # one slide per run: no run is served from an earlier run's caches
            generate_sample_slide(workspace / "slides" / f"sample-{run}.svs", size=args.size, seed=run)
        (workspace / "paint.ipynb").write_text(json.dumps(_notebook(args.runs)))
        lab = LabServer(workspace).start()
        # However this script ends, the server stops: here, or by this timer.
        watchdog = threading.Timer(900, lab.stop)
        watchdog.daemon = True
        watchdog.start()
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
                try:
                    page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
                    # No browser HTTP cache either: every run fetches its tiles from the server.
                    page.context.new_cdp_session(page).send("Network.setCacheDisabled", {"cacheDisabled": True})
                    page.set_default_timeout(90_000)
                    page.goto(lab.lab_url("lab/tree/paint.ipynb"))
                    page.wait_for_selector(".jp-Notebook .jp-Cell")
                    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']")
                    page.wait_for_timeout(1000)
                    dialog = page.locator(".jp-Dialog .jp-Dialog-button.jp-mod-accept")
                    if dialog.count():
                        dialog.first.click()
                    page.evaluate(_INSTALL)
                    first = page.locator(".jp-Notebook .jp-Cell").nth(0)
                    first.locator(".jp-InputArea-editor").click()
                    page.keyboard.press("Shift+Enter")
                    page.wait_for_function(
                        "() => document.querySelector('.jp-Notebook .jp-Cell .jp-OutputArea')?.innerText"
                        ".includes('ready')"
                    )
                    baseline, viewer = [], []
                    for run in range(args.runs):
                        baseline.append(_measure(page, 1 + 2 * run, _BASELINE_CHECK))
                        viewer.append(_measure(page, 2 + 2 * run, _VIEWER_CHECK))
                        print(f"run {run + 1}: baseline {baseline[-1]:.0f} ms, viewer {viewer[-1]:.0f} ms", flush=True)
                finally:
                    browser.close()
        finally:
            watchdog.cancel()
            lab.stop()
    results = {
        "slide": f"{args.size} x {args.size}",
        "runs": args.runs,
        "baseline_ms": [round(v) for v in baseline],
        "viewer_ms": [round(v) for v in viewer],
        "baseline_p50_ms": round(statistics.median(baseline)),
        "baseline_max_ms": round(max(baseline)),
        "viewer_p50_ms": round(statistics.median(viewer)),
        "viewer_max_ms": round(max(viewer)),
    }
    results["viewer_over_baseline_p50"] = round(results["viewer_p50_ms"] / max(1, results["baseline_p50_ms"]), 2)
    print(f"{'':28}{'p50 ms':>10}{'max ms':>10}")
    print(f"{'HTML widget (baseline)':28}{results['baseline_p50_ms']:>10}{results['baseline_max_ms']:>10}")
    print(f"{'SlideViewer, tiles painted':28}{results['viewer_p50_ms']:>10}{results['viewer_max_ms']:>10}")
    print(f"viewer / baseline (p50): {results['viewer_over_baseline_p50']}")
    print(json.dumps(results))
    return results


if __name__ == "__main__":
    main()
