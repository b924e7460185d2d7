"""Synchronous slide tile rendering: open (cached), read the right level, resize, encode.

This is the work a tile request does. :class:`~aignostics_jupyter.slides.service.TileService` runs it in
worker processes (one :class:`SlideRenderer` per process); a kernel-side fallback server may call it directly.

Example:
    >>> renderer = SlideRenderer()
    >>> jpeg = renderer.tile(Path("slide.svs"), z=3, t_x=1, t_y=0)  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from PIL import Image

from aignostics_jupyter.exceptions import NotFoundError, UnsupportedSlideError
from aignostics_jupyter.slides.encoding import ImageFormat, encode_image
from aignostics_jupyter.slides.handle_cache import HandleCache
from aignostics_jupyter.slides.models import SlideInfo
from aignostics_jupyter.slides.opener import open_slide
from aignostics_jupyter.slides.source import FileSignature, SlideSource
from aignostics_jupyter.slides.tiling import TILE_SIZE, ZoomGrid, plan_level_read

__all__ = ["SlideRenderer", "signature_tag", "slide_info", "zoom_grid"]

WHITE = (255, 255, 255)


def signature_tag(path: Path, signature: FileSignature, *, resolved: bool = False) -> str:
    """A short hex digest of a path and its file signature (changes whenever the file does).

    Args:
        path: The file.
        signature: Its signature.
        resolved: ``path`` is already absolute and resolved (saves resolving it again: a ``lstat`` per segment).
    """
    text = f"{path if resolved else Path(path).resolve()}|{signature.mtime_ns}|{signature.size}"
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:16]


def zoom_grid(source: SlideSource, tile_size: int = TILE_SIZE) -> ZoomGrid:
    """The viewer's tile grid for a slide."""
    width, height = source.dimensions
    return ZoomGrid(width, height, tile_size)


def slide_info(source: SlideSource, tile_size: int = TILE_SIZE) -> SlideInfo:
    """Describe an open slide for the viewer."""
    grid = zoom_grid(source, tile_size)
    mpp = source.mpp
    return SlideInfo(
        path=str(source.path),
        name=source.path.name,
        format=source.format,
        vendor=source.vendor,
        width=source.dimensions[0],
        height=source.dimensions[1],
        level_count=source.level_count,
        level_dimensions=list(source.level_dimensions),
        level_downsamples=list(source.level_downsamples),
        mpp_x=mpp[0] if mpp else None,
        mpp_y=mpp[1] if mpp else None,
        objective_power=source.objective_power,
        tile_width=source.tile_size[0],
        tile_height=source.tile_size[1],
        viewer_tile_size=tile_size,
        z_min=grid.z_min,
        z_max=grid.z_max,
        z_top=grid.z_top,
        associated_images=sorted(source.associated_images),
        file_size=source.file_signature.size,
        signature=signature_tag(source.path, source.file_signature),
    )


def render_tile_image(source: SlideSource, z: int, t_x: int, t_y: int, *, pad_edges: bool = True) -> Image.Image:
    """The RGB image of viewer tile ``z/t_x/t_y``.

    Args:
        source: The open slide.
        z: Leaflet zoom.
        t_x: Tile column.
        t_y: Tile row.
        pad_edges: Pad edge tiles with white to the full tile size. Leaflet stretches every tile image to
            the full tile size, so a cropped edge tile would be distorted there; other clients may want
            the cropped tile.

    Raises:
        TileOutOfRangeError: For a tile outside the grid.
    """
    grid = zoom_grid(source)
    region = grid.tile(z, t_x, t_y)
    read = plan_level_read(region, source.level_downsamples)
    image = source.read_region(read.l0_location, read.level, read.l_size)
    if read.needs_resize:
        shrinking = read.l_size[0] > read.out_size[0]
        resample = Image.Resampling.BOX if shrinking else Image.Resampling.BILINEAR
        image = image.resize(read.out_size, resample)
    if pad_edges and region.is_edge:
        padded = Image.new("RGB", (region.tile_size, region.tile_size), WHITE)
        padded.paste(image, (0, 0))
        image = padded
    return image


class SlideRenderer:
    """Renders slide tiles, thumbnails and associated images in the calling thread, with cached handles.

    Args:
        max_open: How many slides stay open.
        opener: Opens a slide (injectable for tests).
        pad_edges: See :func:`render_tile_image`.
    """

    def __init__(
        self,
        *,
        max_open: int = 16,
        opener: Callable[[Path], SlideSource] = open_slide,
        pad_edges: bool = True,
    ) -> None:
        self.handles: HandleCache[SlideSource] = HandleCache(opener, max_open=max_open)
        self.pad_edges = pad_edges

    @contextmanager
    def _slide(self, path: Path) -> Iterator[SlideSource]:
        with self.handles.lease(path) as source:
            try:
                yield source
            except UnsupportedSlideError:
                # A decoding failure may leave the handle unusable (OpenSlide latches errors): reopen next time.
                self.handles.discard(path)
                raise

    def info(self, path: Path) -> SlideInfo:
        """Describe the slide at ``path``."""
        with self._slide(path) as source:
            return slide_info(source)

    def tile_image(self, path: Path, z: int, t_x: int, t_y: int) -> Image.Image:
        """The RGB image of tile ``z/t_x/t_y``."""
        with self._slide(path) as source:
            return render_tile_image(source, z, t_x, t_y, pad_edges=self.pad_edges)

    def tile(self, path: Path, z: int, t_x: int, t_y: int, *, fmt: ImageFormat = "jpeg", quality: int = 80) -> bytes:
        """Tile ``z/t_x/t_y`` encoded (JPEG by default)."""
        return encode_image(self.tile_image(path, z, t_x, t_y), fmt, quality)

    def thumbnail(self, path: Path, max_size: int = 512, *, fmt: ImageFormat = "jpeg", quality: int = 85) -> bytes:
        """The whole slide fitting in ``max_size`` pixels, encoded."""
        with self._slide(path) as source:
            return encode_image(source.thumbnail(max_size), fmt, quality)

    def associated(self, path: Path, name: str, *, fmt: ImageFormat = "jpeg", quality: int = 90) -> bytes:
        """An associated image (``label``, ``macro``, ``thumbnail``), encoded.

        Raises:
            NotFoundError: When the slide has no image of that name.
        """
        with self._slide(path) as source:
            images = source.associated_images
            if name not in images:
                have = ", ".join(sorted(images)) or "none"
                msg = f"{source.path.name} has no {name!r} image (it has: {have})."
                raise NotFoundError(msg)
            return encode_image(images[name], fmt, quality)

    def close(self) -> None:
        """Close every cached slide."""
        self.handles.close_all()
