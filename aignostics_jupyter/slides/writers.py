"""Write whole slide images that OpenSlide reads: Aperio SVS, generic pyramidal TIFF and DICOM VL WSI.

No real slide can be downloaded on the machines this package is tested on, so tests, demos and the local
platform generate their own. Every writer builds the pyramid tile by tile: it asks a :data:`RegionRenderer`
for one tile of one level at a time and never holds a whole level's pixels in memory.

Example:
    >>> from aignostics_jupyter.slides.writers import gradient_pattern, write_slide
    >>> write_slide(Path("a.svs"), 4000, 3000, gradient_pattern(4000, 3000), mpp=0.5, fmt="svs")  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from aignostics_jupyter.slides._pyramid import PyramidSpec, RegionRenderer, level_plan, render_whole

__all__ = [
    "RegionRenderer",
    "SlideFormat",
    "gradient_pattern",
    "level_plan",
    "write_slide",
    "write_test_pattern_slide",
]

SlideFormat = Literal["svs", "tiff", "dicom"]


def gradient_pattern(width: int, height: int) -> RegionRenderer:
    """A smooth, deterministic test image of the given base size, consistent across pyramid levels.

    Red grows left to right, green top to bottom, blue is a slow wave; the pixel at level coordinates
    ``(x, y)`` takes the value at its centre in base coordinates, so every level shows the same picture.
    Being smooth, it survives JPEG nearly unchanged, which lets tests compare pixels across readers.

    Args:
        width: Base level width in pixels.
        height: Base level height in pixels.

    Returns:
        A :data:`RegionRenderer`.
    """

    def render(downsample: float, l_x: int, l_y: int, l_w: int, l_h: int) -> NDArray[np.uint8]:
        l0_x = (np.arange(l_x, l_x + l_w, dtype=np.float64) + 0.5) * downsample
        l0_y = (np.arange(l_y, l_y + l_h, dtype=np.float64) + 0.5) * downsample
        red = np.broadcast_to(30 + 200 * l0_x[None, :] / width, (l_h, l_w))
        green = np.broadcast_to(30 + 200 * l0_y[:, None] / height, (l_h, l_w))
        blue = 128 + 90 * np.sin(2 * np.pi * l0_x[None, :] / 2000.0) * np.cos(2 * np.pi * l0_y[:, None] / 2000.0)
        pixels: NDArray[np.uint8] = np.clip(np.dstack([red, green, blue]), 0, 255).astype(np.uint8)
        return pixels

    return render


def write_slide(
    path: Path,
    width: int,
    height: int,
    render: RegionRenderer,
    *,
    mpp: float,
    fmt: SlideFormat,
    tile_size: int = 256,
    quality: int = 85,
    objective_power: float = 20.0,
    label: NDArray[np.uint8] | None = None,
    macro: NDArray[np.uint8] | None = None,
    level_step: int = 4,
    smallest_level: int = 1024,
) -> Path:
    """Write a pyramidal whole slide image, tile by tile, with JPEG tiles.

    Levels have downsamples 1, ``level_step``, ``level_step²``, … until the longer side is at most
    ``smallest_level`` (see :func:`level_plan`); level sizes are ``base // downsample``.

    * ``svs``: Aperio page order (tiled base, stripped thumbnail, tiled reduced levels, stripped label and
      macro) and an Aperio ImageDescription with ``AppMag`` and ``MPP``; OpenSlide reports vendor ``aperio``.
    * ``tiff``: generic pyramidal TIFF, reduced levels marked NewSubfileType=1, resolution in pixels/cm;
      OpenSlide reports vendor ``generic-tiff`` and the mpp. Label and macro are not written.
    * ``dicom``: a directory with one VL Whole Slide Microscopy instance per level (``level-0.dcm`` …,
      TILED_FULL, JPEG baseline) plus ``label.dcm`` and ``overview.dcm`` when given; OpenSlide reports ``dicom``.

    Args:
        path: Where to write: the file, or for ``dicom`` the directory (created).
        width: Base level width in pixels.
        height: Base level height in pixels.
        render: Called once per tile per level for its pixels (see :data:`RegionRenderer`).
        mpp: Microns per pixel of the base level (both axes).
        fmt: ``svs``, ``tiff`` or ``dicom``.
        tile_size: Tile edge in pixels (a multiple of 16).
        quality: JPEG quality of the tiles.
        objective_power: The scanner's objective magnification (``AppMag`` / ``ObjectiveLensPower``).
        label: Optional RGB uint8 label image (svs and dicom).
        macro: Optional RGB uint8 macro/overview image (svs and dicom).
        level_step: Downsample factor between pyramid levels.
        smallest_level: Stop adding levels once the longer side is at most this many pixels.

    Returns:
        The path to open: the file, or for ``dicom`` the directory.

    Raises:
        ValueError: On a bad size, tile size or format, or when the renderer returns the wrong shape.
    """
    if width < 1 or height < 1:
        msg = f"A slide needs a positive size, not {width}x{height}."
        raise ValueError(msg)
    if tile_size < 16 or tile_size % 16:
        msg = f"The tile size must be a positive multiple of 16, not {tile_size}."
        raise ValueError(msg)
    if mpp <= 0:
        msg = f"The mpp must be positive, not {mpp}."
        raise ValueError(msg)
    spec = PyramidSpec(
        levels=level_plan(width, height, step=level_step, smallest=smallest_level),
        render=render,
        mpp=mpp,
        tile_size=tile_size,
        quality=quality,
        objective_power=objective_power,
        label=label,
        macro=macro,
    )
    path = Path(path)
    if fmt == "svs":
        from aignostics_jupyter.slides._write_tiff import write_svs

        write_svs(path, spec)
    elif fmt == "tiff":
        from aignostics_jupyter.slides._write_tiff import write_generic_tiff

        write_generic_tiff(path, spec)
    elif fmt == "dicom":
        from aignostics_jupyter.slides._write_dicom import write_dicom_series

        write_dicom_series(path, spec)
    else:
        msg = f"Unknown slide format {fmt!r}; use 'svs', 'tiff' or 'dicom'."
        raise ValueError(msg)
    return path


def write_test_pattern_slide(
    path: Path,
    width: int = 2048,
    height: int = 1536,
    fmt: SlideFormat = "svs",
    mpp: float = 0.5,
    *,
    with_associated: bool = True,
    tile_size: int = 256,
    smallest_level: int = 1024,
    level_step: int = 4,
) -> Path:
    """Write a slide showing :func:`gradient_pattern`, with a red label and a macro image, for tests and demos.

    Args:
        path: Target file (or directory for ``dicom``).
        width: Base width in pixels.
        height: Base height in pixels.
        fmt: Slide format.
        mpp: Microns per pixel.
        with_associated: Add the label and macro images (not written for ``tiff``).
        tile_size: Tile edge in pixels.
        smallest_level: See :func:`write_slide`.
        level_step: See :func:`write_slide`.

    Returns:
        The path to open.
    """
    label = macro = None
    if with_associated:
        label = np.zeros((120, 160, 3), dtype=np.uint8)
        label[:, :, 0] = 200
        label[40:80, 40:120] = 255
        macro = render_whole(gradient_pattern(width, height), width, height, 480)
    return write_slide(
        path,
        width,
        height,
        gradient_pattern(width, height),
        mpp=mpp,
        fmt=fmt,
        tile_size=tile_size,
        label=label,
        macro=macro,
        smallest_level=smallest_level,
        level_step=level_step,
    )
