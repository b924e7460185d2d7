"""Open any supported whole slide image with the right reader, or say in one sentence why not.

Example:
    >>> from aignostics_jupyter.slides import open_slide
    >>> with open_slide(Path("slide.svs")) as slide:  # doctest: +SKIP
    ...     print(slide.vendor, slide.dimensions, slide.mpp)
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import openslide

from aignostics_jupyter.exceptions import UnsupportedSlideError
from aignostics_jupyter.slides._dicom_series import base_volume_file, check_wsi, is_dicom_file, read_header
from aignostics_jupyter.slides._dicom_series import series_headers as dicom_series_headers
from aignostics_jupyter.slides.dicom_source import DicomSource
from aignostics_jupyter.slides.openslide_source import OpenSlideSource
from aignostics_jupyter.slides.source import SlideSource

__all__ = ["Reader", "open_slide", "sniff"]

Reader = Literal["auto", "openslide", "dicom"]

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (unpack it first)"),
    (b"\x1f\x8b", "a gzip archive (unpack it first)"),
    (b"II*\x00", "a TIFF file"),
    (b"MM\x00*", "a TIFF file"),
    (b"II+\x00", "a BigTIFF file"),
    (b"MM\x00+", "a BigTIFF file"),
)


def sniff(head: bytes) -> str:
    """Name the kind of file from its first bytes, for error messages.

    Args:
        head: The first few hundred bytes of the file.

    Returns:
        A phrase such as ``"a PNG image"``, ``"a text file"`` or ``"an unknown kind of file"``.
    """
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if len(head) >= 132 and head[128:132] == b"DICM":
        return "a DICOM file"
    if b"\x00" not in head:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            return "a text file"
    return "an unknown kind of file"


def tiff_problem(path: Path) -> str | None:
    """Check a TIFF's structure: every directory readable and all image data inside the file.

    Args:
        path: A file starting with a TIFF or BigTIFF header.

    Returns:
        None when the structure is sound, else the problem as a phrase (``"is truncated: …"``).
    """
    import tifffile

    size = path.stat().st_size
    try:
        with tifffile.TiffFile(path) as tif:
            for index, page in enumerate(tif.pages):
                offsets = page.dataoffsets
                counts = page.databytecounts
                end = max((o + c for o, c in zip(offsets, counts, strict=False)), default=0)
                if end > size:
                    return f"is truncated: image {index} ends {end - size} bytes beyond the end of the file"
    except (tifffile.TiffFileError, OSError, ValueError, IndexError, KeyError) as exc:
        return f"is a damaged or truncated TIFF file ({exc})"
    return None


def _open_dicom(path: Path, reader: Reader) -> SlideSource:
    if reader == "dicom":
        return _validated(DicomSource(path))
    if path.is_file():
        check_wsi(path, read_header(path))
        target: Path | None = path
    else:
        target = base_volume_file(dicom_series_headers(path))
    if target is not None:
        try:
            return _validated(OpenSlideSource(target, opened_as=path))
        except UnsupportedSlideError:
            if reader == "openslide":
                raise
    # OpenSlide could not open this series: our own reader may.
    return _validated(DicomSource(path))


def _validated(source: SlideSource) -> SlideSource:
    """Read the last tile of every level so damaged or truncated files fail now, not in the viewer."""
    try:
        tile_w, tile_h = source.tile_size
        for level, (l_w, l_h) in enumerate(source.level_dimensions):
            downsample = source.level_downsamples[level]
            l_x, l_y = max(0, l_w - tile_w), max(0, l_h - tile_h)
            l0_location = (int(l_x * downsample), int(l_y * downsample))
            source.read_region(l0_location, level, (min(tile_w, l_w), min(tile_h, l_h)))
    except UnsupportedSlideError as exc:
        source.close()
        msg = f"{source.path.name} is damaged or truncated: {exc.message}"
        raise UnsupportedSlideError(msg) from exc
    return source


def open_slide(path: str | Path, *, reader: Reader = "auto") -> SlideSource:
    """Open a whole slide image with the reader that fits it.

    OpenSlide reads SVS, generic and pyramidal TIFF, NDPI, MIRAX and DICOM; a DICOM series (a directory, or
    any file of it) that OpenSlide cannot open is read with :class:`DicomSource`. The last tile of every level
    is read once, so damaged files fail here.

    Args:
        path: A slide file, or a directory holding one DICOM WSI series.
        reader: ``auto``; or force ``openslide`` or ``dicom`` (the pure-pydicom reader, DICOM only).

    Returns:
        An open :class:`SlideSource`; close it (or use ``with``).

    Raises:
        UnsupportedSlideError: One sentence naming the file and the problem: missing, empty, truncated,
            not a slide (text, PNG, …), an unknown format, or DICOM that is not a whole slide image.
    """
    path = Path(path)
    if not path.exists():
        msg = f"{path.name or path} does not exist ({path})."
        raise UnsupportedSlideError(msg)
    if path.is_dir():
        return _open_dicom(path, reader)
    try:
        with path.open("rb") as f:
            head = f.read(512)
    except OSError as exc:
        msg = f"{path.name} could not be read: {exc.strerror or exc}."
        raise UnsupportedSlideError(msg) from exc
    if not head:
        msg = f"{path.name} is empty (0 bytes)."
        raise UnsupportedSlideError(msg)
    if is_dicom_file(path):
        return _open_dicom(path, reader)
    kind = sniff(head)
    if "TIFF" in kind:
        problem = tiff_problem(path)
        if problem:
            msg = f"{path.name} {problem}."
            raise UnsupportedSlideError(msg)
    if reader == "dicom":
        msg = f"{path.name} is {kind}, not DICOM, so the DICOM reader cannot open it."
        raise UnsupportedSlideError(msg)
    try:
        detected = openslide.OpenSlide.detect_format(path)
    except openslide.OpenSlideError:
        detected = None
    if detected is None:
        if "TIFF" in kind:
            msg = f"{path.name} is {kind} but not a tiled, pyramidal whole slide image."
        else:
            msg = f"{path.name} is {kind}, not a whole slide image in a format OpenSlide reads."
        raise UnsupportedSlideError(msg)
    return _validated(OpenSlideSource(path))
