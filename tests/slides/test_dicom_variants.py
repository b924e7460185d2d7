"""The pure-pydicom reader on DICOM WSI variants our writer does not produce but scanners do."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import numpy as np
import pydicom
import pytest
from PIL import Image
from pydicom.dataset import Dataset
from pydicom.encaps import encapsulate, generate_frames
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import ExplicitVRLittleEndian, JPEG2000Lossless

from aignostics_jupyter.exceptions import UnsupportedSlideError
from aignostics_jupyter.slides import DicomSource, open_slide
from aignostics_jupyter.slides.source import SlideSourceBase
from aignostics_jupyter.slides.writers import gradient_pattern, write_test_pattern_slide

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def series(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small 2-level series: 600 x 400 base (3 x 2 tiles of 256), 150 x 100 level 1."""
    root = tmp_path_factory.mktemp("dicom-variants")
    return write_test_pattern_slide(root / "base", 600, 400, "dicom", 0.25, smallest_level=200)


def _variant(series: Path, tmp_path: Path, name: str) -> tuple[Path, Dataset, list[bytes]]:
    target = tmp_path / name
    shutil.copytree(series, target)
    ds = pydicom.dcmread(target / "level-0.dcm")
    frames = list(generate_frames(ds.PixelData, number_of_frames=int(ds.NumberOfFrames)))
    return target, ds, frames


def _reference(series: Path) -> np.ndarray:
    with DicomSource(series) as source:
        return np.asarray(source.read_region((0, 0), 0, (600, 400)), dtype=np.int16)


def test_without_basic_offset_table(series: Path, tmp_path: Path) -> None:
    target, ds, frames = _variant(series, tmp_path, "no-bot")
    ds.PixelData = encapsulate(frames, has_bot=False)
    ds.save_as(target / "level-0.dcm")
    with DicomSource(target) as source:
        assert np.array_equal(np.asarray(source.read_region((0, 0), 0, (600, 400)), dtype=np.int16), _reference(series))


def test_uncompressed_frames(series: Path, tmp_path: Path) -> None:
    target, ds, frames = _variant(series, tmp_path, "native")
    raw = b"".join(np.asarray(Image.open(io.BytesIO(f)).convert("RGB")).tobytes() for f in frames)
    ds.PixelData = raw
    ds["PixelData"].VR = "OB"
    ds.PhotometricInterpretation = "RGB"
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.save_as(target / "level-0.dcm", enforce_file_format=True)
    with DicomSource(target) as source:
        region = np.asarray(source.read_region((0, 0), 0, (600, 400)), dtype=np.int16)
    assert np.array_equal(region, _reference(series))


def test_tiled_sparse_with_missing_tiles(series: Path, tmp_path: Path) -> None:
    target, ds, frames = _variant(series, tmp_path, "sparse")
    keep = [0, 2, 4]  # tiles (0,0), (2,0), (1,1); the others are absent (glass)
    per_frame = []
    for index in keep:
        col, row = index % 3, index // 3
        position = Dataset()
        position.ColumnPositionInTotalImagePixelMatrix = col * 256 + 1
        position.RowPositionInTotalImagePixelMatrix = row * 256 + 1
        item = Dataset()
        item.PlanePositionSlideSequence = DicomSequence([position])
        per_frame.append(item)
    ds.PerFrameFunctionalGroupsSequence = DicomSequence(per_frame)
    ds.DimensionOrganizationType = "TILED_SPARSE"
    ds.NumberOfFrames = len(keep)
    ds.PixelData = encapsulate([frames[i] for i in keep], has_bot=True)
    ds.save_as(target / "level-0.dcm")
    reference = _reference(series)
    with DicomSource(target) as source:
        region = np.asarray(source.read_region((0, 0), 0, (600, 400)), dtype=np.int16)
    assert np.array_equal(region[:256, :256], reference[:256, :256])
    assert np.array_equal(region[256:, 256:512], reference[256:, 256:512])
    assert (region[:256, 256:512] == 255).all()  # missing tile: white
    assert (region[256:, :256] == 255).all()


def test_jpeg2000_frames(series: Path, tmp_path: Path) -> None:
    target, ds, frames = _variant(series, tmp_path, "j2k")
    encoded = []
    for frame in frames:
        out = io.BytesIO()
        Image.open(io.BytesIO(frame)).convert("RGB").save(out, "JPEG2000", irreversible=False, no_jp2=True)
        encoded.append(out.getvalue())
    ds.PixelData = encapsulate(encoded, has_bot=True)
    ds.PhotometricInterpretation = "RGB"
    ds.file_meta.TransferSyntaxUID = JPEG2000Lossless
    ds.save_as(target / "level-0.dcm")
    with DicomSource(target) as source:
        region = np.asarray(source.read_region((0, 0), 0, (600, 400)), dtype=np.int16)
    assert np.abs(region - _reference(series)).max() <= 1


def test_undecodable_syntax_and_damaged_frames(series: Path, tmp_path: Path) -> None:
    target, ds, frames = _variant(series, tmp_path, "rle")
    ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.5"  # RLE lossless
    ds.save_as(target / "level-0.dcm")
    with pytest.raises(UnsupportedSlideError, match=r"level-0\.dcm uses transfer syntax 1\.2\.840\.10008\.1\.2\.5"):
        DicomSource(target)
    target, ds, frames = _variant(series, tmp_path, "garbage")
    ds.PixelData = encapsulate([b"\xff\xd8garbage" for _ in frames], has_bot=True)
    ds.save_as(target / "level-0.dcm")
    with DicomSource(target) as source, pytest.raises(UnsupportedSlideError, match="could not be decoded"):
        source.read_region((0, 0), 0, (10, 10))
    with pytest.raises(UnsupportedSlideError, match="damaged or truncated"):
        open_slide(target, reader="dicom")


def test_thumbnail_of_an_incomplete_pyramid_is_built_in_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_test_pattern_slide(tmp_path / "flat.tiff", 1200, 900, "tiff", 0.5, smallest_level=5000)
    monkeypatch.setattr("aignostics_jupyter.slides.source._THUMBNAIL_CHUNK", 256)
    with open_slide(path) as source:
        assert source.level_count == 1
        chunked = np.asarray(source.thumbnail(300), dtype=np.int16)
        whole = np.asarray(source.read_region((0, 0), 0, (1200, 900)).resize((300, 225)), dtype=np.int16)
    assert chunked.shape == (225, 300, 3)
    assert np.abs(chunked - whole).mean() < 3


def test_base_class_needs_a_reader() -> None:
    with pytest.raises(NotImplementedError):
        SlideSourceBase()._read_level_region((0, 0), 0, (1, 1))
    with pytest.raises(NotImplementedError):
        SlideSourceBase().close()


@pytest.mark.parametrize("reader", ["dicom", "openslide"])
def test_extended_offset_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reader: str) -> None:
    # Pretend 4 GiB is 1 KiB so the writer switches to the Extended Offset Table, as for a huge level.
    monkeypatch.setattr("aignostics_jupyter.slides._write_dicom._BOT_LIMIT", 1024)
    path = write_test_pattern_slide(tmp_path / "eot", 600, 400, "dicom", 0.25, smallest_level=200)
    ds = pydicom.dcmread(path / "level-0.dcm", stop_before_pixels=True)
    assert "ExtendedOffsetTable" in ds
    with open_slide(path, reader=reader) as source:  # type: ignore[arg-type]
        region = np.asarray(source.read_region((300, 200), 0, (256, 200)), dtype=np.int16)
    expected = gradient_pattern(600, 400)(1.0, 300, 200, 256, 200).astype(np.int16)
    assert np.abs(region - expected).mean() < 2
