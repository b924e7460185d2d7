"""Raster overlays: heatmaps and segmentation maps drawn over the slide in the viewer's tile grid.

Three kinds of raster are understood:

* ``labels``: a 2-D integer map of class indices (0 = background, transparent), coloured by
  ``class_colors`` (keys are label values, or class names listed in label order) or the default palette;
* ``rgb``: an RGB(A) image already coloured (as the platform's segmentation map images are); black and white
  are background unless they are class colours, and ``class_colors`` names the classes back;
* ``scalar``: a 2-D continuous map (probabilities, densities) shown through a colormap.

The raster is aligned to the slide by physical size when both mpps are known (``overlay_mpp / slide_mpp``
base pixels per raster pixel), else it is stretched to cover the slide. Tiles are sampled nearest-neighbour
(class maps must not blend), transparent outside the raster.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from aignostics_jupyter.exceptions import InvalidInputError, UnsupportedSlideError
from aignostics_jupyter.slides.overlays.colors import RGB, colormap_lut, default_color, parse_color
from aignostics_jupyter.slides.overlays.models import ClassSummary, OverlayInfo, OverlayStyle, SlideGeometry
from aignostics_jupyter.slides.tiling import TileRegion

__all__ = ["RasterKind", "RasterOverlay"]

RasterKind = Literal["labels", "rgb", "scalar"]
_MAX_LABELS = 64  # a 2-D integer map with more distinct values than this is shown as scalar
_UM_PER_UNIT = {2: 25_400.0, 3: 10_000.0}  # TIFF ResolutionUnit: inch, centimetre
_BACKGROUND: tuple[RGB, ...] = ((0, 0, 0), (255, 255, 255))


def _tiff_mpp(path: Path) -> tuple[float, float] | None:
    import tifffile

    with tifffile.TiffFile(path) as tif:
        page = tif.pages.first
        tags = page.tags
        unit = tags.get("ResolutionUnit")
        x_res, y_res = tags.get("XResolution"), tags.get("YResolution")
        if unit is None or x_res is None or y_res is None or int(unit.value) not in _UM_PER_UNIT:
            return None
        um = _UM_PER_UNIT[int(unit.value)]
        x_num, x_den = x_res.value
        y_num, y_den = y_res.value
        if not (x_num and y_num):
            return None
        return um * x_den / x_num, um * y_den / y_num


class RasterOverlay:
    """A heatmap or segmentation map, held in memory, rendered into overlay tiles.

    Args:
        data: ``(h, w)`` integer or float map, or ``(h, w, 3|4)`` uint8 colours.
        class_colors: Class → colour (``{"1": [255, 0, 0]}`` or ``{"tumor": [255, 0, 0]}``).
        class_names: Label value → class name, for label maps whose ``class_colors`` are keyed by name.
        mpp: Microns per raster pixel ``(x, y)``, when known (aligns by physical size).
        kind: Force a kind instead of guessing it from the data.
        path: Where it came from (for messages and info).
    """

    def __init__(
        self,
        data: NDArray[Any],
        *,
        class_colors: Mapping[str, Any] | None = None,
        class_names: Mapping[int, str] | Sequence[str] | None = None,
        mpp: tuple[float, float] | None = None,
        kind: RasterKind | None = None,
        path: Path | None = None,
    ) -> None:
        self.path = path or Path("<array>")
        if data.ndim == 3 and data.shape[2] == 1:
            data = data[:, :, 0]
        if data.ndim not in (2, 3) or (data.ndim == 3 and data.shape[2] not in (3, 4)) or data.size == 0:
            msg = f"{self.path.name} is not a 2-D map or an RGB(A) image (shape {data.shape})."
            raise UnsupportedSlideError(msg)
        self.data = data
        self.mpp = mpp
        self.kind: RasterKind = kind or self._guess_kind(data, class_colors)
        self.height, self.width = int(data.shape[0]), int(data.shape[1])
        self._counts: dict[int, int] | None = None
        self.classes = self._classes(class_colors or {}, class_names)

    # ------------------------------------------------------------------------------------------- loading

    @classmethod
    def from_file(
        cls,
        path: Path,
        *,
        class_colors: Mapping[str, Any] | None = None,
        class_names: Mapping[int, str] | Sequence[str] | None = None,
        mpp: tuple[float, float] | None = None,
        kind: RasterKind | None = None,
    ) -> RasterOverlay:
        """Load a TIFF (first page, full resolution) or PNG/JPEG raster.

        The mpp comes from the argument, else from the TIFF's resolution tags (cm or inch), else is unknown.

        Raises:
            UnsupportedSlideError: When the file cannot be read as an image.
        """
        path = Path(path)
        try:
            with path.open("rb") as f:
                head = f.read(4)
            if head[:2] in (b"II", b"MM"):
                import tifffile

                data = tifffile.imread(path, key=0)
                mpp = mpp or _tiff_mpp(path)
            else:
                with Image.open(path) as image:
                    data = np.asarray(image.convert("RGBA") if image.mode in ("P", "LA") else image)
        except (OSError, ValueError, IndexError) as exc:
            msg = f"{path.name} could not be read as a raster overlay: {exc}"
            raise UnsupportedSlideError(msg) from exc
        return cls(np.asarray(data), class_colors=class_colors, class_names=class_names, mpp=mpp, kind=kind, path=path)

    @staticmethod
    def _guess_kind(data: NDArray[Any], class_colors: Mapping[str, Any] | None) -> RasterKind:
        if data.ndim == 3:
            return "rgb"
        if np.issubdtype(data.dtype, np.floating):
            return "scalar"
        if class_colors:
            return "labels"
        sample = data[:: max(1, data.shape[0] // 512), :: max(1, data.shape[1] // 512)]
        return "labels" if np.unique(sample).size <= _MAX_LABELS else "scalar"

    def _classes(
        self, class_colors: Mapping[str, Any], class_names: Mapping[int, str] | Sequence[str] | None
    ) -> dict[int, tuple[str, RGB]]:
        """Label value (or, for rgb, an arbitrary index) → (name, colour)."""
        colors = {str(k): c for k, v in class_colors.items() if (c := parse_color(v)) is not None}
        names: dict[int, str] = {}
        if isinstance(class_names, Mapping):
            names = {int(k): str(v) for k, v in class_names.items()}
        elif class_names is not None:
            names = {i + 1: str(n) for i, n in enumerate(class_names)}
        out: dict[int, tuple[str, RGB]] = {}
        if self.kind == "labels":
            values = list(self.label_counts())
            numeric = {int(k): c for k, c in colors.items() if k.lstrip("-").isdigit()}
            if not names and not numeric and colors:
                # Colours keyed by class name only: take them in order as labels 1, 2, …
                names = {i + 1: n for i, n in enumerate(colors)}
            for value in sorted(set(values) | set(numeric) | set(names)):
                if value == 0:
                    continue
                name = names.get(value, str(value))
                color = numeric.get(value) or colors.get(name) or default_color(value - 1)
                out[value] = (name, color)
        elif self.kind == "rgb":
            out = {i: (name, color) for i, (name, color) in enumerate(colors.items())}
        return out

    def label_counts(self) -> dict[int, int]:
        """Pixel count per label value of a class map (computed once)."""
        if self._counts is None:
            data = self.data
            if data.dtype.kind in "ui" and data.size and int(data.min()) >= 0 and int(data.max()) < 2**20:
                counts = np.bincount(data.ravel())
                self._counts = {int(v): int(counts[v]) for v in np.flatnonzero(counts)}
            else:
                labels, counts = np.unique(data, return_counts=True)
                self._counts = {int(v): int(c) for v, c in zip(labels.tolist(), counts.tolist(), strict=True)}
        return self._counts

    # ------------------------------------------------------------------------------------------- geometry

    def l0_per_pixel(self, slide: SlideGeometry) -> tuple[float, float]:
        """Slide base pixels per raster pixel ``(x, y)``.

        By mpp when both are known. Otherwise the raster covers the slide: when both axes agree within 2 %
        (a downsampled map whose size was rounded), one common scale keeps its pixels square; else each
        axis is stretched.
        """
        if self.mpp and slide.mpp:
            return self.mpp[0] / slide.mpp[0], self.mpp[1] / slide.mpp[1]
        scale_x, scale_y = slide.width / self.width, slide.height / self.height
        if abs(scale_x - scale_y) <= 0.02 * max(scale_x, scale_y):
            common = (scale_x + scale_y) / 2
            return common, common
        return scale_x, scale_y

    def _sample(self, region: TileRegion, slide: SlideGeometry) -> tuple[NDArray[Any], NDArray[np.bool_]]:
        """Nearest raster values at the centres of the tile's pixels, and where they exist."""
        scale_x, scale_y = self.l0_per_pixel(slide)
        size = region.tile_size
        steps = np.arange(size, dtype=np.float64) + 0.5
        r_x = np.floor((region.l0_x + steps * region.downsample) / scale_x).astype(np.int64)
        r_y = np.floor((region.l0_y + steps * region.downsample) / scale_y).astype(np.int64)
        # Only inside the slide and inside the raster.
        valid_x = (r_x >= 0) & (r_x < self.width) & (steps < region.z_w)
        valid_y = (r_y >= 0) & (r_y < self.height) & (steps < region.z_h)
        values = self.data[np.clip(r_y, 0, self.height - 1)[:, None], np.clip(r_x, 0, self.width - 1)[None, :]]
        return values, valid_y[:, None] & valid_x[None, :]

    # ------------------------------------------------------------------------------------------- drawing

    def render(self, region: TileRegion, slide: SlideGeometry, style: OverlayStyle) -> Image.Image:
        """The RGBA overlay tile for ``region`` (full tile size, transparent where nothing is drawn)."""
        values, valid = self._sample(region, slide)
        alpha = round(style.opacity * 255)
        rgba = np.zeros((*valid.shape, 4), dtype=np.uint8)
        if self.kind == "labels":
            lut = self._label_lut(style, alpha)
            index = np.where(valid & (values >= 0) & (values < len(lut)), values, 0).astype(np.int64)
            rgba = lut[index]
        elif self.kind == "scalar":
            rgba = self._scalar_rgba(values, valid, style, alpha)
        else:
            rgba[..., :3] = values[..., :3]
            shown = valid & ~self._background_mask(values[..., :3], style)
            if values.shape[-1] == 4:
                rgba[..., 3] = np.where(shown, (values[..., 3].astype(np.uint16) * alpha) // 255, 0)
            else:
                rgba[..., 3] = np.where(shown, alpha, 0)
        return Image.fromarray(np.ascontiguousarray(rgba), "RGBA")

    def _label_lut(self, style: OverlayStyle, alpha: int) -> NDArray[np.uint8]:
        size = max([0, *self.classes]) + 1
        lut = np.zeros((size, 4), dtype=np.uint8)
        hidden = set(style.hidden_classes)
        for value, (name, color) in self.classes.items():
            if value < 0 or name in hidden:
                continue
            lut[value, :3] = style.class_colors.get(name, color)
            lut[value, 3] = alpha
        return lut

    def _scalar_bounds(self, style: OverlayStyle) -> tuple[float, float]:
        if self.data.dtype == np.uint8:
            low, high = 0.0, 255.0
        else:
            finite = self.data[np.isfinite(self.data)] if np.issubdtype(self.data.dtype, np.floating) else self.data
            low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        low = style.vmin if style.vmin is not None else low
        high = style.vmax if style.vmax is not None else high
        return low, high if high > low else low + 1.0

    def _scalar_rgba(
        self, values: NDArray[Any], valid: NDArray[np.bool_], style: OverlayStyle, alpha: int
    ) -> NDArray[np.uint8]:
        low, high = self._scalar_bounds(style)
        as_float = values.astype(np.float64)
        finite = np.isfinite(as_float)
        scaled = np.clip((np.where(finite, as_float, low) - low) / (high - low), 0, 1)
        lut = colormap_lut(style.colormap)
        rgba = np.zeros((*values.shape[:2], 4), dtype=np.uint8)
        rgba[..., :3] = lut[np.round(scaled * 255).astype(np.int64)]
        rgba[..., 3] = np.where(valid & finite, alpha, 0)
        return rgba

    def _background_mask(self, rgb: NDArray[Any], style: OverlayStyle) -> NDArray[np.bool_]:
        class_colors = {color for _, color in self.classes.values()}
        hidden = {color for name, color in self.classes.values() if name in style.hidden_classes}
        mask = np.zeros(rgb.shape[:2], dtype=bool)
        for color in (*(c for c in _BACKGROUND if c not in class_colors), *hidden):
            mask |= (rgb == np.asarray(color, dtype=rgb.dtype)).all(axis=-1)
        return mask

    # ------------------------------------------------------------------------------------------- queries

    def value_at(self, l0_x: float, l0_y: float, slide: SlideGeometry) -> dict[str, Any] | None:
        """The raster value under a slide position (with the class name for class maps), or None outside."""
        scale_x, scale_y = self.l0_per_pixel(slide)
        r_x, r_y = math.floor(l0_x / scale_x), math.floor(l0_y / scale_y)
        if not (0 <= r_x < self.width and 0 <= r_y < self.height):
            return None
        value = self.data[r_y, r_x]
        if self.kind == "labels":
            label = int(value)
            name = self.classes.get(label, (None, None))[0]
            return {"value": label, "class": name}
        if self.kind == "rgb":
            color = tuple(int(v) for v in value[:3])
            name = next((n for n, c in self.classes.values() if c == color), None)
            return {"value": list(color), "class": name}
        return {"value": float(value), "class": None}

    def info(self, slide: SlideGeometry | None = None) -> OverlayInfo:
        """Legend and extent of the overlay."""
        classes = [ClassSummary(name=name, color=color) for _, (name, color) in sorted(self.classes.items())]
        if self.kind == "labels":
            by_label = self.label_counts()
            classes = [
                ClassSummary(name=name, color=color, count=int(by_label.get(value, 0)))
                for value, (name, color) in sorted(self.classes.items())
            ]
        bounds = None
        if slide is not None:
            scale_x, scale_y = self.l0_per_pixel(slide)
            bounds = (0.0, 0.0, self.width * scale_x, self.height * scale_y)
        value_range = None
        if self.kind == "scalar":
            value_range = self._scalar_bounds(OverlayStyle())
        return OverlayInfo(path=str(self.path), kind=self.kind, classes=classes, bounds=bounds, value_range=value_range)

    def close(self) -> None:
        """Nothing to release (the raster is in memory); present for the handle cache."""


def check_kind(kind: str | None) -> RasterKind | None:
    """Validate a raster kind given as text.

    Raises:
        InvalidInputError: For anything but ``labels``, ``rgb``, ``scalar`` or None.
    """
    if kind is None or kind in ("labels", "rgb", "scalar"):
        return kind  # type: ignore[return-value]
    msg = f"Raster kind {kind!r} is unknown; use labels, rgb or scalar."
    raise InvalidInputError(msg)
