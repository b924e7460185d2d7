"""Pydantic models the slides package hands to other layers (server handlers, widgets)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["EncodedImage", "SlideInfo"]


class SlideInfo(BaseModel):
    """What a viewer needs to know about a slide.

    Attributes:
        path: The path it was opened from.
        name: File (or DICOM directory) name.
        format: Short format name (``svs``, ``tiff``, ``dicom``, …).
        vendor: OpenSlide's vendor name.
        width: Base level width in pixels.
        height: Base level height in pixels.
        level_count: Number of pyramid levels.
        level_dimensions: ``[width, height]`` per level.
        level_downsamples: Downsample per level.
        mpp_x: Microns per base pixel horizontally, when known.
        mpp_y: Microns per base pixel vertically, when known.
        objective_power: Scanner objective magnification, when known.
        tile_width: Native tile width of the base level.
        tile_height: Native tile height of the base level.
        viewer_tile_size: Edge of the viewer's tiles.
        z_min: Coarsest viewer zoom (whole slide in one tile).
        z_max: Viewer zoom of native resolution.
        z_top: Finest viewer zoom served (past native, upsampled).
        associated_images: Names of the associated images (``label``, ``macro``, ``thumbnail``).
        file_size: Bytes on disk (all files of a DICOM series).
        signature: Changes whenever the file changes (for cache validation).
    """

    model_config = ConfigDict(frozen=True)

    path: str
    name: str
    format: str
    vendor: str
    width: int = Field(gt=0)
    height: int = Field(gt=0)
    level_count: int = Field(gt=0)
    level_dimensions: list[tuple[int, int]]
    level_downsamples: list[float]
    mpp_x: float | None = None
    mpp_y: float | None = None
    objective_power: float | None = None
    tile_width: int
    tile_height: int
    viewer_tile_size: int = 256
    z_min: int = 0
    z_max: int
    z_top: int
    associated_images: list[str] = Field(default_factory=list)
    file_size: int
    signature: str


class EncodedImage(BaseModel):
    """An encoded image ready to send: bytes, media type and an ETag that changes with the content.

    Attributes:
        data: The encoded bytes.
        media_type: ``image/jpeg``, ``image/png`` or ``image/webp``.
        etag: A quoted strong ETag.
    """

    model_config = ConfigDict(frozen=True)

    data: bytes
    media_type: str
    etag: str
