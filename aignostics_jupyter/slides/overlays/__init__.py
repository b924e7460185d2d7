"""Model outputs over the slide: raster heatmaps/segmentation maps and GeoJSON vector features.

Both kinds render transparent tiles in the slide's viewer tile grid (:mod:`aignostics_jupyter.slides.tiling`)
and answer what lies at a position.
"""

from __future__ import annotations

from aignostics_jupyter.slides.overlays.models import (
    ClassSummary,
    FeatureHit,
    OverlayInfo,
    OverlayStyle,
    SlideGeometry,
)
from aignostics_jupyter.slides.overlays.raster import RasterOverlay
from aignostics_jupyter.slides.overlays.vector import VectorOverlay

__all__ = [
    "ClassSummary",
    "FeatureHit",
    "OverlayInfo",
    "OverlayStyle",
    "RasterOverlay",
    "SlideGeometry",
    "VectorOverlay",
]
