"""Bad input ends an item with a USER_ERROR that says what is wrong."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from aignostics_jupyter.emulator.apps import ItemUserError, analyse
from aignostics_jupyter.emulator.apps.reader import slide_mpp
from aignostics_jupyter.samples import SampleSlide, generate_sample_slide


@pytest.fixture(scope="module")
def small_slide(tmp_path_factory: pytest.TempPathFactory) -> SampleSlide:
    return generate_sample_slide(tmp_path_factory.mktemp("slide") / "small.svs", size=1024, seed=2, mpp=0.5)


def _fails(path: Path, metadata: dict[str, Any], out: Path) -> ItemUserError:
    with pytest.raises(ItemUserError) as caught:
        analyse("he-tme", "1.3.0", path, metadata, out)
    return caught.value


@pytest.mark.unit
@pytest.mark.parametrize(
    ("metadata", "code", "words"),
    [
        ({}, "MPP_MISSING", "resolution_mpp"),
        ({"resolution_mpp": None}, "MPP_MISSING", "resolution_mpp"),
        ({"resolution_mpp": "abc"}, "MPP_MISSING", "not a number"),
        ({"resolution_mpp": 0.05}, "MPP_OUT_OF_RANGE", "0.08..1.2"),
        ({"resolution_mpp": 8.06}, "MPP_OUT_OF_RANGE", "out of the supported range"),
        ({"resolution_mpp": float("nan")}, "MPP_OUT_OF_RANGE", "range"),
    ],
)
def test_missing_or_out_of_range_mpp(metadata: dict[str, Any], code: str, words: str) -> None:
    with pytest.raises(ItemUserError) as caught:
        slide_mpp(metadata)
    assert caught.value.code == code
    assert words in caught.value.message


@pytest.mark.unit
def test_mpp_in_range_and_alternative_keys() -> None:
    assert slide_mpp({"resolution_mpp": 0.25}) == 0.25
    assert slide_mpp({"mpp": "0.5"}) == 0.5
    assert slide_mpp({"base_mpp": 1.2}) == 1.2


@pytest.mark.integration
def test_mpp_is_checked_before_the_file(tmp_path: Path, small_slide: SampleSlide) -> None:
    error = _fails(small_slide.path, {"resolution_mpp": 2.0}, tmp_path)
    assert error.code == "MPP_OUT_OF_RANGE"


@pytest.mark.integration
def test_zero_byte_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.svs"
    empty.write_bytes(b"")
    error = _fails(empty, {"resolution_mpp": 0.25}, tmp_path / "out")
    assert error.code == "EMPTY_FILE"
    assert "empty" in error.message
    assert "empty.svs" in error.message


@pytest.mark.integration
def test_missing_file(tmp_path: Path) -> None:
    assert _fails(tmp_path / "nope.svs", {"resolution_mpp": 0.25}, tmp_path / "out").code == "SLIDE_NOT_FOUND"


@pytest.mark.integration
def test_text_file(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("this is not a slide\n" * 100)
    error = _fails(text, {"resolution_mpp": 0.25}, tmp_path / "out")
    assert error.code == "UNSUPPORTED_SLIDE"
    assert "not a whole slide image" in error.message


@pytest.mark.integration
def test_png_image(tmp_path: Path) -> None:
    png = tmp_path / "photo.png"
    Image.fromarray(np.full((300, 400, 3), 180, np.uint8)).save(png)
    assert _fails(png, {"resolution_mpp": 0.25}, tmp_path / "out").code == "UNSUPPORTED_SLIDE"


@pytest.mark.integration
def test_truncated_slide(tmp_path: Path, small_slide: SampleSlide) -> None:
    data = small_slide.path.read_bytes()
    for fraction in (0.02, 0.5):
        cut = tmp_path / f"cut-{fraction}.svs"
        cut.write_bytes(data[: int(len(data) * fraction)])
        error = _fails(cut, {"resolution_mpp": 0.5}, tmp_path / "out")
        assert error.code in {"UNSUPPORTED_SLIDE", "SLIDE_UNREADABLE"}
        assert "cut-" in error.message


@pytest.mark.integration
def test_metadata_that_contradicts_the_file(tmp_path: Path, small_slide: SampleSlide) -> None:
    error = _fails(small_slide.path, {"resolution_mpp": 0.5, "width_px": 999}, tmp_path / "out")
    assert error.code == "METADATA_MISMATCH"
    assert "width_px" in error.message
    error = _fails(small_slide.path, {"resolution_mpp": 0.5, "checksum_base64_crc32c": "AAAAAA=="}, tmp_path / "o")
    assert error.code == "CHECKSUM_MISMATCH"


@pytest.mark.integration
@pytest.mark.timeout(60)
def test_zipped_dicom_is_analysed_and_a_bad_zip_is_a_user_error(tmp_path: Path) -> None:
    dicom = generate_sample_slide(tmp_path / "series", size=1024, fmt="dicom", seed=3, mpp=0.5)
    archive = tmp_path / "series.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for member in sorted(dicom.path.iterdir()):
            zf.write(member, f"series/{member.name}")
    artifacts = analyse("test-app", "0.0.4", archive, {"resolution_mpp": 0.5}, tmp_path / "out")
    assert len(artifacts) == 3
    empty_zip = tmp_path / "empty.zip"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w"):
        pass
    empty_zip.write_bytes(buffer.getvalue())
    assert _fails(empty_zip, {"resolution_mpp": 0.5}, tmp_path / "out2").code == "UNSUPPORTED_SLIDE"
