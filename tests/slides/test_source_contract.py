"""The one contract every SlideSource implementation keeps, run over implementations x formats.

All fixtures show the same generated picture (``gradient_pattern``), so pixels are compared with the
pattern itself and across implementations.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image

from aignostics_jupyter.exceptions import InvalidInputError
from aignostics_jupyter.slides import DicomSource, OpenSlideSource, SlideSource, file_signature, open_slide
from aignostics_jupyter.slides.writers import gradient_pattern
from tests.slides.conftest import HEIGHT, MPP, WIDTH

pytestmark = pytest.mark.integration

# (id, format fixture, how to open it, implementation, vendor, format name, associated names, objective)
CASES = {
    "openslide-svs": ("svs", "openslide", OpenSlideSource, "aperio", "svs", {"label", "macro", "thumbnail"}, 20.0),
    "openslide-tiff": ("tiff", "openslide", OpenSlideSource, "generic-tiff", "tiff", set(), None),
    "openslide-dicom-dir": ("dicom", "openslide", OpenSlideSource, "dicom", "dicom", {"label", "macro"}, 20.0),
    "openslide-dicom-file": (
        "dicom/level-1.dcm",
        "openslide",
        OpenSlideSource,
        "dicom",
        "dicom",
        {"label", "macro"},
        20.0,
    ),
    "pydicom-dicom-dir": ("dicom", "dicom", DicomSource, "dicom", "dicom", {"label", "macro"}, 20.0),
    "pydicom-dicom-file": ("dicom/level-2.dcm", "dicom", DicomSource, "dicom", "dicom", {"label", "macro"}, 20.0),
}
LEVEL_DIMENSIONS = ((2000, 1500), (500, 375), (125, 93))
# Regions as (l0_location, level, size): interior, tile-crossing, edge-crossing, whole small level.
REGIONS = [
    ((0, 0), 0, (256, 256)),
    ((1000, 700), 0, (300, 200)),
    ((1900, 1400), 0, (256, 256)),
    ((400, 400), 1, (256, 256)),
    ((1024, 1024), 1, (256, 200)),
    ((0, 0), 2, (125, 93)),
    ((-96, -64), 0, (256, 256)),
]


def _target(paths: dict[str, Path], spec: str) -> Path:
    fmt, _, rest = spec.partition("/")
    return paths[fmt] / rest if rest else paths[fmt]


@pytest.fixture(params=list(CASES), scope="module")
def case(request: pytest.FixtureRequest, slide_paths: dict[str, Path]) -> Iterator[tuple[str, SlideSource]]:
    spec, reader, *_ = CASES[request.param]
    with open_slide(_target(slide_paths, spec), reader=reader) as source:
        yield request.param, source


def _expected(l0_location: tuple[int, int], level: int, size: tuple[int, int]) -> NDArray[np.int16]:
    """What the region must show: the pattern inside the slide, white outside (also left of and above it)."""
    downsample = (1, 4, 16)[level]
    l_w, l_h = LEVEL_DIMENSIONS[level]
    l_x, l_y = l0_location[0] // downsample, l0_location[1] // downsample
    out = np.full((size[1], size[0], 3), 255, dtype=np.int16)
    x0, y0 = max(l_x, 0), max(l_y, 0)
    x1, y1 = min(l_x + size[0], l_w), min(l_y + size[1], l_h)
    if x1 > x0 and y1 > y0:
        pixels = gradient_pattern(WIDTH, HEIGHT)(downsample, x0, y0, x1 - x0, y1 - y0)
        out[y0 - l_y : y1 - l_y, x0 - l_x : x1 - l_x] = pixels
    return out


def _pixels(image: Image.Image) -> NDArray[np.int16]:
    return np.asarray(image, dtype=np.int16)


def test_is_a_slide_source_of_the_expected_kind(case: tuple[str, SlideSource]) -> None:
    name, source = case
    _, _, implementation, vendor, fmt, _, _ = CASES[name]
    assert isinstance(source, SlideSource)
    assert isinstance(source, implementation)
    assert source.vendor == vendor
    assert source.format == fmt


def test_geometry(case: tuple[str, SlideSource]) -> None:
    _, source = case
    assert source.dimensions == (WIDTH, HEIGHT)
    assert source.level_count == 3
    assert source.level_dimensions == LEVEL_DIMENSIONS
    assert source.level_downsamples[0] == 1.0
    assert source.level_downsamples[1] == pytest.approx(4.0)
    # OpenSlide's convention for odd sizes: the mean of the two axis ratios (16 and 1500/93).
    assert source.level_downsamples[2] == pytest.approx((16 + 1500 / 93) / 2)
    assert source.tile_size == (256, 256)


def test_physical_metadata(case: tuple[str, SlideSource]) -> None:
    name, source = case
    assert source.mpp is not None
    assert source.mpp == pytest.approx((MPP, MPP))
    assert source.objective_power == CASES[name][6]


def test_properties_are_strings(case: tuple[str, SlideSource]) -> None:
    name, source = case
    props = source.properties
    assert isinstance(props, Mapping)
    assert props
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in props.items())
    if CASES[name][3] == "dicom":
        assert props["dicom.SOPClassUID"] == "1.2.840.10008.5.1.4.1.1.77.1.6"
        assert props["dicom.TotalPixelMatrixColumns"] == str(WIDTH)


def test_associated_images(case: tuple[str, SlideSource]) -> None:
    name, source = case
    images = source.associated_images
    assert set(images) == CASES[name][5]
    for image_name in images:
        image = images[image_name]
        assert image.mode == "RGB"
        assert images[image_name] is image  # loaded once
    if "label" in images:
        label = _pixels(images["label"])
        assert images["label"].size == (160, 120)
        assert abs(label[5, 5] - (200, 0, 0)).max() < 12
        assert label[60, 80].min() > 240
    if "macro" in images:
        assert images["macro"].size == (480, 360)


@pytest.mark.parametrize(("l0_location", "level", "size"), REGIONS)
def test_read_region_shows_the_pattern(
    case: tuple[str, SlideSource], l0_location: tuple[int, int], level: int, size: tuple[int, int]
) -> None:
    _, source = case
    image = source.read_region(l0_location, level, size)
    assert image.mode == "RGB"
    assert image.size == size
    diff = np.abs(_pixels(image) - _expected(l0_location, level, size))
    assert diff.mean() < 2.5
    assert np.percentile(diff, 99) < 12


def test_outside_the_slide_is_white(case: tuple[str, SlideSource]) -> None:
    _, source = case
    image = _pixels(source.read_region((WIDTH + 10, 0), 0, (64, 64)))
    assert (image == 255).all()


def test_thumbnail(case: tuple[str, SlideSource]) -> None:
    _, source = case
    thumb = source.thumbnail(200)
    assert thumb.mode == "RGB"
    assert thumb.size == (200, 150)
    assert source.thumbnail((100, 400)).size == (100, 75)
    expected = Image.fromarray(_expected((0, 0), 2, (125, 93)).astype(np.uint8)).resize((200, 150))
    assert np.abs(_pixels(thumb) - _pixels(expected)).mean() < 4


def test_best_level_for_downsample(case: tuple[str, SlideSource]) -> None:
    _, source = case
    assert [source.best_level_for_downsample(d) for d in (0.5, 1, 3.9, 4, 8, 16, 64)] == [0, 0, 0, 1, 1, 2, 2]


def test_file_signature(case: tuple[str, SlideSource]) -> None:
    _, source = case
    assert source.file_signature == file_signature(source.path)
    assert source.file_signature.size > 0


@pytest.mark.parametrize(("level", "size"), [(3, (10, 10)), (-1, (10, 10)), (0, (0, 10)), (0, (10, -1))])
def test_bad_region_requests_are_invalid_input(
    case: tuple[str, SlideSource], level: int, size: tuple[int, int]
) -> None:
    _, source = case
    with pytest.raises(InvalidInputError):
        source.read_region((0, 0), level, size)


@pytest.mark.parametrize(("l0_location", "level", "size"), REGIONS)
def test_implementations_agree_pixel_for_pixel(
    slide_paths: dict[str, Path], l0_location: tuple[int, int], level: int, size: tuple[int, int]
) -> None:
    # DICOM through OpenSlide and through pydicom decode the very same JPEG frames: they must agree exactly.
    with (
        open_slide(slide_paths["dicom"], reader="openslide") as a,
        open_slide(slide_paths["dicom"], reader="dicom") as b,
    ):
        first, second = (
            _pixels(a.read_region(l0_location, level, size)),
            _pixels(b.read_region(l0_location, level, size)),
        )
    if level < 2:
        assert np.abs(first - second).max() <= 2
    else:
        # At a non-integer downsample OpenSlide interpolates sub-pixel offsets; the pydicom reader does not.
        assert np.abs(first - second).mean() < 1.5
    # SVS and generic TIFF come from the same tiles of the same writer.
    with open_slide(slide_paths["svs"]) as c, open_slide(slide_paths["tiff"]) as d:
        assert np.array_equal(
            _pixels(c.read_region(l0_location, level, size)), _pixels(d.read_region(l0_location, level, size))
        )


@pytest.mark.parametrize("name", list(CASES))
def test_context_manager_closes(slide_paths: dict[str, Path], name: str) -> None:
    spec, reader, *_ = CASES[name]
    with open_slide(_target(slide_paths, spec), reader=reader) as source:
        source.read_region((0, 0), 0, (16, 16))
    with pytest.raises(InvalidInputError, match="was closed"):
        source.read_region((0, 0), 0, (16, 16))
    source.close()  # twice: harmless
