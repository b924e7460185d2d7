"""The one protocol every slide reader implements, and what the implementations share.

A :class:`SlideSource` is an open whole slide image: its pyramid geometry, physical resolution, metadata and
associated images, plus region reads in base-level coordinates. :func:`aignostics_jupyter.slides.open_slide`
picks the implementation (:class:`~aignostics_jupyter.slides.openslide_source.OpenSlideSource` or
:class:`~aignostics_jupyter.slides.dicom_source.DicomSource`); the contract test suite runs against all of them.

Example:
    >>> with open_slide(Path("slide.svs")) as slide:  # doctest: +SKIP
    ...     tile = slide.read_region((0, 0), slide.level_count - 1, (256, 256))
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import NamedTuple, Protocol, Self, runtime_checkable

from PIL import Image

_THUMBNAIL_CHUNK = 4096
_LEVEL_TOLERANCE = 1.02

__all__ = ["FileSignature", "LazyImages", "SlideSource", "SlideSourceBase", "file_signature"]


class FileSignature(NamedTuple):
    """What identifies one version of a slide on disk: newest modification time and total size.

    For a DICOM series (a directory) both are taken over all files of the directory.
    """

    mtime_ns: int
    size: int


def file_signature(path: Path) -> FileSignature:
    """The :class:`FileSignature` of a file, or of all files directly inside a directory.

    Raises:
        FileNotFoundError: When the path does not exist.
    """
    st = path.stat()
    if not path.is_dir():
        return FileSignature(st.st_mtime_ns, st.st_size)
    mtime, size = st.st_mtime_ns, 0
    with os.scandir(path) as entries:
        for entry in entries:
            if entry.is_file():
                est = entry.stat()
                mtime, size = max(mtime, est.st_mtime_ns), size + est.st_size
    return FileSignature(mtime, size)


class LazyImages(Mapping[str, Image.Image]):
    """A read-only mapping of names to images that loads each image on first access and keeps it.

    Args:
        loaders: Name → function returning the image (converted to RGB by the caller).
    """

    def __init__(self, loaders: Mapping[str, Callable[[], Image.Image]]) -> None:
        self._loaders = dict(loaders)
        self._loaded: dict[str, Image.Image] = {}

    def __getitem__(self, name: str) -> Image.Image:
        if name not in self._loaded:
            self._loaded[name] = self._loaders[name]()
        return self._loaded[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._loaders)

    def __len__(self) -> int:
        return len(self._loaders)

    def __repr__(self) -> str:
        return f"LazyImages({sorted(self._loaders)})"


@runtime_checkable
class SlideSource(Protocol):
    """An open whole slide image.

    Coordinates: ``l0_location`` is in base-level pixels; ``size`` is in pixels of the level read.
    Levels are ordered from the base (0, largest) to the smallest.
    """

    @property
    def path(self) -> Path:
        """The path the slide was opened from (a file, or a DICOM directory)."""

    @property
    def format(self) -> str:
        """Short name of the file format: ``svs``, ``tiff``, ``dicom``, ``ndpi``, ``mrxs``, …."""

    @property
    def vendor(self) -> str:
        """The vendor as OpenSlide names it: ``aperio``, ``generic-tiff``, ``dicom``, ``hamamatsu``, …."""

    @property
    def dimensions(self) -> tuple[int, int]:
        """Base level ``(width, height)`` in pixels."""

    @property
    def level_count(self) -> int:
        """Number of pyramid levels."""

    @property
    def level_dimensions(self) -> tuple[tuple[int, int], ...]:
        """``(width, height)`` of every level."""

    @property
    def level_downsamples(self) -> tuple[float, ...]:
        """Downsample of every level relative to the base (1.0 for level 0)."""

    @property
    def mpp(self) -> tuple[float, float] | None:
        """Microns per base pixel ``(x, y)``, or None when the file does not say."""

    @property
    def objective_power(self) -> float | None:
        """The scanner's objective magnification, or None when unknown."""

    @property
    def tile_size(self) -> tuple[int, int]:
        """Native tile ``(width, height)`` of the base level."""

    @property
    def properties(self) -> Mapping[str, str]:
        """Raw metadata of the file (reader-specific keys)."""

    @property
    def associated_images(self) -> Mapping[str, Image.Image]:
        """Lazily loaded RGB images by name: ``label``, ``macro``, ``thumbnail`` where present."""

    @property
    def file_signature(self) -> FileSignature:
        """Modification time and size of the file(s) when opened, for cache invalidation."""

    def read_region(self, l0_location: tuple[int, int], level: int, size: tuple[int, int]) -> Image.Image:
        """Read an RGB region of ``size`` level pixels whose top-left is ``l0_location`` in base pixels.

        Pixels outside the slide are white.

        Raises:
            InvalidInputError: For a level out of range or a non-positive size.
            UnsupportedSlideError: When the file cannot be decoded there (damaged or truncated).
        """

    def thumbnail(self, max_size: int | tuple[int, int]) -> Image.Image:
        """The whole slide as an RGB image fitting in ``max_size``, aspect ratio kept."""

    def best_level_for_downsample(self, downsample: float) -> int:
        """The smallest level whose downsample is at most ``downsample`` (level 0 below 1)."""

    def close(self) -> None:
        """Release the file handles. Reading afterwards is an error."""

    def __enter__(self) -> Self: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...


class SlideSourceBase:
    """What implementations share: validation, best-level choice, thumbnails and the context manager.

    Subclasses set the geometry attributes in ``__init__`` and implement :meth:`_read_level_region` and
    :meth:`close`.
    """

    _path: Path
    _signature: FileSignature
    _level_dimensions: tuple[tuple[int, int], ...]
    _level_downsamples: tuple[float, ...]

    @property
    def path(self) -> Path:
        """The path the slide was opened from."""
        return self._path

    @property
    def file_signature(self) -> FileSignature:
        """Modification time and size of the file(s) when opened."""
        return self._signature

    @property
    def dimensions(self) -> tuple[int, int]:
        """Base level ``(width, height)``."""
        return self._level_dimensions[0]

    @property
    def level_count(self) -> int:
        """Number of pyramid levels."""
        return len(self._level_dimensions)

    @property
    def level_dimensions(self) -> tuple[tuple[int, int], ...]:
        """``(width, height)`` of every level."""
        return self._level_dimensions

    @property
    def level_downsamples(self) -> tuple[float, ...]:
        """Downsample of every level relative to the base."""
        return self._level_downsamples

    def best_level_for_downsample(self, downsample: float) -> int:
        """The smallest level whose downsample is at most ``downsample`` (level 0 below 1).

        A tolerance of 2 % absorbs the rounding of level sizes (a nominal 16× level of an odd-sized
        slide may report 16.06).
        """
        best = 0
        for level, level_downsample in enumerate(self._level_downsamples):
            if level_downsample <= downsample * _LEVEL_TOLERANCE:
                best = level
        return best

    def _check_region(self, level: int, size: tuple[int, int]) -> None:
        from aignostics_jupyter.exceptions import InvalidInputError

        if not 0 <= level < len(self._level_dimensions):
            msg = f"Level {level} does not exist in {self._path.name}, which has {len(self._level_dimensions)}."
            raise InvalidInputError(msg)
        if size[0] <= 0 or size[1] <= 0:
            msg = f"A region needs a positive size, not {size[0]}x{size[1]}."
            raise InvalidInputError(msg)

    def thumbnail(self, max_size: int | tuple[int, int]) -> Image.Image:
        """The whole slide as an RGB image fitting in ``max_size``, aspect ratio kept.

        Reads the smallest level that is still at least as large as the thumbnail, then resizes.
        """
        max_w, max_h = (max_size, max_size) if isinstance(max_size, int) else max_size
        l0_w, l0_h = self.dimensions
        scale = min(max_w / l0_w, max_h / l0_h, 1.0)
        out_w, out_h = max(1, round(l0_w * scale)), max(1, round(l0_h * scale))
        level = self.best_level_for_downsample(1 / scale)
        l_w, l_h = self._level_dimensions[level]
        if l_w * l_h <= _THUMBNAIL_CHUNK**2:
            image = self.read_region((0, 0), level, (l_w, l_h))
            return image if (l_w, l_h) == (out_w, out_h) else image.resize((out_w, out_h), Image.Resampling.LANCZOS)
        # An incomplete pyramid: shrink the level chunk by chunk instead of reading it whole.
        downsample = self._level_downsamples[level]
        out = Image.new("RGB", (out_w, out_h), "white")
        for l_y in range(0, l_h, _THUMBNAIL_CHUNK):
            for l_x in range(0, l_w, _THUMBNAIL_CHUNK):
                c_w, c_h = min(_THUMBNAIL_CHUNK, l_w - l_x), min(_THUMBNAIL_CHUNK, l_h - l_y)
                o_x0, o_y0 = round(l_x * out_w / l_w), round(l_y * out_h / l_h)
                o_x1, o_y1 = round((l_x + c_w) * out_w / l_w), round((l_y + c_h) * out_h / l_h)
                if o_x1 <= o_x0 or o_y1 <= o_y0:
                    continue
                chunk = self.read_region((round(l_x * downsample), round(l_y * downsample)), level, (c_w, c_h))
                out.paste(chunk.resize((o_x1 - o_x0, o_y1 - o_y0), Image.Resampling.BOX), (o_x0, o_y0))
        return out

    def read_region(self, l0_location: tuple[int, int], level: int, size: tuple[int, int]) -> Image.Image:
        """Read an RGB region; see :meth:`SlideSource.read_region`."""
        self._check_region(level, size)
        return self._read_level_region(l0_location, level, size)

    def _read_level_region(self, l0_location: tuple[int, int], level: int, size: tuple[int, int]) -> Image.Image:
        raise NotImplementedError

    def close(self) -> None:
        """Release the file handles."""
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self._path)!r})"
