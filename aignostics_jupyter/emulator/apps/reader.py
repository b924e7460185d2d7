"""Open and check an input slide for analysis, and read its pixels at the resolutions the analysis needs.

Every OpenSlide failure is translated here, once, into :class:`ItemUserError`: a file OpenSlide cannot open
or read (empty, truncated, not a slide) is the user's input problem, not a platform fault.
"""

from __future__ import annotations

import math
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import openslide
from numpy.typing import NDArray
from PIL import Image

from aignostics_jupyter.checksums import crc32c_file
from aignostics_jupyter.emulator.apps.errors import ItemUserError

__all__ = ["MAX_SIDE_PX", "MPP_RANGE", "AnalysisSlide", "open_analysis_slide", "slide_mpp"]

MPP_RANGE = (0.08, 1.2)
MAX_SIDE_PX = 150_000
_MAX_PIXELS = 120_000 * 120_000
_MPP_KEYS = ("resolution_mpp", "mpp", "base_mpp")


def slide_mpp(metadata: Mapping[str, Any]) -> float:
    """The base resolution (µm/px) from the input artifact's metadata, checked against :data:`MPP_RANGE`.

    Raises:
        ItemUserError: ``MPP_MISSING`` or ``MPP_OUT_OF_RANGE``.
    """
    raw = next((metadata[k] for k in _MPP_KEYS if metadata.get(k) is not None), None)
    if raw is None:
        raise ItemUserError("MPP_MISSING", "The slide's metadata has no resolution_mpp (microns per pixel).")
    try:
        mpp = float(raw)
    except (TypeError, ValueError):
        raise ItemUserError("MPP_MISSING", f"The slide's resolution_mpp {raw!r} is not a number.") from None
    low, high = MPP_RANGE
    if not (math.isfinite(mpp) and low <= mpp <= high):
        raise ItemUserError(
            "MPP_OUT_OF_RANGE", f"The slide's resolution_mpp {mpp} is out of the supported range {low}..{high} µm/px."
        )
    return mpp


def _slide_file(path: Path, scratch: Path) -> Path:
    """The file to give OpenSlide: the path itself, a DICOM file of a series directory, or an unzipped DICOM."""
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
        if not files:
            raise ItemUserError("UNSUPPORTED_SLIDE", f"The directory {path.name} holds no slide file.")
        return files[0]
    if not path.is_file():
        raise ItemUserError("SLIDE_NOT_FOUND", f"The slide file {path.name} does not exist.")
    if path.stat().st_size == 0:
        raise ItemUserError("EMPTY_FILE", f"The slide file {path.name} is empty (0 bytes).")
    if zipfile.is_zipfile(path):
        target = scratch / "unzipped"
        try:
            with zipfile.ZipFile(path) as archive:
                members = [m for m in archive.infolist() if not m.is_dir() and ".." not in Path(m.filename).parts]
                for member in members:
                    archive.extract(member, target)
        except (zipfile.BadZipFile, OSError) as exc:
            raise ItemUserError("UNSUPPORTED_SLIDE", f"The zip file {path.name} cannot be extracted: {exc}.") from exc
        files = sorted(p for p in target.rglob("*") if p.is_file())
        if not files:
            raise ItemUserError("UNSUPPORTED_SLIDE", f"The zip file {path.name} is empty.")
        return files[0]
    return path


def _as_number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


class AnalysisSlide:
    """An opened, checked slide: base size, mpp and region reads as uint8 RGB (white where transparent)."""

    def __init__(self, handle: openslide.OpenSlide, name: str, mpp: float) -> None:
        self._handle = handle
        self.name = name
        self.mpp = mpp
        self.width, self.height = (int(v) for v in handle.dimensions)
        self.level_downsamples = [float(d) for d in handle.level_downsamples]

    def close(self) -> None:
        """Release the OpenSlide handle."""
        self._handle.close()

    def read_base(self, l0_x: int, l0_y: int, width: int, height: int) -> NDArray[np.uint8]:
        """Base-level RGB pixels of a rectangle (parts outside the slide come back white)."""
        return self._read(0, l0_x, l0_y, width, height)

    def _read(self, level: int, l0_x: int, l0_y: int, width: int, height: int) -> NDArray[np.uint8]:
        try:
            rgba = np.asarray(self._handle.read_region((l0_x, l0_y), level, (width, height)))
        except openslide.OpenSlideError as exc:
            raise ItemUserError("SLIDE_UNREADABLE", f"The slide {self.name} cannot be read (damaged?): {exc}.") from exc
        rgb = rgba[..., :3].copy()
        rgb[rgba[..., 3] == 0] = 255
        return rgb

    def read_downsampled(self, downsample: int, chunk: int = 2048) -> NDArray[np.uint8]:
        """The whole slide at an integer downsample, read in chunks from the best pyramid level.

        Args:
            downsample: Base pixels per output pixel.
            chunk: Chunk edge in level pixels.

        Returns:
            RGB ``(ceil(height / downsample), ceil(width / downsample), 3)``; each pixel is the mean of its
            block.
        """
        out_w, out_h = math.ceil(self.width / downsample), math.ceil(self.height / downsample)
        level = 0
        for index, level_ds in enumerate(self.level_downsamples):
            if level_ds <= downsample * 1.001:
                level = index
        factor = downsample / self.level_downsamples[level]
        whole = abs(factor - round(factor)) < 1e-3
        result = np.empty((out_h, out_w, 3), dtype=np.uint8)
        o_step = max(1, int(chunk // factor))
        for o_y in range(0, out_h, o_step):
            for o_x in range(0, out_w, o_step):
                o_w, o_h = min(o_step, out_w - o_x), min(o_step, out_h - o_y)
                l_w, l_h = max(1, round(o_w * factor)), max(1, round(o_h * factor))
                pixels = self._read(level, round(o_x * downsample), round(o_y * downsample), l_w, l_h)
                if whole:
                    f = round(factor)
                    block = pixels.astype(np.float32).reshape(o_h, f, o_w, f, 3).mean(axis=(1, 3))
                    pixels = np.clip(block + 0.5, 0, 255).astype(np.uint8)
                else:
                    pixels = np.asarray(Image.fromarray(pixels).resize((o_w, o_h), Image.Resampling.BOX))
                result[o_y : o_y + o_h, o_x : o_x + o_w] = pixels
        return result


def open_analysis_slide(path: Path, metadata: Mapping[str, Any], scratch: Path) -> AnalysisSlide:
    """Open a slide for analysis after checking the file and its metadata.

    Args:
        path: The slide file, a DICOM series directory, or a zip of a DICOM series.
        metadata: The input artifact's metadata (``resolution_mpp``, optionally ``width_px``, ``height_px``,
            ``checksum_base64_crc32c``).
        scratch: A directory for unpacked files.

    Returns:
        The opened slide.

    Raises:
        ItemUserError: On a missing, empty, unreadable or oversized slide, bad mpp, or metadata that does
            not match the file.
    """
    mpp = slide_mpp(metadata)
    path = Path(path)
    target = _slide_file(path, scratch)
    expected = metadata.get("checksum_base64_crc32c")
    if expected and path.is_file() and crc32c_file(path) != expected:
        raise ItemUserError(
            "CHECKSUM_MISMATCH", f"The slide file {path.name} does not match its checksum_base64_crc32c {expected}."
        )
    try:
        handle = openslide.OpenSlide(target)
    except openslide.OpenSlideUnsupportedFormatError as exc:
        raise ItemUserError(
            "UNSUPPORTED_SLIDE", f"The file {path.name} is not a whole slide image in a supported format."
        ) from exc
    except (openslide.OpenSlideError, OSError, Image.DecompressionBombError) as exc:
        raise ItemUserError("SLIDE_UNREADABLE", f"The slide {path.name} cannot be opened (damaged?): {exc}.") from exc
    slide = AnalysisSlide(handle, path.name, mpp)
    if max(slide.width, slide.height) > MAX_SIDE_PX or slide.width * slide.height > _MAX_PIXELS:
        slide.close()
        raise ItemUserError(
            "SLIDE_TOO_LARGE",
            f"The slide is {slide.width}x{slide.height} px; at most {MAX_SIDE_PX} px a side is supported.",
        )
    for key, actual in (("width_px", slide.width), ("height_px", slide.height)):
        given = metadata.get(key)
        if given is not None and _as_number(given) != actual:
            slide.close()
            raise ItemUserError("METADATA_MISMATCH", f"The metadata says {key}={given}, but the slide has {actual}.")
    return slide
