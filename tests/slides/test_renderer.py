from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from aignostics_jupyter.exceptions import NotFoundError, UnsupportedSlideError
from aignostics_jupyter.slides import open_slide
from aignostics_jupyter.slides.renderer import SlideRenderer, render_tile_image, slide_info
from aignostics_jupyter.slides.tiling import TileOutOfRangeError, ZoomGrid
from aignostics_jupyter.slides.writers import gradient_pattern
from tests.slides.conftest import HEIGHT, MPP, WIDTH

pytestmark = pytest.mark.integration


def _expected_tile(z: int, t_x: int, t_y: int) -> np.ndarray:
    """The tile as the pattern would show it, rendered directly at the tile's downsample."""
    grid = ZoomGrid(WIDTH, HEIGHT)
    region = grid.tile(z, t_x, t_y)
    out = np.full((256, 256, 3), 255, dtype=np.int16)
    pixels = gradient_pattern(WIDTH, HEIGHT)(region.downsample, t_x * 256, t_y * 256, region.z_w, region.z_h)
    out[: region.z_h, : region.z_w] = pixels
    return out


@pytest.mark.parametrize("fmt", ["svs", "tiff", "dicom"])
@pytest.mark.parametrize(("z", "t_x", "t_y"), [(0, 0, 0), (1, 1, 0), (2, 1, 1), (3, 2, 1), (3, 7, 5), (4, 9, 3)])
def test_tiles_show_the_slide_at_every_zoom(slide_paths: dict[str, Path], fmt: str, z: int, t_x: int, t_y: int) -> None:
    with open_slide(slide_paths[fmt]) as source:
        image = render_tile_image(source, z, t_x, t_y)
    assert image.size == (256, 256)
    assert image.mode == "RGB"
    diff = np.abs(np.asarray(image, dtype=np.int16) - _expected_tile(z, t_x, t_y))
    assert diff.mean() < 3


def test_edge_tiles_padded_white_or_cropped(slide_paths: dict[str, Path]) -> None:
    with open_slide(slide_paths["svs"]) as source:
        padded = np.asarray(render_tile_image(source, 3, 7, 5))
        cropped = render_tile_image(source, 3, 7, 5, pad_edges=False)
    # 2000x1500 at native zoom 3: the last column holds 2000 - 7*256 = 208 px, the last row 1500 - 5*256 = 220.
    assert cropped.size == (208, 220)
    assert (padded[:, 208:] == 255).all()
    assert (padded[220:, :] == 255).all()
    assert np.array_equal(padded[:220, :208], np.asarray(cropped))


def test_slide_info(slide_paths: dict[str, Path]) -> None:
    with open_slide(slide_paths["svs"]) as source:
        info = slide_info(source)
    assert (info.width, info.height, info.level_count) == (WIDTH, HEIGHT, 3)
    assert (info.mpp_x, info.mpp_y, info.objective_power) == (MPP, MPP, 20.0)
    assert (info.z_min, info.z_max, info.z_top) == (0, 3, 4)
    assert info.associated_images == ["label", "macro", "thumbnail"]
    assert info.vendor == "aperio"
    assert info.format == "svs"
    assert info.file_size == slide_paths["svs"].stat().st_size
    assert len(info.signature) == 16
    assert info.level_dimensions[1] == (500, 375)


def test_renderer_encodes_and_reports(slide_paths: dict[str, Path]) -> None:
    renderer = SlideRenderer(max_open=2)
    try:
        jpeg = renderer.tile(slide_paths["dicom"], 2, 0, 0)
        assert jpeg[:3] == b"\xff\xd8\xff"
        png = renderer.tile(slide_paths["tiff"], 2, 0, 0, fmt="png")
        assert Image.open(io.BytesIO(png)).size == (256, 256)
        thumb = Image.open(io.BytesIO(renderer.thumbnail(slide_paths["svs"], 100)))
        assert thumb.size == (100, 75)
        label = Image.open(io.BytesIO(renderer.associated(slide_paths["svs"], "label")))
        assert label.size == (160, 120)
        with pytest.raises(NotFoundError, match=r"has no 'label' image \(it has: none\)"):
            renderer.associated(slide_paths["tiff"], "label")
        with pytest.raises(TileOutOfRangeError):
            renderer.tile(slide_paths["svs"], 5, 0, 0)
        assert renderer.info(slide_paths["svs"]).z_max == 3
        assert len(renderer.handles) == 2
    finally:
        renderer.close()


def test_renderer_discards_a_handle_that_failed(slide_paths: dict[str, Path], tmp_path: Path) -> None:
    class Failing:
        def __init__(self, path: Path) -> None:
            self.inner = open_slide(path)
            self.closed = False

        def __getattr__(self, name: str) -> object:
            return getattr(self.inner, name)

        def read_region(self, *args: object) -> Image.Image:
            raise UnsupportedSlideError("damaged")

        def close(self) -> None:
            self.closed = True
            self.inner.close()

    renderer = SlideRenderer(opener=Failing)  # type: ignore[arg-type]
    with pytest.raises(UnsupportedSlideError, match="damaged"):
        renderer.tile(slide_paths["svs"], 0, 0, 0)
    assert slide_paths["svs"] not in renderer.handles
