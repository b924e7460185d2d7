"""Describe local whole slide images for submission: size, resolution, media type, CRC32C.

Slides are read through :func:`aignostics_jupyter.slides.open_slide` when the slides package provides it, else
through OpenSlide directly (the one function :func:`_open` to switch). A DICOM directory holds one slide per
pyramid; the file of each pyramid's base level is what gets uploaded (as the official SDK does).

Example:
    >>> from aignostics_jupyter.client import describe_slide
    >>> d = describe_slide("slides/case-1.svs")  # doctest: +SKIP
    >>> d.width, d.height, d.mpp, d.media_type, d.crc32c  # doctest: +SKIP
    (46000, 32914, 0.499, 'application/octet-stream', '64RKKA==')
"""

from __future__ import annotations

import glob
import importlib
import struct
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from aignostics_jupyter.checksums import crc32c_file
from aignostics_jupyter.exceptions import UnsupportedSlideError

__all__ = ["SLIDE_EXTENSIONS", "SlideDescription", "describe_slide", "find_slides", "media_type_for"]

#: File types the platform accepts, with the media type the official SDK sends for each.
SLIDE_EXTENSIONS: dict[str, str] = {
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
    ".svs": "application/octet-stream",
    ".dcm": "application/dicom",
}
_WSI_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.77.1.6"


class SlideDescription(BaseModel):
    """What the platform needs to know about one local slide file."""

    model_config = ConfigDict(frozen=True)

    path: Path
    width: int
    height: int
    mpp: float
    media_type: str
    crc32c: str
    format: str
    size: int


def media_type_for(path: Path) -> str:
    """Return the media type the SDK sends for a slide file (DICOM also without the ``.dcm`` suffix)."""
    suffix = path.suffix.lower()
    if suffix in SLIDE_EXTENSIONS:
        return SLIDE_EXTENSIONS[suffix]
    return "application/dicom" if _is_dicom(path) else "application/octet-stream"


def _is_dicom(path: Path) -> bool:
    try:
        with path.open("rb") as stream:
            stream.seek(128)
            return stream.read(4) == b"DICM"
    except OSError:
        return False


def _open(path: Path) -> tuple[tuple[int, int], tuple[float, float] | None, str]:
    """Open a slide and return ``((width, height), (mpp_x, mpp_y) | None, format)``."""
    slides: Any = importlib.import_module("aignostics_jupyter.slides")
    open_slide = getattr(slides, "open_slide", None)
    if open_slide is not None:
        with open_slide(path) as slide:
            dims = tuple(int(v) for v in slide.dimensions)
            mpp = slide.mpp
            fmt = str(getattr(slide, "format", None) or getattr(slide, "vendor", None) or "unknown")
            return (dims[0], dims[1]), (float(mpp[0]), float(mpp[1])) if mpp else None, fmt
    return _open_with_openslide(path)


def _open_with_openslide(path: Path) -> tuple[tuple[int, int], tuple[float, float] | None, str]:
    import openslide

    try:
        slide = openslide.OpenSlide(str(path))
    except (openslide.OpenSlideError, OSError) as exc:
        msg = f"{path} is not a whole slide image OpenSlide can read ({type(exc).__name__})"
        raise UnsupportedSlideError(msg) from exc
    try:
        props = slide.properties
        mpp_x, mpp_y = props.get(openslide.PROPERTY_NAME_MPP_X), props.get(openslide.PROPERTY_NAME_MPP_Y)
        mpp = (float(mpp_x), float(mpp_y or mpp_x)) if mpp_x else None
        fmt = str(props.get(openslide.PROPERTY_NAME_VENDOR) or "unknown")
        width, height = slide.dimensions
        return (int(width), int(height)), mpp, fmt
    finally:
        slide.close()


def describe_slide(path: str | Path) -> SlideDescription:
    """Describe one slide: base size, mpp, media type, CRC32C (base64) and format.

    Args:
        path: A slide file, or a DICOM directory holding exactly one pyramid.

    Returns:
        The description; ``path`` is the file to upload (for DICOM: the base level's file).

    Raises:
        UnsupportedSlideError: The path does not exist, is not a slide, or has no resolution (mpp).
    """
    slide_path = Path(path).expanduser()
    if not slide_path.exists():
        raise UnsupportedSlideError(f"{slide_path} does not exist")
    if slide_path.is_dir():
        bases = _dicom_bases(slide_path)
        if len(bases) != 1:
            found = f"{len(bases)} DICOM pyramids" if bases else "no DICOM whole slide image"
            raise UnsupportedSlideError(f"{slide_path} is a directory with {found}; name one slide file")
        slide_path = bases[0]
    if slide_path.stat().st_size == 0:
        raise UnsupportedSlideError(f"{slide_path} is empty")
    try:
        (width, height), mpp, fmt = _open(slide_path)
    except UnsupportedSlideError:
        raise
    except Exception as exc:  # the readers raise many types; none may escape
        msg = f"{slide_path} is not a whole slide image we can read ({type(exc).__name__}: {exc})"
        raise UnsupportedSlideError(msg) from exc
    if not mpp or mpp[0] <= 0:
        msg = f"{slide_path} records no resolution (microns per pixel); the platform needs it"
        raise UnsupportedSlideError(msg)
    return SlideDescription(
        path=slide_path.resolve(),
        width=width,
        height=height,
        mpp=mpp[0],
        media_type=media_type_for(slide_path),
        crc32c=crc32c_file(slide_path),
        format=fmt,
        size=slide_path.stat().st_size,
    )


def _dicom_bases(directory: Path) -> list[Path]:
    """Return the base-level file of each DICOM WSI pyramid in a directory (VOLUME images only)."""
    import pydicom
    from pydicom.errors import InvalidDicomError

    best: dict[str, tuple[int, Path]] = {}
    for candidate in sorted(p for p in directory.iterdir() if p.is_file() and _is_dicom(p)):
        try:
            ds = pydicom.dcmread(candidate, stop_before_pixels=True)
        except (InvalidDicomError, OSError, ValueError, struct.error, EOFError):
            continue
        if str(ds.get("SOPClassUID", "")) != _WSI_SOP_CLASS:
            continue
        image_type = [str(v).upper() for v in (ds.get("ImageType") or [])]
        if len(image_type) > 2 and image_type[2] != "VOLUME":
            continue
        group = str(ds.get("PyramidUID") or ds.get("SeriesInstanceUID") or candidate)
        area = int(ds.get("TotalPixelMatrixColumns", 0) or 0) * int(ds.get("TotalPixelMatrixRows", 0) or 0)
        if group not in best or area > best[group][0]:
            best[group] = (area, candidate)
    return [path for _, path in sorted(best.values(), key=lambda entry: str(entry[1]))]


def find_slides(specs: str | Path | Iterable[str | Path]) -> list[Path]:
    """Expand paths, globs and directories into slide files (DICOM directories: each pyramid's base file).

    Args:
        specs: One or more file paths, glob patterns (``**`` recurses) or directories.

    Returns:
        The slide files, in the order given, without duplicates.

    Raises:
        UnsupportedSlideError: A path does not exist or a pattern matches nothing.
    """
    items = [specs] if isinstance(specs, str | Path) else list(specs)
    found: list[Path] = []
    for spec in items:
        text = str(spec)
        if any(ch in text for ch in "*?["):
            matches = sorted(Path(m) for m in glob.glob(str(Path(text).expanduser()), recursive=True))
            if not matches:
                raise UnsupportedSlideError(f"No file matches {text}")
            for match in matches:
                found.extend(_expand(match, strict=False))
        else:
            path = Path(text).expanduser()
            if not path.exists():
                raise UnsupportedSlideError(f"{path} does not exist")
            found.extend(_expand(path, strict=True))
    unique: dict[Path, None] = {}
    for path in found:
        unique.setdefault(path.resolve(), None)
    return list(unique)


def _expand(path: Path, *, strict: bool) -> list[Path]:
    if path.is_file():
        if strict or path.suffix.lower() in SLIDE_EXTENSIONS or _is_dicom(path):
            return [path]
        return []
    if not path.is_dir():
        return []
    bases = _dicom_bases(path)
    files = [p for p in sorted(path.iterdir()) if p.is_file() and p.suffix.lower() in (".tif", ".tiff", ".svs")]
    out = files + bases
    if not out and strict:
        raise UnsupportedSlideError(f"{path} holds no slide files (.tif, .tiff, .svs or DICOM)")
    return out
