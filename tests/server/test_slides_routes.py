"""The slide tile routes through a real Jupyter server with authentication required (pytest-jupyter)."""

from __future__ import annotations

import io
import json
import logging
import shutil
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from tornado.httpclient import HTTPClientError

from aignostics_jupyter.slides.writers import write_test_pattern_slide

WIDTH, HEIGHT, MPP = 2000, 1500, 0.5


@pytest.fixture(scope="session")
def slide_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One small SVS with label and macro, written once per session."""
    return write_test_pattern_slide(
        tmp_path_factory.mktemp("slides") / "case.svs", WIDTH, HEIGHT, "svs", MPP, smallest_level=300
    )


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    """The extension with a thread-mode tile service (no worker start-up per test)."""
    return {**jp_server_config, "AignosticsTileServer": {"mode": "thread", "workers": 2}}


@pytest.fixture
def slide(jp_root_dir: Path, slide_file: Path) -> str:
    """The slide inside the server's root, as a path relative to it."""
    target = jp_root_dir / "slides" / "case.svs"
    target.parent.mkdir()
    shutil.copyfile(slide_file, target)
    return "slides/case.svs"


async def _get(jp_fetch: Any, *parts: str, **params: Any) -> Any:
    return await jp_fetch("aignostics-jupyter", *parts, params=params or None)


@pytest.mark.integration
async def test_info_reports_the_slide_with_a_relative_path(jp_fetch: Any, slide: str, jp_root_dir: Path) -> None:
    response = await _get(jp_fetch, "slides", "info", path=slide)

    body = json.loads(response.body)
    assert response.headers["Content-Type"].startswith("application/json")
    assert (body["width"], body["height"], body["mpp_x"]) == (WIDTH, HEIGHT, MPP)
    assert body["vendor"] == "aperio"
    assert body["path"] == slide
    assert str(jp_root_dir) not in response.body.decode()
    assert {"label", "macro"} <= set(body["associated_images"])


@pytest.mark.integration
async def test_tile_is_a_jpeg_with_etag_and_cache_control(jp_fetch: Any, slide: str) -> None:
    response = await _get(jp_fetch, "slides", "tiles", "3", "1", "0.jpg", path=slide)

    assert response.headers["Content-Type"] == "image/jpeg"
    assert response.headers["ETag"].startswith('"')
    assert "max-age" in response.headers["Cache-Control"]
    image = Image.open(io.BytesIO(response.body))
    assert image.format == "JPEG"
    assert image.size == (256, 256)


@pytest.mark.integration
async def test_tile_answers_304_to_its_etag(jp_fetch: Any, slide: str) -> None:
    first = await _get(jp_fetch, "slides", "tiles", "2", "0", "0.jpg", path=slide)

    again = await jp_fetch(
        "aignostics-jupyter",
        "slides",
        "tiles",
        "2",
        "0",
        "0.jpg",
        params={"path": slide},
        headers={"If-None-Match": first.headers["ETag"]},
        raise_error=False,
    )

    assert again.code == 304
    assert again.body == b""
    assert again.headers["ETag"] == first.headers["ETag"]


@pytest.mark.integration
@pytest.mark.parametrize(
    ("z", "x", "y"), [("3", "8", "0"), ("3", "0", "6"), ("5", "0", "0"), ("-1", "0", "0"), ("2", "-1", "0")]
)
async def test_out_of_range_tiles_are_json_404(jp_fetch: Any, slide: str, z: str, x: str, y: str) -> None:
    with pytest.raises(HTTPClientError) as caught:
        await _get(jp_fetch, "slides", "tiles", z, x, f"{y}.jpg", path=slide)

    assert caught.value.code == 404
    body = json.loads(caught.value.response.body)
    assert body["error"]["type"] == "TileOutOfRangeError"


@pytest.mark.integration
async def test_png_and_webp_tiles(jp_fetch: Any, slide: str) -> None:
    png = await _get(jp_fetch, "slides", "tiles", "0", "0", "0.png", path=slide)
    webp = await _get(jp_fetch, "slides", "tiles", "0", "0", "0.webp", path=slide)

    assert png.headers["Content-Type"] == "image/png"
    assert webp.headers["Content-Type"] == "image/webp"


@pytest.mark.integration
async def test_thumbnail_fits_the_size(jp_fetch: Any, slide: str) -> None:
    response = await _get(jp_fetch, "slides", "thumbnail", path=slide, size="200")

    image = Image.open(io.BytesIO(response.body))
    assert max(image.size) == 200
    assert image.size == (200, 150)


@pytest.mark.integration
async def test_thumbnail_size_is_bounded(jp_fetch: Any, slide: str) -> None:
    with pytest.raises(HTTPClientError) as caught:
        await _get(jp_fetch, "slides", "thumbnail", path=slide, size="100000")

    assert caught.value.code == 422


@pytest.mark.integration
async def test_label_image_and_missing_associated_image(jp_fetch: Any, slide: str) -> None:
    label = await _get(jp_fetch, "slides", "associated", "label", path=slide)
    with pytest.raises(HTTPClientError) as caught:
        await _get(jp_fetch, "slides", "associated", "nothing", path=slide)

    assert Image.open(io.BytesIO(label.body)).size == (160, 120)
    assert caught.value.code == 404
    assert json.loads(caught.value.response.body)["error"]["type"] == "NotFoundError"


@pytest.mark.integration
async def test_missing_path_argument_is_a_json_422(jp_fetch: Any) -> None:
    with pytest.raises(HTTPClientError) as caught:
        await _get(jp_fetch, "slides", "info")

    assert caught.value.code == 422
    assert "path" in json.loads(caught.value.response.body)["error"]["message"]


@pytest.mark.integration
async def test_a_file_that_is_no_slide_is_a_json_422(jp_fetch: Any, jp_root_dir: Path) -> None:
    (jp_root_dir / "notes.txt").write_text("hello")

    with pytest.raises(HTTPClientError) as caught:
        await _get(jp_fetch, "slides", "tiles", "0", "0", "0.jpg", path="notes.txt")

    assert caught.value.code == 422
    assert b"hello" not in caught.value.response.body


class TestHubBaseUrl:
    """The tile routes under a JupyterHub-style base URL."""

    @pytest.fixture
    def jp_base_url(self) -> str:
        return "/user/demo/"

    @pytest.mark.integration
    async def test_tiles_and_info_under_the_hub_prefix(self, jp_fetch: Any, slide: str) -> None:
        tile = await _get(jp_fetch, "slides", "tiles", "0", "0", "0.jpg", path=slide)
        info = await _get(jp_fetch, "slides", "info", path=slide)

        assert tile.effective_url.split("//", 1)[1].split("/", 1)[1].startswith("user/demo/aignostics-jupyter/slides/")
        assert tile.headers["Content-Type"] == "image/jpeg"
        assert json.loads(info.body)["path"] == slide


@pytest.mark.integration
async def test_expected_errors_are_one_line_in_the_log(jp_fetch: Any, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING), pytest.raises(HTTPClientError) as caught:
        await _get(jp_fetch, "slides", "info")  # no path: what the kernel's server probe asks
    assert caught.value.code == 422
    assert not [r for r in caplog.records if r.exc_info]  # no traceback
    ours = [r for r in caplog.records if "InvalidInputError" in r.getMessage()]
    assert len(ours) == 1
    assert ours[0].levelno == logging.WARNING
    assert "422 GET" in ours[0].getMessage()
    assert "'path' is required" in ours[0].getMessage()
