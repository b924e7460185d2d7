"""describe_slide and find_slides on generated slides in every format, and on things that are not slides."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile

from aignostics_jupyter.checksums import crc32c_file
from aignostics_jupyter.client import describe_slide, find_slides
from aignostics_jupyter.client._slides import _open_with_openslide, media_type_for
from aignostics_jupyter.exceptions import UnsupportedSlideError
from aignostics_jupyter.slides.writers import write_test_pattern_slide

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def slide_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("slides")
    write_test_pattern_slide(folder / "pattern.svs", 1000, 700, fmt="svs", mpp=0.25, smallest_level=128)
    write_test_pattern_slide(folder / "pattern.tiff", 900, 600, fmt="tiff", mpp=0.5, smallest_level=128)
    write_test_pattern_slide(folder / "dicom", 800, 640, fmt="dicom", mpp=0.5, smallest_level=128)
    (folder / "notes.txt").write_text("not a slide")
    tifffile.imwrite(folder / "nores.tif", np.zeros((512, 512, 3), np.uint8), tile=(256, 256))
    return folder


@pytest.mark.parametrize(
    ("name", "width", "height", "mpp", "media_type"),
    [
        ("pattern.svs", 1000, 700, 0.25, "application/octet-stream"),
        ("pattern.tiff", 900, 600, 0.5, "image/tiff"),
    ],
)
def test_describe_slide_files(slide_dir: Path, name: str, width: int, height: int, mpp: float, media_type: str) -> None:
    description = describe_slide(slide_dir / name)

    assert (description.width, description.height) == (width, height)
    assert description.mpp == pytest.approx(mpp, rel=1e-3)
    assert description.media_type == media_type
    assert description.crc32c == crc32c_file(slide_dir / name)
    assert description.size == (slide_dir / name).stat().st_size
    assert description.format


def test_describe_a_dicom_directory_gives_its_base_level(slide_dir: Path) -> None:
    description = describe_slide(slide_dir / "dicom")

    assert (description.width, description.height) == (800, 640)
    assert description.mpp == pytest.approx(0.5, rel=1e-3)
    assert description.media_type == "application/dicom"
    assert description.path.parent == (slide_dir / "dicom").resolve()


def test_the_openslide_fallback_reads_the_same(slide_dir: Path) -> None:
    (width, height), mpp, fmt = _open_with_openslide(slide_dir / "pattern.svs")

    assert (width, height) == (1000, 700)
    assert mpp is not None
    assert mpp[0] == pytest.approx(0.25, rel=1e-3)
    assert fmt == "aperio"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("missing.svs", "does not exist"),
        ("notes.txt", "not"),
        ("nores.tif", "no resolution"),
    ],
)
def test_describe_slide_errors_are_one_clear_sentence(slide_dir: Path, name: str, message: str) -> None:
    with pytest.raises(UnsupportedSlideError, match=message) as info:
        describe_slide(slide_dir / name)

    assert name in info.value.message
    assert "\n" not in info.value.message


def test_the_openslide_fallback_rejects_non_slides(slide_dir: Path) -> None:
    with pytest.raises(UnsupportedSlideError, match="not a whole slide image"):
        _open_with_openslide(slide_dir / "notes.txt")


def test_find_slides_expands_directories_globs_and_dicom(slide_dir: Path) -> None:
    found = find_slides(slide_dir)

    names = [p.name for p in found]
    assert "pattern.svs" in names
    assert "pattern.tiff" in names
    assert "nores.tif" in names
    assert "notes.txt" not in names
    assert find_slides(str(slide_dir / "*.svs")) == [(slide_dir / "pattern.svs").resolve()]
    dicom = find_slides(slide_dir / "dicom")
    assert len(dicom) == 1
    assert media_type_for(dicom[0]) == "application/dicom"


def test_find_slides_errors(slide_dir: Path) -> None:
    with pytest.raises(UnsupportedSlideError, match="No file matches"):
        find_slides(str(slide_dir / "*.ndpi"))
    with pytest.raises(UnsupportedSlideError, match="does not exist"):
        find_slides(slide_dir / "nothing")


def test_describe_uses_the_slides_package_when_it_offers_open_slide(
    slide_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import aignostics_jupyter.slides as slides_pkg
    from aignostics_jupyter.slides.opener import open_slide

    monkeypatch.setattr(slides_pkg, "open_slide", open_slide, raising=False)

    svs = describe_slide(slide_dir / "pattern.svs")
    dicom = describe_slide(slide_dir / "dicom")

    assert (svs.width, svs.height, svs.format) == (1000, 700, "svs")
    assert (dicom.width, dicom.height) == (800, 640)
    with pytest.raises(UnsupportedSlideError, match=r"notes\.txt"):
        describe_slide(slide_dir / "notes.txt")
