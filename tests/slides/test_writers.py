from __future__ import annotations

from pathlib import Path

import numpy as np
import openslide
import pytest
from numpy.typing import NDArray

from aignostics_jupyter.slides.writers import gradient_pattern, write_slide, write_test_pattern_slide
from tests.slides.conftest import HEIGHT, MPP, WIDTH

pytestmark = pytest.mark.integration

VENDORS = {"svs": "aperio", "tiff": "generic-tiff", "dicom": "dicom"}


def _openslide_target(path: Path) -> Path:
    return path / "level-0.dcm" if path.is_dir() else path


@pytest.mark.parametrize("fmt", ["svs", "tiff", "dicom"])
def test_openslide_reads_written_slide(slide_paths: dict[str, Path], fmt: str) -> None:
    with openslide.OpenSlide(_openslide_target(slide_paths[fmt])) as slide:
        assert slide.properties[openslide.PROPERTY_NAME_VENDOR] == VENDORS[fmt]
        assert slide.dimensions == (WIDTH, HEIGHT)
        assert slide.level_count == 3
        assert slide.level_dimensions == ((2000, 1500), (500, 375), (125, 93))
        assert [round(d) for d in slide.level_downsamples] == [1, 4, 16]
        assert float(slide.properties[openslide.PROPERTY_NAME_MPP_X]) == pytest.approx(MPP)
        assert float(slide.properties[openslide.PROPERTY_NAME_MPP_Y]) == pytest.approx(MPP)
        assert slide.properties["openslide.level[0].tile-width"] == "256"
        region = np.asarray(slide.read_region((1000, 700), 0, (256, 256)).convert("RGB"), dtype=np.int16)
    expected = gradient_pattern(WIDTH, HEIGHT)(1.0, 1000, 700, 256, 256).astype(np.int16)
    assert np.abs(region - expected).mean() < 2


@pytest.mark.parametrize(("fmt", "names"), [("svs", {"label", "macro", "thumbnail"}), ("dicom", {"label", "macro"})])
def test_associated_images_are_written(slide_paths: dict[str, Path], fmt: str, names: set[str]) -> None:
    with openslide.OpenSlide(_openslide_target(slide_paths[fmt])) as slide:
        assert set(slide.associated_images) == names
        label = np.asarray(slide.associated_images["label"].convert("RGB"))
        assert label.shape == (120, 160, 3)
        assert abs(int(label[5, 5, 0]) - 200) < 8
        assert label[60, 80].min() > 240
        if fmt == "svs":
            assert slide.properties[openslide.PROPERTY_NAME_OBJECTIVE_POWER] == "20"


def test_dicom_series_opens_from_any_instance(slide_paths: dict[str, Path]) -> None:
    directory = slide_paths["dicom"]
    assert sorted(p.name for p in directory.iterdir()) == [
        "label.dcm",
        "level-0.dcm",
        "level-1.dcm",
        "level-2.dcm",
        "overview.dcm",
    ]
    with openslide.OpenSlide(directory / "level-2.dcm") as slide:
        assert slide.dimensions == (WIDTH, HEIGHT)
        assert slide.level_count == 3


def test_renderer_called_per_tile_never_for_whole_level(tmp_path: Path) -> None:
    calls: list[tuple[float, int, int, int, int]] = []
    pattern = gradient_pattern(1000, 600)

    def render(ds: float, x: int, y: int, w: int, h: int) -> NDArray[np.uint8]:
        calls.append((ds, x, y, w, h))
        return pattern(ds, x, y, w, h)

    write_slide(tmp_path / "s.tiff", 1000, 600, render, mpp=0.25, fmt="tiff", tile_size=256, smallest_level=256)
    assert max(w * h for _, _, _, w, h in calls) <= 256 * 256
    # 4x3 tiles at level 0 (edge tiles cropped to 232 and 88), 1x1 at 250x150.
    assert (1.0, 768, 512, 232, 88) in calls
    assert (4.0, 0, 0, 250, 150) in calls
    assert len(calls) == 12 + 1


def test_unicode_path_and_generic_tiff_resolution(tmp_path: Path) -> None:
    path = write_test_pattern_slide(tmp_path / "Schnitt äöü 切片.tiff", 600, 400, "tiff", 0.2427, smallest_level=200)
    with openslide.OpenSlide(path) as slide:
        assert slide.level_count == 2
        assert slide.properties["tiff.ResolutionUnit"] == "centimeter"
        assert float(slide.properties["tiff.XResolution"]) == pytest.approx(1e4 / 0.2427, rel=1e-4)
        assert float(slide.properties[openslide.PROPERTY_NAME_MPP_X]) == pytest.approx(0.2427, rel=1e-4)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"width": 0}, "positive size"),
        ({"tile_size": 100}, "multiple of 16"),
        ({"mpp": 0.0}, "mpp must be positive"),
        ({"fmt": "png"}, "Unknown slide format"),
    ],
)
def test_write_slide_rejects_bad_arguments(tmp_path: Path, kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"width": 64, "height": 64, "mpp": 0.5, "fmt": "tiff", "tile_size": 32}
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        write_slide(tmp_path / "x.tiff", render=gradient_pattern(64, 64), **args)  # type: ignore[arg-type]


def test_renderer_with_wrong_shape_is_reported(tmp_path: Path) -> None:
    def bad(ds: float, x: int, y: int, w: int, h: int) -> NDArray[np.uint8]:
        return np.zeros((h, w), dtype=np.uint8)

    with pytest.raises(ValueError, match="renderer returned"):
        write_slide(tmp_path / "x.svs", 64, 64, bad, mpp=0.5, fmt="svs", tile_size=32)
