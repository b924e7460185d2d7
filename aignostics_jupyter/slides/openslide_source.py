"""The OpenSlide-backed :class:`~aignostics_jupyter.slides.source.SlideSource`.

Reads everything OpenSlide 4 reads: Aperio SVS, generic and pyramidal TIFF, Hamamatsu NDPI, MIRAX, Philips,
Leica, Ventana and DICOM WSI (a series is opened from any one of its files). OpenSlide's errors become
:class:`~aignostics_jupyter.exceptions.UnsupportedSlideError` here, and nowhere else.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from pathlib import Path

import openslide
from PIL import Image

from aignostics_jupyter.exceptions import InvalidInputError, UnsupportedSlideError
from aignostics_jupyter.slides.source import LazyImages, SlideSourceBase, file_signature

__all__ = ["VENDOR_FORMATS", "OpenSlideSource"]

VENDOR_FORMATS: Mapping[str, str] = {
    "aperio": "svs",
    "generic-tiff": "tiff",
    "dicom": "dicom",
    "hamamatsu": "ndpi",
    "mirax": "mrxs",
    "philips": "tiff",
    "leica": "scn",
    "ventana": "bif",
    "sakura": "svslide",
    "trestle": "tif",
    "zeiss": "czi",
    "synthetic": "synthetic",
}
"""OpenSlide vendor → short format name."""

_UM_PER_UNIT = {"centimeter": 1e4, "inch": 25_400.0}
_WHITE = (255, 255, 255)


def _float(properties: Mapping[str, str], key: str) -> float | None:
    try:
        value = float(properties[key])
    except (KeyError, ValueError):
        return None
    return value if value > 0 else None


def mpp_from_properties(properties: Mapping[str, str]) -> tuple[float, float] | None:
    """Microns per pixel from OpenSlide properties, falling back to the TIFF resolution tags.

    Args:
        properties: OpenSlide's property map.

    Returns:
        ``(mpp_x, mpp_y)``, or None when neither OpenSlide nor the resolution tags say.
    """
    mpp_x = _float(properties, openslide.PROPERTY_NAME_MPP_X)
    mpp_y = _float(properties, openslide.PROPERTY_NAME_MPP_Y)
    if mpp_x and mpp_y:
        return mpp_x, mpp_y
    unit = _UM_PER_UNIT.get(properties.get("tiff.ResolutionUnit", ""))
    res_x, res_y = _float(properties, "tiff.XResolution"), _float(properties, "tiff.YResolution")
    if unit and res_x and res_y:
        return unit / res_x, unit / res_y
    return None


#: Decoded-tile cache shared by every slide this process opens (OpenSlide's default is 32 MiB per slide, so a
#: tile worker holding 16 slides could keep 512 MiB). Leaflet asks for each tile once; the byte cache of encoded
#: tiles sits above this one, so a small shared cache loses nothing measurable.
SHARED_CACHE_BYTES = 8 * 1024 * 1024
_shared_cache: openslide.OpenSlideCache | None = None


def _cache() -> openslide.OpenSlideCache | None:
    global _shared_cache  # noqa: PLW0603 - one cache per process is the point
    if _shared_cache is None and hasattr(openslide, "OpenSlideCache"):
        try:
            _shared_cache = openslide.OpenSlideCache(SHARED_CACHE_BYTES)
        except openslide.OpenSlideVersionError:  # an OpenSlide older than 4.0
            return None
    return _shared_cache


class OpenSlideSource(SlideSourceBase):
    """A slide read through OpenSlide.

    Args:
        path: The slide file (for DICOM: any instance of the series; for MIRAX: the ``.mrxs`` file).
        opened_as: The path to report as :attr:`path` (e.g. the DICOM directory the user named).

    Raises:
        UnsupportedSlideError: When OpenSlide cannot open the file.
    """

    def __init__(self, path: Path, *, opened_as: Path | None = None) -> None:
        self._file = Path(path)
        self._path = Path(opened_as) if opened_as is not None else self._file
        try:
            self._signature = file_signature(self._path)
            self._slide = openslide.OpenSlide(self._file)
            cache = _cache()
            if cache is not None:
                self._slide.set_cache(cache)
        except (openslide.OpenSlideError, OSError) as exc:
            msg = f"{self._path.name} could not be opened as a whole slide image: {exc}"
            raise UnsupportedSlideError(msg) from exc
        props = self._slide.properties
        self._properties = dict(props)
        self._level_dimensions = tuple(tuple(d) for d in self._slide.level_dimensions)  # type: ignore[misc]
        self._level_downsamples = tuple(float(d) for d in self._slide.level_downsamples)
        self._vendor = props.get(openslide.PROPERTY_NAME_VENDOR) or "unknown"
        self._mpp = mpp_from_properties(props)
        self._objective = _float(props, openslide.PROPERTY_NAME_OBJECTIVE_POWER)
        tile_w = props.get("openslide.level[0].tile-width")
        tile_h = props.get("openslide.level[0].tile-height")
        self._tile_size = (int(tile_w), int(tile_h)) if tile_w and tile_h else (256, 256)
        self._closed = False
        self._associated = LazyImages(
            {name: partial(self._load_associated, name) for name in self._slide.associated_images}
        )

    def _load_associated(self, name: str) -> Image.Image:
        try:
            return self._slide.associated_images[name].convert("RGB")
        except openslide.OpenSlideError as exc:
            msg = f"The {name} image of {self._path.name} could not be read: {exc}"
            raise UnsupportedSlideError(msg) from exc

    @property
    def format(self) -> str:
        """Short format name (``svs``, ``tiff``, ``dicom``, …)."""
        return VENDOR_FORMATS.get(self._vendor, self._vendor)

    @property
    def vendor(self) -> str:
        """OpenSlide's vendor name."""
        return self._vendor

    @property
    def mpp(self) -> tuple[float, float] | None:
        """Microns per base pixel ``(x, y)``, or None."""
        return self._mpp

    @property
    def objective_power(self) -> float | None:
        """Objective magnification, or None."""
        return self._objective

    @property
    def tile_size(self) -> tuple[int, int]:
        """Native tile size of the base level."""
        return self._tile_size

    @property
    def properties(self) -> Mapping[str, str]:
        """OpenSlide's properties."""
        return self._properties

    @property
    def associated_images(self) -> Mapping[str, Image.Image]:
        """Associated images by OpenSlide's names, loaded on first access."""
        return self._associated

    def _read_level_region(self, l0_location: tuple[int, int], level: int, size: tuple[int, int]) -> Image.Image:
        if self._closed:
            msg = f"{self._path.name} was closed."
            raise InvalidInputError(msg)
        try:
            rgba = self._slide.read_region(l0_location, level, size)
        except openslide.OpenSlideError as exc:
            msg = f"{self._path.name} could not be read at level {level}: {exc}"
            raise UnsupportedSlideError(msg) from exc
        alpha = rgba.getchannel("A")
        if alpha.getextrema()[0] == 255:
            return rgba.convert("RGB")
        # Outside the scanned area OpenSlide returns transparent pixels; show them as white glass.
        out = Image.new("RGB", rgba.size, _WHITE)
        out.paste(rgba.convert("RGB"), mask=alpha)
        return out

    def close(self) -> None:
        """Close the OpenSlide handle (closing twice is harmless)."""
        if not self._closed:
            self._closed = True
            self._slide.close()
