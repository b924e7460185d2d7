"""Overlay routes through a real Jupyter server: register, describe, tiles with alpha, feature queries, confinement."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tifffile
from PIL import Image
from tornado.httpclient import HTTPClientError

from aignostics_jupyter.server.urls import OverlayRef
from aignostics_jupyter.slides.overlays.loader import OverlaySpec
from aignostics_jupyter.slides.overlays.models import OverlayStyle
from aignostics_jupyter.slides.writers import write_test_pattern_slide

pytestmark = pytest.mark.timeout(30)

WIDTH, HEIGHT, MPP = 2000, 1500, 0.5
CELLS = [  # (id, class, colour, centre x, centre y, half size)
    ("c-1", "Tumor", [200, 0, 0], 300, 300, 20),
    ("c-2", "Lymphocyte", [0, 80, 220], 1000, 700, 12),
    ("c-3", "Stroma", [20, 160, 60], 1700, 1200, 30),
]
SEGMENTATION = {"background": [0, 0, 0], "tumor": [220, 40, 40], "stroma": [250, 170, 200]}


def _square(x: float, y: float, r: float) -> list[list[float]]:
    return [[x - r, y - r], [x + r, y - r], [x + r, y + r], [x - r, y + r], [x - r, y - r]]


@pytest.fixture(scope="module")
def slide_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_test_pattern_slide(
        tmp_path_factory.mktemp("ov") / "case.svs", WIDTH, HEIGHT, "svs", MPP, smallest_level=300
    )


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    return {**jp_server_config, "AignosticsTileServer": {"mode": "thread", "workers": 2}}


@pytest.fixture
def files(jp_root_dir: Path, slide_file: Path) -> dict[str, str]:
    """A slide, a cell GeoJSON and a platform-style RGB heatmap TIFF (8 µm pixels) under the root."""
    (jp_root_dir / "slides").mkdir()
    shutil.copyfile(slide_file, jp_root_dir / "slides" / "case.svs")
    results = jp_root_dir / "results"
    results.mkdir()
    features = [
        {
            "type": "Feature",
            "id": cid,
            "geometry": {"type": "Polygon", "coordinates": [_square(x, y, r)]},
            "properties": {
                "objectType": "cell",
                "classification": {"name": name, "color": color},
                "measurements": {"Area": 4 * r * r},
            },
        }
        for cid, name, color, x, y, r in CELLS
    ]
    (results / "cells.json").write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    # 16 base pixels per heatmap pixel: left half tumour, right half stroma, top rows background.
    rgb = np.zeros((94, 125, 3), dtype=np.uint8)
    rgb[10:, :62] = SEGMENTATION["tumor"]
    rgb[10:, 62:] = SEGMENTATION["stroma"]
    description = {"classes": list(SEGMENTATION), "class_colors": SEGMENTATION, "base_mpp": 8.0}
    tifffile.imwrite(
        results / "segmentation.tiff",
        rgb,
        photometric="rgb",
        resolution=(1250.0, 1250.0),
        resolutionunit="CENTIMETER",
        description=json.dumps(description),
        metadata=None,
    )
    return {"slide": "slides/case.svs", "cells": "results/cells.json", "heatmap": "results/segmentation.tiff"}


async def _register(jp_fetch: Any, body: dict[str, Any]) -> dict[str, Any]:
    response = await jp_fetch("aignostics-jupyter", "overlays", method="POST", body=json.dumps(body))
    return json.loads(response.body)


@pytest.mark.integration
async def test_register_a_cell_geojson(jp_fetch: Any, files: dict[str, str], jp_root_dir: Path) -> None:
    answer = await _register(jp_fetch, {"slide": files["slide"], "overlay": {"path": files["cells"]}})

    assert answer["kind"] == "vector"
    assert answer["feature_count"] == 3
    assert {c["name"]: c["count"] for c in answer["classes"]} == {"Tumor": 1, "Lymphocyte": 1, "Stroma": 1}
    assert answer["path"] == files["cells"]
    assert answer["id"] == OverlayRef(files["slide"], OverlaySpec(path=files["cells"])).id
    assert str(jp_root_dir) not in json.dumps(answer)
    described = json.loads((await jp_fetch("aignostics-jupyter", "overlays", answer["id"])).body)
    assert described["feature_count"] == 3


@pytest.mark.integration
async def test_overlay_tiles_are_transparent_pngs_with_the_cells_drawn(jp_fetch: Any, files: dict[str, str]) -> None:
    ref = OverlayRef(files["slide"], OverlaySpec(path=files["cells"]), OverlayStyle(opacity=1.0))
    # z_max = 3: native resolution; tile 1/1 covers base pixels 256-511 x 256-511 (cell c-1 at 300, 300).
    response = await jp_fetch("aignostics-jupyter", "overlays", ref.id, "tiles", "3", "1", "1.png")
    empty = await jp_fetch("aignostics-jupyter", "overlays", ref.id, "tiles", "3", "7", "0.png")

    assert response.headers["Content-Type"] == "image/png"
    assert "max-age" in response.headers["Cache-Control"]
    image = np.asarray(Image.open(io.BytesIO(response.body)).convert("RGBA"))
    assert image.shape == (256, 256, 4)
    inside = image[300 - 256, 300 - 256]
    assert inside[3] > 200  # the tumour cell, opaque red
    assert inside[0] > 150
    assert inside[2] < 60
    assert image[200, 200, 3] == 0  # transparent away from cells
    assert np.asarray(Image.open(io.BytesIO(empty.body)).convert("RGBA"))[..., 3].max() == 0
    again = await jp_fetch(
        "aignostics-jupyter",
        "overlays",
        ref.id,
        "tiles",
        "3",
        "1",
        "1.png",
        headers={"If-None-Match": response.headers["ETag"]},
        raise_error=False,
    )
    assert again.code == 304


@pytest.mark.integration
async def test_click_query_finds_the_cell_and_its_class(jp_fetch: Any, files: dict[str, str]) -> None:
    overlay_id = (await _register(jp_fetch, {"slide": files["slide"], "path": files["cells"]}))["id"]

    hit = await jp_fetch(
        "aignostics-jupyter", "overlays", overlay_id, "features", params={"x": "1003", "y": "695", "radius": "4"}
    )
    miss = await jp_fetch(
        "aignostics-jupyter", "overlays", overlay_id, "features", params={"x": "600", "y": "600", "radius": "4"}
    )

    features = json.loads(hit.body)["features"]
    assert [f["class_name"] for f in features] == ["Lymphocyte"]
    assert features[0]["id"] == "c-2"
    assert features[0]["area_um2"] == pytest.approx(24 * 24 * MPP * MPP)
    assert json.loads(miss.body)["features"] == []


@pytest.mark.integration
async def test_heatmap_overlay_with_its_metadata(jp_fetch: Any, files: dict[str, str]) -> None:
    spec = {"path": files["heatmap"], "class_colors": SEGMENTATION}
    answer = await _register(
        jp_fetch, {"slide": files["slide"], "overlay": spec, "style": {"hidden_classes": ["background"]}}
    )
    overlay_id = answer["id"]

    at_tumour = json.loads(
        (await jp_fetch("aignostics-jupyter", "overlays", overlay_id, "features", params={"x": "200", "y": "800"})).body
    )
    at_stroma = json.loads(
        (
            await jp_fetch("aignostics-jupyter", "overlays", overlay_id, "features", params={"x": "1500", "y": "800"})
        ).body
    )
    tile = await jp_fetch("aignostics-jupyter", "overlays", overlay_id, "tiles", "0", "0", "0.webp")

    assert answer["kind"] == "rgb"
    assert {c["name"] for c in answer["classes"]} >= {"tumor", "stroma"}
    assert at_tumour["class_name"] == "tumor"
    assert at_stroma["class_name"] == "stroma"
    assert tile.headers["Content-Type"] == "image/webp"
    assert Image.open(io.BytesIO(tile.body)).mode == "RGBA"


@pytest.mark.integration
@pytest.mark.parametrize(
    "body",
    [
        {"slide": "slides/case.svs", "overlay": {"path": "../outside.json"}},
        {"slide": "slides/case.svs", "overlay": {"path": "/etc/passwd"}},
        {"slide": "../outside.svs", "overlay": {"path": "results/cells.json"}},
        {"slide": "slides/case.svs", "overlay": {"path": "results/%2e%2e/%2e%2e/outside.json"}},
        {"slide": "slides/case.svs", "path": "results\\..\\..\\outside.json"},
    ],
)
async def test_registration_confines_both_paths(
    jp_fetch: Any, files: dict[str, str], jp_root_dir: Path, body: dict[str, Any]
) -> None:
    (jp_root_dir.parent / "outside.json").write_text('{"type": "FeatureCollection", "features": [], "SECRET": 1}')

    with pytest.raises(HTTPClientError) as caught:
        await _register(jp_fetch, body)

    assert caught.value.code == 403
    assert b"SECRET" not in caught.value.response.body


@pytest.mark.integration
async def test_a_hand_made_id_is_confined_too(jp_fetch: Any, files: dict[str, str], jp_root_dir: Path) -> None:
    (jp_root_dir.parent / "outside.json").write_text(json.dumps({"type": "FeatureCollection", "features": []}))
    forged = OverlayRef(files["slide"], OverlaySpec(path="../outside.json")).id

    for parts in (("tiles", "0", "0", "0.png"), ("features",), ()):
        with pytest.raises(HTTPClientError) as caught:
            await jp_fetch(
                "aignostics-jupyter",
                "overlays",
                forged,
                *parts,
                params={"x": "1", "y": "1"} if parts == ("features",) else None,
            )
        assert caught.value.code == 403


@pytest.mark.integration
@pytest.mark.parametrize(
    ("parts", "params", "status"),
    [
        (("overlays", "ov1.bm90LWpzb24", "tiles", "0", "0", "0.png"), None, 422),
        (("overlays", "ov1.e30"), None, 422),
        (("overlays", "{cells}", "tiles", "0", "0", "0.jpg"), None, 422),
        (("overlays", "{cells}", "tiles", "9", "0", "0.png"), None, 404),
        (("overlays", "{cells}", "features"), {"x": "1", "y": "1", "radius": "1e9"}, 422),
        (("overlays", "{cells}", "features"), {"x": "nan", "y": "1"}, 422),
        (("overlays", "{cells}", "features"), {"y": "1"}, 422),
    ],
)
async def test_bad_overlay_requests_are_json_errors(
    jp_fetch: Any, files: dict[str, str], parts: tuple[str, ...], params: dict[str, str] | None, status: int
) -> None:
    cells_id = OverlayRef(files["slide"], OverlaySpec(path=files["cells"])).id
    parts = tuple(p.replace("{cells}", cells_id) for p in parts)

    with pytest.raises(HTTPClientError) as caught:
        await jp_fetch("aignostics-jupyter", *parts, params=params)

    assert caught.value.code == status
    assert json.loads(caught.value.response.body)["error"]["message"]


@pytest.mark.integration
@pytest.mark.parametrize(
    "body", ["[]", "not json", '{"slide": 3}', '{"slide": "s", "overlay": {"path": "p"}, "style": {"opacity": 7}}']
)
async def test_malformed_registrations_are_422(jp_fetch: Any, body: str) -> None:
    with pytest.raises(HTTPClientError) as caught:
        await jp_fetch("aignostics-jupyter", "overlays", method="POST", body=body)

    assert caught.value.code == 422
