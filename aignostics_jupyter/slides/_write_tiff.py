"""TIFF-family writers behind :func:`aignostics_jupyter.slides.writers.write_slide`: Aperio SVS and generic TIFF.

tifffile is imported here only, so reading slides never needs it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from aignostics_jupyter.slides._pyramid import PyramidSpec, padded_tiles, render_whole

_APERIO_HEADER = "Aperio Image Library v12.0.0"
_REDUCED_IMAGE = 1  # NewSubfileType bit: reduced-resolution version of another image
_BIGTIFF_ABOVE = 2**31  # bytes of raw pixels beyond which we write BigTIFF to be safe


def _tiled_args(tile_size: int, quality: int) -> dict[str, Any]:
    return {
        "tile": (tile_size, tile_size),
        "photometric": "rgb",
        "compression": "jpeg",
        "compressionargs": {"level": quality},
        "metadata": None,
    }


def write_svs(path: Path, spec: PyramidSpec) -> None:
    """Write an Aperio SVS: tiled base, stripped thumbnail, tiled reduced levels, stripped label and macro."""
    import tifffile

    width, height, size, quality = spec.width, spec.height, spec.tile_size, spec.quality
    base = f"{width}x{height} [0,0 {width}x{height}] ({size}x{size})"
    common = f"AppMag = {spec.objective_power:g}|MPP = {spec.mpp:.6g}"
    bigtiff = width * height * 3 > _BIGTIFF_ABOVE
    with tifffile.TiffWriter(path, bigtiff=bigtiff) as tif:
        for index, (_, l_w, l_h) in enumerate(spec.levels):
            if index == 0:
                description = f"{_APERIO_HEADER}\r\n{base} JPEG/RGB Q={quality}|{common}"
            else:
                description = f"{_APERIO_HEADER}\r\n{base} -> {l_w}x{l_h} JPEG/RGB Q={quality}"
            tif.write(
                padded_tiles(spec, index),
                shape=(l_h, l_w, 3),
                dtype=np.uint8,
                description=description,
                subfiletype=0,
                **_tiled_args(size, quality),
            )
            if index == 0:
                thumb = render_whole(spec.render, width, height, spec.thumbnail_max)
                thumb_size = f"{thumb.shape[1]}x{thumb.shape[0]}"
                tif.write(
                    thumb,
                    photometric="rgb",
                    compression="jpeg",
                    compressionargs={"level": quality},
                    rowsperstrip=16,
                    description=f"{_APERIO_HEADER}\r\n{width}x{height} -> {thumb_size} - |{common}",
                    metadata=None,
                )
        label, macro = spec.label, spec.macro
        if label is not None:
            tif.write(
                np.ascontiguousarray(label),
                photometric="rgb",
                compression="lzw",
                rowsperstrip=label.shape[0],
                subfiletype=_REDUCED_IMAGE,
                description=f"{_APERIO_HEADER}\r\nlabel {label.shape[1]}x{label.shape[0]}",
                metadata=None,
            )
        if macro is not None:
            tif.write(
                np.ascontiguousarray(macro),
                photometric="rgb",
                compression="jpeg",
                compressionargs={"level": quality},
                rowsperstrip=16,
                subfiletype=9,
                description=f"{_APERIO_HEADER}\r\nmacro {macro.shape[1]}x{macro.shape[0]}",
                metadata=None,
            )


def write_generic_tiff(path: Path, spec: PyramidSpec) -> None:
    """Write a generic pyramidal TIFF: tiled levels, reduced ones marked, resolution in pixels per cm."""
    import tifffile

    width, height, mpp = spec.width, spec.height, spec.mpp
    bigtiff = width * height * 3 > _BIGTIFF_ABOVE
    with tifffile.TiffWriter(path, bigtiff=bigtiff) as tif:
        for index, (_, l_w, l_h) in enumerate(spec.levels):
            # Pixels per centimetre of this level, from its real scale relative to the base.
            l_px_per_cm_x = 1e4 / mpp * l_w / width
            l_px_per_cm_y = 1e4 / mpp * l_h / height
            tif.write(
                padded_tiles(spec, index),
                shape=(l_h, l_w, 3),
                dtype=np.uint8,
                subfiletype=_REDUCED_IMAGE if index else 0,
                resolution=(l_px_per_cm_x, l_px_per_cm_y),
                resolutionunit="CENTIMETER",
                **_tiled_args(spec.tile_size, spec.quality),
            )
