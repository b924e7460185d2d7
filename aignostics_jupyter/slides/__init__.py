"""Whole slide images: open them, describe them, cut them into viewer tiles, overlay model outputs.

The public surface::

    open_slide(path) -> SlideSource        OpenSlideSource (SVS, TIFF, NDPI, MIRAX, DICOM) | DicomSource (pydicom)
    ZoomGrid(w, h).tile(z, x, y)           Leaflet z/x/y tile maths (l0_ / l_ / z_ / t_ / um_ planes)
    TileService()                          async tiles, info, thumbnails, overlays; worker processes + byte cache
    SlideRenderer()                        the same work, synchronous, in the calling thread
    overlays.RasterOverlay / VectorOverlay heatmaps and GeoJSON cells as transparent tiles, features_at
    confine(root, relative)                keep URL-supplied paths inside the server's root
    write_slide(path, w, h, render, ...)   generate SVS / generic TIFF / DICOM WSI for tests and demos

This package never imports tornado, IPython or ipywidgets; errors are
:class:`~aignostics_jupyter.exceptions.UnsupportedSlideError` or other
:class:`~aignostics_jupyter.exceptions.AignosticsError` subclasses.
"""

from __future__ import annotations

from aignostics_jupyter.slides.dicom_source import DicomSource
from aignostics_jupyter.slides.models import EncodedImage, SlideInfo
from aignostics_jupyter.slides.opener import Reader, open_slide
from aignostics_jupyter.slides.openslide_source import OpenSlideSource
from aignostics_jupyter.slides.overlays import OverlayStyle
from aignostics_jupyter.slides.overlays.loader import OverlayHits, OverlaySpec
from aignostics_jupyter.slides.paths import confine
from aignostics_jupyter.slides.renderer import SlideRenderer
from aignostics_jupyter.slides.service import TileService
from aignostics_jupyter.slides.source import FileSignature, SlideSource, file_signature
from aignostics_jupyter.slides.tiling import TILE_SIZE, TileOutOfRangeError, ZoomGrid
from aignostics_jupyter.slides.writers import (
    RegionRenderer,
    SlideFormat,
    gradient_pattern,
    write_slide,
    write_test_pattern_slide,
)

__all__ = [
    "TILE_SIZE",
    "DicomSource",
    "EncodedImage",
    "FileSignature",
    "OpenSlideSource",
    "OverlayHits",
    "OverlaySpec",
    "OverlayStyle",
    "Reader",
    "RegionRenderer",
    "SlideFormat",
    "SlideInfo",
    "SlideRenderer",
    "SlideSource",
    "TileOutOfRangeError",
    "TileService",
    "ZoomGrid",
    "confine",
    "file_signature",
    "gradient_pattern",
    "open_slide",
    "write_slide",
    "write_test_pattern_slide",
]
