"""Find the instances of a DICOM WSI series and index where each frame's bytes lie in its file.

Pure pydicom: only headers are parsed (``stop_before_pixels``); pixel data is located by walking the
encapsulation items, so a frame is later read with one ``pread`` and no full-file load.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.uid import UID

from aignostics_jupyter.exceptions import UnsupportedSlideError

WSI_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.77.1.6"
_DICM_OFFSET = 128
_ITEM = 0xE000FFFE  # (FFFE,E000) read as little-endian uint32
_SEQUENCE_END = 0xE0DDFFFE  # (FFFE,E0DD)
_PIXEL_DATA = 0x00107FE0  # (7FE0,0010)
_NATIVE_SYNTAXES = {"1.2.840.10008.1.2", "1.2.840.10008.1.2.1"}
DECODABLE_SYNTAXES = {
    "1.2.840.10008.1.2.4.50",  # JPEG baseline
    "1.2.840.10008.1.2.4.51",  # JPEG extended
    "1.2.840.10008.1.2.4.90",  # JPEG 2000 lossless
    "1.2.840.10008.1.2.4.91",  # JPEG 2000
    *_NATIVE_SYNTAXES,
}


def is_dicom_file(path: Path) -> bool:
    """Whether the file carries the DICOM Part 10 preamble marker ``DICM``."""
    try:
        with path.open("rb") as f:
            f.seek(_DICM_OFFSET)
            return f.read(4) == b"DICM"
    except OSError:
        return False


def read_header(path: Path) -> Dataset:
    """The dataset of a DICOM file without its pixel data.

    Raises:
        UnsupportedSlideError: When the file is not readable DICOM.
    """
    try:
        return pydicom.dcmread(path, stop_before_pixels=True)
    except (InvalidDicomError, OSError, ValueError, struct.error, EOFError) as exc:
        msg = f"{path.name} is not a readable DICOM file: {exc}"
        raise UnsupportedSlideError(msg) from exc


def image_kind(ds: Dataset) -> str:
    """The third value of ImageType (``VOLUME``, ``LABEL``, ``OVERVIEW``, ``THUMBNAIL``, …), or ``VOLUME``."""
    image_type = list(ds.get("ImageType", []) or [])
    return str(image_type[2]).upper() if len(image_type) > 2 else "VOLUME"


@dataclass
class DicomInstance:
    """One instance of a WSI series with what is needed to read its frames.

    Attributes:
        path: The file.
        header: Its dataset without pixel data.
        kind: ``VOLUME``, ``LABEL``, ``OVERVIEW`` or ``THUMBNAIL``.
        width: TotalPixelMatrixColumns.
        height: TotalPixelMatrixRows.
        tile_width: Columns (frame width).
        tile_height: Rows (frame height).
        transfer_syntax: The transfer syntax UID.
        frames: Per frame, the ``(file offset, length)`` pieces whose concatenation is the frame's bytes.
        tile_frames: Tile ``(column, row)`` → frame index (all tiles for TILED_FULL, present ones for sparse).
    """

    path: Path
    header: Dataset
    kind: str
    width: int
    height: int
    tile_width: int
    tile_height: int
    transfer_syntax: str
    frames: list[list[tuple[int, int]]] = field(default_factory=list)
    tile_frames: dict[tuple[int, int], int] = field(default_factory=dict)

    @property
    def native(self) -> bool:
        """Whether frames are uncompressed pixels."""
        return self.transfer_syntax in _NATIVE_SYNTAXES

    @property
    def photometric(self) -> str:
        """PhotometricInterpretation."""
        return str(self.header.get("PhotometricInterpretation", "RGB"))


def describe(path: Path, ds: Dataset) -> DicomInstance:
    """Build the :class:`DicomInstance` of a WSI file: geometry from the header, frame index from the file.

    Raises:
        UnsupportedSlideError: For a transfer syntax we cannot decode, or a damaged/truncated pixel data.
    """
    syntax = str(ds.file_meta.get("TransferSyntaxUID", ""))
    if syntax not in DECODABLE_SYNTAXES:
        msg = f"{path.name} uses transfer syntax {syntax or 'none'}, which this reader cannot decode."
        raise UnsupportedSlideError(msg)
    try:
        tile_w, tile_h = int(ds.Columns), int(ds.Rows)
        width = int(ds.get("TotalPixelMatrixColumns", tile_w))
        height = int(ds.get("TotalPixelMatrixRows", tile_h))
        n_frames = int(ds.get("NumberOfFrames", 1) or 1)
    except (AttributeError, TypeError, ValueError) as exc:
        msg = f"{path.name} lacks the image geometry of a whole slide image: {exc}"
        raise UnsupportedSlideError(msg) from exc
    instance = DicomInstance(path, ds, image_kind(ds), width, height, tile_w, tile_h, syntax)
    with path.open("rb") as f:
        file_size = os.fstat(f.fileno()).st_size
        position = _pixel_data_position(f, path)
        if instance.native:
            frame_bytes = tile_w * tile_h * int(ds.get("SamplesPerPixel", 3))
            start = position + (8 if ds.file_meta.TransferSyntaxUID.is_implicit_VR else 12)
            instance.frames = [[(start + i * frame_bytes, frame_bytes)] for i in range(n_frames)]
            end = start + n_frames * frame_bytes
        else:
            instance.frames = _encapsulated_frames(f, path, position, n_frames, ds)
            end = max((off + length for pieces in instance.frames for off, length in pieces), default=0)
    if end > file_size:
        msg = f"{path.name} is truncated: its pixel data ends {end - file_size} bytes beyond the end of the file."
        raise UnsupportedSlideError(msg)
    instance.tile_frames = _tile_frames(ds, instance, n_frames)
    return instance


def _pixel_data_position(f: BinaryIO, path: Path) -> int:
    """File offset of the top-level Pixel Data element's tag."""
    try:
        pydicom.dcmread(f, stop_before_pixels=True)
    except (InvalidDicomError, ValueError, struct.error, EOFError) as exc:
        msg = f"{path.name} is not a readable DICOM file: {exc}"
        raise UnsupportedSlideError(msg) from exc
    position = f.tell()
    tag = f.read(4)
    if len(tag) < 4 or struct.unpack("<I", tag)[0] != _PIXEL_DATA:
        msg = f"{path.name} has no pixel data (the file may be truncated)."
        raise UnsupportedSlideError(msg)
    return position


def _read_exact(f: BinaryIO, n: int, path: Path) -> bytes:
    data = f.read(n)
    if len(data) != n:
        msg = f"{path.name} is truncated inside its pixel data."
        raise UnsupportedSlideError(msg)
    return data


def _encapsulated_frames(
    f: BinaryIO, path: Path, position: int, n_frames: int, ds: Dataset
) -> list[list[tuple[int, int]]]:
    """Walk the items of encapsulated pixel data and group the fragments into frames."""
    f.seek(position + 12)  # tag, VR, reserved, undefined length
    tag, length = struct.unpack("<II", _read_exact(f, 8, path))
    if tag != _ITEM:
        msg = f"{path.name} has pixel data that is not encapsulated as its transfer syntax requires."
        raise UnsupportedSlideError(msg)
    offsets = list(struct.unpack(f"<{length // 4}I", _read_exact(f, length, path)))
    first_item = f.tell()
    if "ExtendedOffsetTable" in ds and "ExtendedOffsetTableLengths" in ds:
        starts = struct.unpack(f"<{n_frames}Q", ds.ExtendedOffsetTable)
        lengths = struct.unpack(f"<{n_frames}Q", ds.ExtendedOffsetTableLengths)
        return [[(first_item + s + 8, n)] for s, n in zip(starts, lengths, strict=True)]
    fragments: list[tuple[int, int, int]] = []  # (offset from first item, data offset, data length)
    while True:
        item_at = f.tell()
        tag, length = struct.unpack("<II", _read_exact(f, 8, path))
        if tag == _SEQUENCE_END:
            break
        if tag != _ITEM:
            msg = f"{path.name} has damaged pixel data (unexpected tag at byte {item_at})."
            raise UnsupportedSlideError(msg)
        fragments.append((item_at - first_item, item_at + 8, length))
        f.seek(length, os.SEEK_CUR)
        if len(fragments) > 64 * n_frames + 64:
            msg = f"{path.name} has more pixel data fragments than a frame index can map."
            raise UnsupportedSlideError(msg)
    if offsets and len(offsets) == n_frames:
        frames: list[list[tuple[int, int]]] = [[] for _ in range(n_frames)]
        bounds = [*offsets[1:], 2**63]
        index = 0
        for rel, data_at, length in fragments:
            while rel >= bounds[index]:
                index += 1
            frames[index].append((data_at, length))
        return frames
    if len(fragments) == n_frames:
        return [[(data_at, length)] for _, data_at, length in fragments]
    if n_frames == 1:
        return [[(data_at, length) for _, data_at, length in fragments]]
    msg = f"{path.name} has {len(fragments)} fragments for {n_frames} frames and no offset table to map them."
    raise UnsupportedSlideError(msg)


def _tile_frames(ds: Dataset, instance: DicomInstance, n_frames: int) -> dict[tuple[int, int], int]:
    """Tile position → frame index, for TILED_FULL (implicit order) or from per-frame plane positions."""
    across = -(-instance.width // instance.tile_width)
    down = -(-instance.height // instance.tile_height)
    per_frame = ds.get("PerFrameFunctionalGroupsSequence")
    if str(ds.get("DimensionOrganizationType", "TILED_FULL")) != "TILED_SPARSE" or not per_frame:
        # TILED_FULL: row-major; extra frames (further focal planes or optical paths) are ignored.
        return {(i % across, i // across): i for i in range(min(n_frames, across * down))}
    mapping: dict[tuple[int, int], int] = {}
    for index, item in enumerate(per_frame):
        try:
            plane = item.PlanePositionSlideSequence[0]
            col = (int(plane.ColumnPositionInTotalImagePixelMatrix) - 1) // instance.tile_width
            row = (int(plane.RowPositionInTotalImagePixelMatrix) - 1) // instance.tile_height
        except (AttributeError, IndexError, ValueError):
            continue
        mapping.setdefault((col, row), index)
    return mapping


def series_headers(path: Path) -> list[tuple[Path, Dataset]]:
    """Headers of the WSI files of the series that ``path`` (a file of it, or a directory holding it) belongs to.

    For a directory the series with the largest VOLUME instance is chosen; other DICOM files are skipped.

    Raises:
        UnsupportedSlideError: When there is no WSI instance, or the named file is DICOM but not WSI.
    """
    if path.is_dir():
        candidates = sorted(p for p in path.iterdir() if p.is_file() and is_dicom_file(p))
        series_uid = None
    else:
        header = read_header(path)
        check_wsi(path, header)
        candidates = sorted(p for p in path.parent.iterdir() if p.is_file() and is_dicom_file(p))
        series_uid = str(header.get("SeriesInstanceUID", ""))
    headers: list[tuple[Path, Dataset]] = []
    for candidate in candidates:
        try:
            ds = read_header(candidate)
        except UnsupportedSlideError:
            continue
        if str(ds.get("SOPClassUID", "")) == WSI_SOP_CLASS:
            headers.append((candidate, ds))
    if series_uid is None:
        volumes = [(p, ds) for p, ds in headers if image_kind(ds) == "VOLUME"]
        if not volumes:
            msg = f"{path.name} is a directory without DICOM whole slide image (VL WSI VOLUME) files."
            raise UnsupportedSlideError(msg)
        _, base = max(volumes, key=lambda item: _area(item[1]))
        series_uid = str(base.get("SeriesInstanceUID", ""))
    return [(p, ds) for p, ds in headers if str(ds.get("SeriesInstanceUID", "")) == series_uid]


def base_volume_file(headers: list[tuple[Path, Dataset]]) -> Path | None:
    """The file of the largest VOLUME instance among the headers, if any."""
    volumes = [(p, ds) for p, ds in headers if image_kind(ds) == "VOLUME"]
    return max(volumes, key=lambda item: _area(item[1]))[0] if volumes else None


def find_series(path: Path) -> list[DicomInstance]:
    """Every WSI instance of the series at ``path``, with its frame index (see :func:`series_headers`).

    Raises:
        UnsupportedSlideError: When there is no WSI instance or one is damaged.
    """
    return [describe(p, ds) for p, ds in series_headers(path)]


def _area(ds: Dataset) -> int:
    return int(ds.get("TotalPixelMatrixColumns", 0) or 0) * int(ds.get("TotalPixelMatrixRows", 0) or 0)


def check_wsi(path: Path, ds: Dataset) -> None:
    """Raise :class:`UnsupportedSlideError` unless the dataset is a VL Whole Slide Microscopy image."""
    sop_class = str(ds.get("SOPClassUID", ""))
    if sop_class != WSI_SOP_CLASS:
        name = UID(sop_class).name if sop_class else "missing"
        msg = f"{path.name} is a DICOM file but not a whole slide image (SOP class {name})."
        raise UnsupportedSlideError(msg)


def flatten(ds: Dataset, prefix: str = "dicom.", depth: int = 3) -> dict[str, str]:
    """DICOM attributes as ``dicom.Keyword``/``dicom.Seq[0].Keyword``/``dicom.Multi[1]`` strings, like OpenSlide.

    Binary values, pixel data and private tags are left out.
    """
    out: dict[str, str] = {}
    for element in ds:
        keyword = element.keyword
        if not keyword or element.VR in ("OB", "OW", "OF", "OD", "OL", "OV", "UN") or keyword == "PixelData":
            continue
        key = prefix + keyword
        value: Any = element.value
        if element.VR == "SQ":
            if depth > 0:
                for i, item in enumerate(value):
                    out.update(flatten(item, f"{key}[{i}].", depth - 1))
        elif isinstance(value, list | tuple) or type(value).__name__ == "MultiValue":
            for i, item in enumerate(value):
                out[f"{key}[{i}]"] = str(item)
        else:
            out[key] = "" if value is None else str(value)
    return out
