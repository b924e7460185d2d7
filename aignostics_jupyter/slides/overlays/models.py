"""Overlay models that cross layer and process boundaries: style, slide geometry, legend info, feature hits."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ClassSummary", "FeatureHit", "OverlayInfo", "OverlayStyle", "SlideGeometry"]


class OverlayStyle(BaseModel):
    """Drawing options of an overlay layer.

    Attributes:
        opacity: Opacity of fills and raster pixels, 0-1.
        class_colors: Colour overrides by class name (``{"tumor": (255, 0, 0)}``).
        hidden_classes: Classes not drawn.
        colormap: Colormap for continuous rasters (``viridis``, ``inferno``, ``coolwarm``, ``gray``).
        vmin: Value mapped to the colormap's start (default: the data's minimum, 0 for uint8).
        vmax: Value mapped to the colormap's end (default: the data's maximum, 255 for uint8).
        outline: Draw polygon outlines (fully opaque) besides the fill.
        fill: Fill polygons.
        point_radius: Radius in screen pixels of points and of cells drawn as dots at low zoom.
        min_polygon_px: A polygon smaller than this on screen (bounding box, pixels) is drawn as a dot.
    """

    model_config = ConfigDict(frozen=True)

    opacity: float = Field(default=0.5, ge=0, le=1)
    class_colors: dict[str, tuple[int, int, int]] = Field(default_factory=dict)
    hidden_classes: list[str] = Field(default_factory=list)
    colormap: str = "viridis"
    vmin: float | None = None
    vmax: float | None = None
    outline: bool = True
    fill: bool = True
    point_radius: float = Field(default=2.0, ge=0, le=32)
    min_polygon_px: float = Field(default=5.0, ge=0)

    def token(self) -> str:
        """A stable text form for cache keys."""
        return self.model_dump_json()


class SlideGeometry(BaseModel):
    """The slide an overlay is drawn on.

    Attributes:
        width: Base level width in pixels.
        height: Base level height in pixels.
        mpp: Microns per base pixel ``(x, y)``, when known.
    """

    model_config = ConfigDict(frozen=True)

    width: int = Field(gt=0)
    height: int = Field(gt=0)
    mpp: tuple[float, float] | None = None


class ClassSummary(BaseModel):
    """One class of an overlay: name, colour and how many features (or pixels) carry it."""

    name: str
    color: tuple[int, int, int]
    count: int = 0


class OverlayInfo(BaseModel):
    """What a viewer's legend needs to know about an overlay.

    Attributes:
        path: The overlay file.
        kind: ``vector``, ``labels``, ``rgb`` or ``scalar``.
        feature_count: Number of features (vector) or 0.
        classes: Classes with colours and counts.
        bounds: ``(l0_x0, l0_y0, l0_x1, l0_y1)`` covered, in slide base pixels.
        measurements: Names of the numeric measurements features carry (vector).
        value_range: ``(min, max)`` of a scalar raster.
    """

    path: str
    kind: str
    feature_count: int = 0
    classes: list[ClassSummary] = Field(default_factory=list)
    bounds: tuple[float, float, float, float] | None = None
    measurements: list[str] = Field(default_factory=list)
    value_range: tuple[float, float] | None = None


class FeatureHit(BaseModel):
    """A vector feature found at a position (what a click on the viewer reports).

    Attributes:
        index: Position of the feature in its collection.
        id: The feature's ``id``, if it has one.
        class_name: Its class (``Unclassified`` when none).
        color: The colour it is drawn in.
        geometry: ``polygon``, ``point`` or ``line``.
        centroid: Centre in slide base pixels.
        bbox: ``(x0, y0, x1, y1)`` in slide base pixels.
        distance: Base pixels from the query position to the feature (0 inside a polygon).
        area_px: Polygon area in base pixels squared.
        area_um2: Polygon area in µm², when the slide's mpp is known.
        measurements: The feature's numeric measurements.
    """

    index: int
    id: str | None = None
    class_name: str
    color: tuple[int, int, int]
    geometry: str
    centroid: tuple[float, float]
    bbox: tuple[float, float, float, float]
    distance: float
    area_px: float | None = None
    area_um2: float | None = None
    measurements: dict[str, float] = Field(default_factory=dict)
