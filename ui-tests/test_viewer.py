"""The SlideViewer in a real JupyterLab at a hub-style base URL, in Chromium: tiles, overlays, zoom, click, scale bar.

The notebook runs in a real kernel that finds the server by itself (running-server list); the browser fetches slide
and overlay tiles from the server extension with its login cookie; a click asks the server which cell is there.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tifffile
from harness import SCREENSHOTS, LabServer

from aignostics_jupyter.samples import generate_sample_slide
from aignostics_jupyter.slides import open_slide
from aignostics_jupyter.slides.overlays.synthetic import CELL_CLASSES, cell_features

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

WIDTH, HEIGHT, MPP = 8192, 6144, 0.25
CELL_COUNT = 100_000
SEGMENTATION = {"background": [0, 0, 0], "tumor": [220, 40, 40], "stroma": [250, 170, 200]}
VIEWER = ".aignostics-slide-viewer"
LOADED_TILES = f"{VIEWER} .leaflet-map-pane img.leaflet-tile-loaded"


def _write_heatmap(slide: Path, target: Path) -> None:
    """A platform-style segmentation heatmap (8 µm pixels) from the slide's tissue: tumour left, stroma right."""
    size = (round(WIDTH * MPP / 8), round(HEIGHT * MPP / 8))
    with open_slide(slide) as source:
        gray = np.asarray(
            source.read_region((0, 0), source.level_count - 1, source.level_dimensions[-1]).convert("L").resize(size)
        )
    rgb = np.zeros((size[1], size[0], 3), dtype=np.uint8)
    tissue = gray < 215
    left = np.arange(size[0])[None, :] < size[0] // 2
    rgb[tissue & left] = SEGMENTATION["tumor"]
    rgb[tissue & ~left] = SEGMENTATION["stroma"]
    description = {"classes": list(SEGMENTATION), "class_colors": SEGMENTATION, "base_mpp": 8.0}
    tifffile.imwrite(
        target,
        rgb,
        photometric="rgb",
        compression="zlib",
        resolution=(1250.0, 1250.0),
        resolutionunit="CENTIMETER",
        description=json.dumps(description),
        metadata=None,
    )


def _write_cells(target: Path) -> tuple[float, float, str]:
    """100k cells; returns the centre (base pixels) and class of a lone cell placed where nothing else is."""
    features = cell_features(CELL_COUNT, WIDTH, HEIGHT, seed=5)
    lone = (6000.0, 1500.0)

    def far(feature: dict[str, Any]) -> bool:
        x, y = feature["geometry"]["coordinates"][0][0]  # the first vertex
        return max(abs(x - lone[0]), abs(y - lone[1])) > 100

    # Clear a 200 px square around the lone cell so that a click there can only hit it.
    kept = [f for f in features if far(f)]
    ring = [[lone[0] + 25 * np.cos(a), lone[1] + 25 * np.sin(a)] for a in np.linspace(0, 2 * np.pi, 24)]
    kept.append(
        {
            "type": "Feature",
            "id": "lone-cell",
            "geometry": {"type": "Polygon", "coordinates": [ring]},
            "properties": {
                "objectType": "cell",
                "classification": {"name": "Lymphocyte", "color": list(CELL_CLASSES["Lymphocyte"])},
            },
        }
    )
    target.write_text(json.dumps({"type": "FeatureCollection", "features": kept}, separators=(",", ":")))
    return lone[0], lone[1], "Lymphocyte"


def _notebook(cells: list[str]) -> dict[str, Any]:
    return {
        "cells": [
            {
                "id": f"cell-{i}",
                "cell_type": "code",
                "metadata": {},
                "source": src,
                "outputs": [],
                "execution_count": None,
            }
            for i, src in enumerate(cells)
        ],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def _open_notebook(page: Any, lab: LabServer, name: str) -> None:
    """Open a notebook by URL, accept the kernel dialog if the lab asks, and wait for an idle kernel."""
    page.goto(lab.lab_url(f"lab/tree/{name}"))
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=60_000)
    page.wait_for_timeout(1000)
    dialog = page.locator(".jp-Dialog .jp-Dialog-button.jp-mod-accept")
    if dialog.count():
        dialog.first.click()
        page.wait_for_selector(".jp-Dialog", state="detached")


def _run_cell(page: Any, index: int) -> None:
    """Select cell ``index`` and run it with Shift+Enter (again if the first key press only focused the page)."""
    cell = page.locator(".jp-Notebook .jp-Cell").nth(index)
    prompt = cell.locator(".jp-InputPrompt")
    for _ in range(3):
        cell.locator(".jp-InputArea-editor").click()
        page.wait_for_timeout(200)
        page.keyboard.press("Shift+Enter")
        page.wait_for_timeout(500)
        if re.search(r"\[(\*|\d+)\]", prompt.inner_text()):
            return
    raise AssertionError(f"cell {index} did not start")


def _wait_for_output(page: Any, index: int, pattern: str, timeout: float = 90.0) -> str:
    deadline = time.monotonic() + timeout
    cell = page.locator(".jp-Notebook .jp-Cell").nth(index)
    while time.monotonic() < deadline:
        text = cell.locator(".jp-OutputArea").inner_text() if cell.locator(".jp-OutputArea").count() else ""
        if re.search(pattern, text):
            return str(text)
        if "Traceback" in text or "Error" in text:
            raise AssertionError(f"cell {index} failed:\n{text}")
        page.wait_for_timeout(300)
    raise AssertionError(f"cell {index} printed no {pattern!r} within {timeout} s")


def _viewer_box(page: Any) -> dict[str, float]:
    """The map's box on screen, after scrolling it fully into view (running a cell scrolls the notebook)."""
    page.locator(VIEWER).scroll_into_view_if_needed()
    page.wait_for_timeout(400)
    box: dict[str, float] = page.locator(VIEWER).bounding_box()
    assert box["y"] >= 0
    assert box["y"] + box["height"] <= page.viewport_size["height"]
    return box


def _wait_for_scale(page: Any, label: str) -> None:
    """Wait until the scale bar (updated by the kernel on each zoom) reads ``label``."""
    page.wait_for_function(
        "([s, t]) => document.querySelector(s)?.innerText === t",
        arg=[f"{VIEWER} .aignostics-scale-label", label],
        timeout=15_000,
    )
    page.wait_for_timeout(300)


def _wait_for_tiles(page: Any, minimum: int = 4, timeout: float = 60_000) -> None:
    page.wait_for_function(
        "([selector, n]) => document.querySelectorAll(selector).length >= n"
        " && [...document.querySelectorAll('.aignostics-slide-viewer img.leaflet-tile')].every(i => i.complete)",
        arg=[LOADED_TILES, minimum],
        timeout=timeout,
    )
    page.wait_for_timeout(600)  # fade-in animation of the last tiles


def test_viewer_shows_slide_overlays_and_answers_a_click(page: Any, lab: LabServer, workspace: Path) -> None:
    (workspace / "slides").mkdir()
    (workspace / "results").mkdir()
    slide = generate_sample_slide(workspace / "slides" / "sample.svs", size=WIDTH, height=HEIGHT, mpp=MPP, seed=11).path
    _write_heatmap(slide, workspace / "results" / "segmentation.tiff")
    x, y, cell_class = _write_cells(workspace / "results" / "cells.json")
    notebook = _notebook(
        [
            "from aignostics_jupyter.widgets.slide_viewer import SlideViewer\n"
            "viewer = SlideViewer('slides/sample.svs', height=520)\n"
            "viewer.add_overlay('results/segmentation.tiff', name='Tissue segmentation')\n"
            "cells = viewer.add_overlay('results/cells.json', name='Cells')\n"
            "info, where = cells.info, viewer.endpoint\n"
            "print('endpoint', where.kind, where.prefix, 'cells', info.get('feature_count'), info.get('error'))\n"
            "viewer",
            f"viewer.goto({x * MPP}, {y * MPP}, zoom=viewer.z_max)\nprint('moved', viewer.viewport['zoom'])",
            "print('view', viewer.viewport['zoom'], round(viewer.viewport['x_um']), round(viewer.viewport['y_um']))",
            "print('click', viewer.last_click, viewer.map.zoom)",
        ]
    )
    (workspace / "viewer.ipynb").write_text(json.dumps(notebook))
    SCREENSHOTS.mkdir(exist_ok=True)

    _open_notebook(page, lab, "viewer.ipynb")

    _run_cell(page, 0)
    out = _wait_for_output(page, 0, r"endpoint \w+ \S+ cells \S+", timeout=120)
    found = re.search(r"endpoint (\w+) (\S+) cells (\d+)", out)
    assert found is not None, out
    assert found.group(1, 2) == ("server", "/user/demo/")  # the kernel found its server by itself
    assert int(found.group(3)) > 99_000  # the 100k cells were indexed by the server
    page.wait_for_selector(VIEWER, state="visible", timeout=30_000)
    _wait_for_tiles(page)
    srcs = page.eval_on_selector_all(LOADED_TILES, "imgs => imgs.map(i => i.getAttribute('src'))")
    assert any("/user/demo/aignostics-jupyter/slides/tiles/" in s for s in srcs)
    assert any("/user/demo/aignostics-jupyter/overlays/ov1." in s for s in srcs)
    assert not any("token" in s for s in srcs)
    overview_scale = page.inner_text(f"{VIEWER} .aignostics-scale-label")
    assert re.fullmatch(r"\d+ (µm|mm)", overview_scale)
    assert "Tissue segmentation" in page.inner_text(f"{VIEWER} .aignostics-legend")
    page.locator(VIEWER).scroll_into_view_if_needed()
    page.locator(VIEWER).screenshot(path=str(SCREENSHOTS / "viewer-overview.png"))

    # Zoom to the lone cell at native resolution (from the kernel), then click it in the browser.
    _run_cell(page, 1)
    _wait_for_output(page, 1, r"moved")
    page.wait_for_timeout(500)
    _wait_for_tiles(page)
    _wait_for_scale(page, "20 µm")  # 0.25 µm per pixel: 20 µm is the longest 1-2-5 length within 120 px
    box = _viewer_box(page)
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_selector(f"{VIEWER} .leaflet-popup-content .aignostics-popup-class", timeout=30_000)
    popup = page.inner_text(f"{VIEWER} .leaflet-popup-content")
    if cell_class not in popup:  # say what the kernel asked and heard
        _run_cell(page, 3)
        pytest.fail(f"popup {popup!r}; kernel: {_wait_for_output(page, 3, 'click')}")
    assert cell_class in popup
    assert "lone-cell" in popup
    page.wait_for_timeout(300)
    page.locator(VIEWER).screenshot(path=str(SCREENSHOTS / "viewer-cell-popup.png"))

    # Pan by dragging and zoom out with the control; the kernel's viewport follows.
    page.keyboard.press("Escape")
    box = _viewer_box(page)
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 - 200, box["y"] + box["height"] / 2 - 100, steps=8)
    page.wait_for_timeout(300)  # hold still: Leaflet adds inertia to a release within 50 ms of a move
    page.mouse.up()
    for label in ("50 µm", "100 µm"):  # one step at a time: a click during the zoom animation is lost
        page.click(f"{VIEWER} .leaflet-control-zoom-out")
        _wait_for_scale(page, label)
    _wait_for_tiles(page)
    assert page.inner_text(f"{VIEWER} .aignostics-scale-label") == "100 µm"  # 1 µm per pixel
    _run_cell(page, 2)
    view = _wait_for_output(page, 2, r"view [\d.]+ \d+ \d+")
    zoom, x_um, y_um = (float(v) for v in re.search(r"view ([\d.]+) (\d+) (\d+)", view).groups())  # type: ignore[union-attr]
    assert zoom == 3.0  # z_max (5) - 2
    assert x_um == pytest.approx(x * MPP + 200 * MPP, abs=3)  # dragged 200 screen px at native resolution
    assert y_um == pytest.approx(y * MPP + 100 * MPP, abs=3)
    page.locator(VIEWER).screenshot(path=str(SCREENSHOTS / "viewer-zoomed-out.png"))

    # The properties panel (with the label image from the server) and the layer panel with opacity sliders.
    _viewer_box(page)
    page.click(f"{VIEWER} .aignostics-properties-panel button")
    page.click(f"{VIEWER} .aignostics-layer-panel button")
    page.wait_for_selector(f"{VIEWER} table.aignostics-properties", state="visible")
    page.wait_for_function(
        "s => { const i = document.querySelector(s); return i && i.complete && i.naturalWidth > 0; }",
        arg=f"{VIEWER} img[alt='label']",
    )
    properties = page.inner_text(f"{VIEWER} table.aignostics-properties")
    assert "aperio" in properties
    assert "0.25 x 0.25 µm/px" in properties
    assert "8,192 x 6,144 px" in properties
    sliders = f"{VIEWER} .aignostics-layer-panel .widget-slider"
    page.wait_for_function("s => document.querySelectorAll(s).length >= 3", arg=sliders, timeout=30_000)
    assert page.locator(sliders).count() == 3  # slide + 2 overlays
    page.wait_for_timeout(300)
    page.locator(VIEWER).screenshot(path=str(SCREENSHOTS / "viewer-panels.png"))
