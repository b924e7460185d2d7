"""Open an overlay file as the right kind of overlay, from a description that can cross process boundaries."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, Protocol

from PIL import Image
from pydantic import BaseModel, ConfigDict, Field

from aignostics_jupyter.exceptions import UnsupportedSlideError
from aignostics_jupyter.slides.overlays.colors import parse_class_colors
from aignostics_jupyter.slides.overlays.models import FeatureHit, OverlayInfo, OverlayStyle, SlideGeometry
from aignostics_jupyter.slides.overlays.parse_child import CHILD_PARSE_MIN_BYTES, parse_into_cache
from aignostics_jupyter.slides.overlays.raster import RasterOverlay
from aignostics_jupyter.slides.overlays.vector import VectorOverlay
from aignostics_jupyter.slides.tiling import TileRegion

__all__ = ["Overlay", "OverlayHits", "OverlaySpec", "open_overlay", "query_overlay"]

_VECTOR_SUFFIXES = {".json", ".geojson"}


class OverlaySpec(BaseModel):
    """Which file to overlay and how to interpret it (the platform's artifact metadata goes here).

    Attributes:
        path: The overlay file: GeoJSON (``.json``/``.geojson``) or a raster (TIFF, PNG).
        kind: ``auto`` (by file type and content) or force ``vector``, ``labels``, ``rgb``, ``scalar``.
        class_colors: Class → ``[r, g, b]`` (heatmap metadata ``class_colors``; for vectors, overrides).
        class_names: For label rasters: names in label order (label 1 first) or ``{label: name}``.
        mpp: Microns per raster pixel (aligns rasters by physical size; else stretched over the slide).
        vector_scale: Slide base pixels per GeoJSON coordinate unit (1 for QuPath and platform output,
            whose coordinates are base pixels).
    """

    model_config = ConfigDict(frozen=True)

    path: str
    kind: Literal["auto", "vector", "labels", "rgb", "scalar"] = "auto"
    class_colors: dict[str, tuple[int, int, int]] = Field(default_factory=dict)
    class_names: list[str] | dict[int, str] | None = None
    mpp: tuple[float, float] | None = None
    vector_scale: float = Field(default=1.0, gt=0)

    @classmethod
    def of(cls, value: OverlaySpec | str | Path) -> OverlaySpec:
        """A spec from a spec or a bare path."""
        return value if isinstance(value, OverlaySpec) else cls(path=str(value))

    @classmethod
    def from_metadata(cls, path: str | Path, metadata: Mapping[str, Any]) -> OverlaySpec:
        """A spec from an output artifact's metadata (heatmaps carry ``class_colors``, class → ``[r, g, b]``).

        ``mpp`` (or ``heatmap_mpp``) is taken as the raster's own resolution when present; ``base_mpp`` is the
        slide's and is not needed (the slide is opened anyway).
        """
        colors = parse_class_colors(metadata.get("class_colors"))
        raw_mpp = metadata.get("mpp", metadata.get("heatmap_mpp"))
        mpp = None
        if isinstance(raw_mpp, int | float) and not isinstance(raw_mpp, bool) and raw_mpp > 0:
            mpp = (float(raw_mpp), float(raw_mpp))
        return cls(path=str(path), class_colors=colors, mpp=mpp)

    def token(self) -> str:
        """A stable text form for cache keys."""
        return self.model_dump_json()


class OverlayHits(BaseModel):
    """What an overlay holds at a position.

    Attributes:
        kind: The overlay's kind.
        features: Vector features there (nearest first).
        value: Raster value there (label, ``[r, g, b]`` or number), if any.
        class_name: Raster class there, if known.
    """

    kind: str
    features: list[FeatureHit] = Field(default_factory=list)
    value: float | int | list[int] | None = None
    class_name: str | None = None


class Overlay(Protocol):
    """What every overlay kind offers."""

    def render(self, region: TileRegion, slide: SlideGeometry, style: OverlayStyle) -> Image.Image:
        """The RGBA tile for a region."""

    def info(self, slide: SlideGeometry | None = None) -> OverlayInfo:
        """Legend and extent."""

    def close(self) -> None:
        """Release resources."""


def open_overlay(spec: OverlaySpec, *, cache_dir: Path | None = None) -> RasterOverlay | VectorOverlay:
    """Load the overlay a spec describes.

    Args:
        spec: File and interpretation.
        cache_dir: Where parsed GeoJSON is cached (memory-mapped cache files, :mod:`.store`); None parses
            every time. With a cache, large GeoJSON files are parsed in a short-lived child process (its peak
            memory goes away with it) and this process only maps the cache file, read-only and shared with
            every other process mapping it.

    Raises:
        UnsupportedSlideError: When the file is missing or not a usable overlay.
    """
    path = Path(spec.path)
    if not path.is_file():
        msg = f"The overlay {path.name} does not exist ({path})."
        raise UnsupportedSlideError(msg)
    if spec.kind == "vector" or (spec.kind == "auto" and path.suffix.lower() in _VECTOR_SUFFIXES):
        overlay = None
        if cache_dir is not None:
            # A whole cache entry is mapped right away; only a missing or damaged one is (re)built first.
            overlay = VectorOverlay.from_cache(path, class_colors=spec.class_colors, cache_dir=cache_dir)
            if overlay is None and _parse_in_child(path):
                parse_into_cache(path.resolve(), spec.class_colors, cache_dir)
        if overlay is None:
            overlay = VectorOverlay.from_file(path, class_colors=spec.class_colors, cache_dir=cache_dir)
        return overlay.scaled(spec.vector_scale)
    kind = None if spec.kind == "auto" else spec.kind
    return RasterOverlay.from_file(
        path, class_colors=spec.class_colors, class_names=spec.class_names, mpp=spec.mpp, kind=kind
    )


def _parse_in_child(path: Path) -> bool:
    """Whether a GeoJSON file is large enough to be parsed in a child process."""
    try:
        return path.stat().st_size >= CHILD_PARSE_MIN_BYTES
    except OSError:
        return False


def query_overlay(
    overlay: RasterOverlay | VectorOverlay,
    slide: SlideGeometry,
    point: tuple[float, float],
    radius: float = 0.0,
    limit: int = 20,
) -> OverlayHits:
    """What the overlay holds at ``point`` (slide base pixels), within ``radius`` for vectors."""
    l0_x, l0_y = point
    if isinstance(overlay, VectorOverlay):
        features = overlay.features_at(l0_x, l0_y, radius, mpp=slide.mpp, limit=limit)
        return OverlayHits(kind="vector", features=features)
    found = overlay.value_at(l0_x, l0_y, slide)
    if found is None:
        return OverlayHits(kind=overlay.kind)
    return OverlayHits(kind=overlay.kind, value=found["value"], class_name=found["class"])
