"""open_slide: the right reader for each input, and one clear sentence for everything it cannot open."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

from aignostics_jupyter.exceptions import InvalidInputError, UnsupportedSlideError
from aignostics_jupyter.slides import DicomSource, OpenSlideSource, open_slide
from tests.slides.conftest import HEIGHT, WIDTH

pytestmark = pytest.mark.integration


def _write_ct(path: Path) -> Path:
    ds = Dataset()
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.Modality = "CT"
    ds.Rows = ds.Columns = 4
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    ds.PixelData = bytes(16)
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.save_as(path, enforce_file_format=True)
    return path


@pytest.fixture(scope="module")
def broken(slide_paths: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory of files that are not (intact) slides."""
    root = tmp_path_factory.mktemp("broken")
    (root / "empty.svs").write_bytes(b"")
    (root / "notes.svs").write_text("Patient slide, do not open\n")
    Image.new("RGB", (32, 32), "red").save(root / "photo.png")
    shutil.copy(root / "photo.png", root / "photo.tiff")  # a PNG with a misleading name
    Image.new("RGB", (32, 32), "red").save(root / "flat.tif")  # a real TIFF, but one plain strip image
    (root / "noise.bin").write_bytes(bytes(range(256)) * 8)
    for fmt in ("svs", "tiff"):
        data = slide_paths[fmt].read_bytes()
        (root / f"cut.{fmt}").write_bytes(data[: len(data) * 2 // 3])
    data = (slide_paths["dicom"] / "level-0.dcm").read_bytes()
    (root / "cut.dcm").write_bytes(data[: len(data) // 2])
    _write_ct(root / "ct.dcm")
    (root / "ct_only").mkdir()
    _write_ct(root / "ct_only" / "ct.dcm")
    (root / "empty_dir").mkdir()
    return root


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("missing.svs", r"^missing\.svs does not exist"),
        ("empty.svs", r"^empty\.svs is empty \(0 bytes\)\.$"),
        ("notes.svs", r"^notes\.svs is a text file, not a whole slide image"),
        ("photo.png", r"^photo\.png is a PNG image, not a whole slide image"),
        ("photo.tiff", r"^photo\.tiff is a PNG image"),
        ("flat.tif", r"^flat\.tif is a TIFF file but not a tiled, pyramidal whole slide image\.$"),
        ("noise.bin", r"^noise\.bin is an unknown kind of file"),
        ("cut.svs", r"^cut\.svs is truncated"),
        ("cut.tiff", r"^cut\.tiff is truncated"),
        ("cut.dcm", r"^cut\.dcm is truncated"),
        ("ct.dcm", r"^ct\.dcm is a DICOM file but not a whole slide image \(SOP class CT Image Storage\)\.$"),
        ("ct_only", r"^ct_only is a directory without DICOM whole slide image"),
        ("empty_dir", r"^empty_dir is a directory without DICOM whole slide image"),
    ],
)
def test_unreadable_inputs_get_one_clear_sentence(broken: Path, name: str, message: str) -> None:
    with pytest.raises(UnsupportedSlideError, match=message) as info:
        open_slide(broken / name)
    assert isinstance(info.value, InvalidInputError)
    assert info.value.message.count(". ") == 0  # one sentence


def test_non_dicom_with_dicom_reader_is_refused(slide_paths: dict[str, Path]) -> None:
    with pytest.raises(UnsupportedSlideError, match=r"is a TIFF file, not DICOM"):
        open_slide(slide_paths["svs"], reader="dicom")


def test_truncated_dicom_in_series_fails_with_pydicom_reader(slide_paths: dict[str, Path], tmp_path: Path) -> None:
    series = tmp_path / "series"
    shutil.copytree(slide_paths["dicom"], series)
    data = (series / "level-1.dcm").read_bytes()
    (series / "level-1.dcm").write_bytes(data[: len(data) - 500])
    with pytest.raises(UnsupportedSlideError, match=r"level-1\.dcm is truncated"):
        DicomSource(series)


@pytest.mark.parametrize("fmt", ["svs", "tiff", "dicom"])
def test_unicode_names(slide_paths: dict[str, Path], tmp_path: Path, fmt: str) -> None:
    source = slide_paths[fmt]
    target = tmp_path / f"Präparat µ 標本 #1 {fmt}"
    if source.is_dir():
        shutil.copytree(source, target)
    else:
        target = target.with_suffix("." + fmt)
        shutil.copy(source, target)
    with open_slide(target) as slide:
        assert slide.path == target
        assert slide.dimensions == (WIDTH, HEIGHT)
        assert np.asarray(slide.read_region((0, 0), 0, (8, 8))).shape == (8, 8, 3)


def test_auto_reader_choice(slide_paths: dict[str, Path]) -> None:
    with open_slide(slide_paths["dicom"]) as slide:
        assert isinstance(slide, OpenSlideSource)
        assert slide.path == slide_paths["dicom"]
    with open_slide(slide_paths["dicom"], reader="dicom") as slide:
        assert isinstance(slide, DicomSource)
    with open_slide(str(slide_paths["svs"])) as slide:
        assert isinstance(slide, OpenSlideSource)


def test_dicom_directory_ignores_foreign_files(slide_paths: dict[str, Path], tmp_path: Path) -> None:
    series = tmp_path / "mixed"
    shutil.copytree(slide_paths["dicom"], series)
    _write_ct(series / "ct.dcm")
    (series / "README.txt").write_text("scanner export")
    for reader in ("auto", "dicom"):
        with open_slide(series, reader=reader) as slide:  # type: ignore[arg-type]
            assert slide.level_count == 3
