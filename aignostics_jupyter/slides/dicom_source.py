"""A pure-pydicom :class:`~aignostics_jupyter.slides.source.SlideSource` for DICOM VL Whole Slide Microscopy.

Used where OpenSlide cannot open a series (or to cross-check it). Frames are located once per instance
(see :mod:`aignostics_jupyter.slides._dicom_series`), read with ``os.pread`` (thread-safe, no seek) and
decoded with Pillow (JPEG, JPEG 2000) or taken as raw pixels; recently decoded tiles are kept in a small LRU.
"""

from __future__ import annotations

import io
import math
import os
import threading
from collections import OrderedDict
from collections.abc import Mapping
from functools import partial
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from aignostics_jupyter.exceptions import InvalidInputError, UnsupportedSlideError
from aignostics_jupyter.slides._dicom_series import DicomInstance, find_series, flatten
from aignostics_jupyter.slides.source import LazyImages, SlideSourceBase, file_signature

__all__ = ["DicomSource"]

_ASSOCIATED = {"LABEL": "label", "OVERVIEW": "macro", "THUMBNAIL": "thumbnail"}
_TILE_CACHE_TILES = 64
_WHITE = (255, 255, 255)


def _float(value: object) -> float | None:
    try:
        result = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return result if result > 0 else None


def _mpp(base: DicomInstance) -> tuple[float, float] | None:
    """Microns per pixel from PixelSpacing (mm, row then column), else from the imaged volume size."""
    ds = base.header
    try:
        spacing = ds.SharedFunctionalGroupsSequence[0].PixelMeasuresSequence[0].PixelSpacing
        mpp_y, mpp_x = _float(spacing[0]), _float(spacing[1])
        if mpp_x and mpp_y:
            return mpp_x * 1000, mpp_y * 1000
    except (AttributeError, IndexError, KeyError):
        pass
    width_mm, height_mm = _float(ds.get("ImagedVolumeWidth")), _float(ds.get("ImagedVolumeHeight"))
    if width_mm and height_mm:
        return width_mm * 1000 / base.width, height_mm * 1000 / base.height
    return None


def _objective(base: DicomInstance) -> float | None:
    try:
        return _float(base.header.OpticalPathSequence[0].ObjectiveLensPower)
    except (AttributeError, IndexError):
        return None


class DicomSource(SlideSourceBase):
    """A DICOM WSI series read with pydicom and Pillow.

    Args:
        path: A directory holding the series, or any file of it.

    Raises:
        UnsupportedSlideError: When there is no readable WSI series there.
    """

    def __init__(self, path: Path) -> None:
        self._path = Path(path)
        try:
            self._signature = file_signature(self._path)
        except OSError as exc:
            msg = f"{self._path.name} could not be opened: {exc.strerror or exc}."
            raise UnsupportedSlideError(msg) from exc
        instances = find_series(self._path)
        volumes: dict[tuple[int, int], DicomInstance] = {}
        for instance in sorted(instances, key=lambda i: -i.width * i.height):
            if instance.kind == "VOLUME":
                volumes.setdefault((instance.width, instance.height), instance)
        if not volumes:
            msg = f"{self._path.name} holds no VOLUME instance of a DICOM whole slide image."
            raise UnsupportedSlideError(msg)
        self._levels = list(volumes.values())
        base = self._levels[0]
        self._level_dimensions = tuple((v.width, v.height) for v in self._levels)
        # OpenSlide's convention: the mean of the horizontal and vertical size ratios.
        self._level_downsamples = tuple(0.5 * (base.width / v.width + base.height / v.height) for v in self._levels)
        self._mpp = _mpp(base)
        self._objective = _objective(base)
        self._properties = flatten(base.header)
        associated = {}
        for instance in instances:
            name = _ASSOCIATED.get(instance.kind)
            if name and name not in associated:
                associated[name] = instance
        self._associated = LazyImages({n: partial(self._load_whole, i) for n, i in associated.items()})
        self._fds: dict[Path, int] = {}
        self._lock = threading.Lock()
        self._tiles: OrderedDict[tuple[int, int, int], Image.Image] = OrderedDict()
        self._closed = False

    @property
    def format(self) -> str:
        """Always ``dicom``."""
        return "dicom"

    @property
    def vendor(self) -> str:
        """Always ``dicom`` (as OpenSlide names it)."""
        return "dicom"

    @property
    def mpp(self) -> tuple[float, float] | None:
        """Microns per base pixel from PixelSpacing."""
        return self._mpp

    @property
    def objective_power(self) -> float | None:
        """ObjectiveLensPower of the first optical path."""
        return self._objective

    @property
    def tile_size(self) -> tuple[int, int]:
        """Frame size of the base level."""
        return self._levels[0].tile_width, self._levels[0].tile_height

    @property
    def properties(self) -> Mapping[str, str]:
        """The base instance's attributes as ``dicom.*`` strings (OpenSlide's naming)."""
        return self._properties

    @property
    def associated_images(self) -> Mapping[str, Image.Image]:
        """``label``, ``macro`` (OVERVIEW) and ``thumbnail`` instances, loaded on first access."""
        return self._associated

    # ------------------------------------------------------------------------------------------- reading

    def _fd(self, path: Path) -> int:
        with self._lock:
            if self._closed:
                msg = f"{self._path.name} was closed."
                raise InvalidInputError(msg)
            if path not in self._fds:
                self._fds[path] = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
            return self._fds[path]

    def _decode(self, instance: DicomInstance, frame: int) -> Image.Image:
        fd = self._fd(instance.path)
        try:
            data = b"".join(os.pread(fd, length, offset) for offset, length in instance.frames[frame])
        except OSError as exc:
            msg = f"{instance.path.name} could not be read: {exc.strerror or exc}."
            raise UnsupportedSlideError(msg) from exc
        size = (instance.tile_width, instance.tile_height)
        try:
            if instance.native:
                mode = "YCbCr" if instance.photometric.startswith("YBR") else "RGB"
                image = Image.frombytes(mode, size, data)
            else:
                image = Image.open(io.BytesIO(data))
                image.load()
        except (OSError, ValueError, UnidentifiedImageError) as exc:
            msg = f"Frame {frame} of {instance.path.name} could not be decoded: {exc}"
            raise UnsupportedSlideError(msg) from exc
        return image if image.mode == "RGB" else image.convert("RGB")

    def _tile(self, level: int | None, instance: DicomInstance, col: int, row: int) -> Image.Image | None:
        frame = instance.tile_frames.get((col, row))
        if frame is None:
            return None
        key = (level, col, row) if level is not None else None
        if key is not None:
            with self._lock:
                cached = self._tiles.get(key)
                if cached is not None:
                    self._tiles.move_to_end(key)
                    return cached
        image = self._decode(instance, frame)
        # Crop the padding of edge tiles so it never shows up next to the slide.
        valid_w = min(instance.tile_width, instance.width - col * instance.tile_width)
        valid_h = min(instance.tile_height, instance.height - row * instance.tile_height)
        if (valid_w, valid_h) != image.size:
            image = image.crop((0, 0, valid_w, valid_h))
        if key is None:
            return image
        with self._lock:
            self._tiles[key] = image
            while len(self._tiles) > _TILE_CACHE_TILES:
                self._tiles.popitem(last=False)
        return image

    def _compose(
        self, level: int | None, instance: DicomInstance, l_x: int, l_y: int, size: tuple[int, int]
    ) -> Image.Image:
        out = Image.new("RGB", size, _WHITE)
        tw, th = instance.tile_width, instance.tile_height
        col0, row0 = max(0, l_x // tw), max(0, l_y // th)
        col1 = min(math.ceil(instance.width / tw), math.ceil((l_x + size[0]) / tw))
        row1 = min(math.ceil(instance.height / th), math.ceil((l_y + size[1]) / th))
        for row in range(row0, row1):
            for col in range(col0, col1):
                tile = self._tile(level, instance, col, row)
                if tile is not None:
                    out.paste(tile, (col * tw - l_x, row * th - l_y))
        return out

    def _read_level_region(self, l0_location: tuple[int, int], level: int, size: tuple[int, int]) -> Image.Image:
        downsample = self._level_downsamples[level]
        l_x, l_y = math.floor(l0_location[0] / downsample + 1e-6), math.floor(l0_location[1] / downsample + 1e-6)
        return self._compose(level, self._levels[level], l_x, l_y, size)

    def _load_whole(self, instance: DicomInstance) -> Image.Image:
        return self._compose(None, instance, 0, 0, (instance.width, instance.height))

    def close(self) -> None:
        """Close the file descriptors and drop the decoded tiles (closing twice is harmless)."""
        with self._lock:
            self._closed = True
            for fd in self._fds.values():
                os.close(fd)
            self._fds.clear()
            self._tiles.clear()
