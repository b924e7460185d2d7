"""Overlays in the slide viewer: what a layer is, default styles, a run item's outputs, the click popup.

The browser gets overlay **tiles** only (rendered by the tile server from a spatial index); a click asks the
server which features lie under the cursor. Nothing here draws or reads an overlay file.
"""

from __future__ import annotations

import hashlib
import html
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ipyleaflet import TileLayer

from aignostics_jupyter.server.urls import OverlayRef
from aignostics_jupyter.slides import file_signature
from aignostics_jupyter.slides.overlays.loader import OverlaySpec
from aignostics_jupyter.slides.overlays.models import OverlayStyle
from aignostics_jupyter.widgets.units import format_area
from aignostics_jupyter.widgets.viewer_controls import swatch

__all__ = [
    "RESULT_OUTPUTS",
    "OverlayLayer",
    "ResultOutput",
    "default_style",
    "overlay_spec",
    "overlay_version",
    "popup_html",
    "result_files",
    "tiff_metadata",
]

RASTER_SUFFIXES = (".tif", ".tiff", ".png", ".jpg", ".jpeg")


@dataclass
class OverlayLayer:
    """One overlay shown in a viewer.

    Attributes:
        name: The layer's name (layer control and legend).
        path: The overlay file.
        ref: Slide, overlay path (relative to the tile server's root) and style: the overlay id's content.
        layer: The ipyleaflet tile layer.
        info: The tile server's description (kind, classes with colours and counts, bounds), when it answered.
    """

    name: str
    path: Path
    ref: OverlayRef
    layer: TileLayer
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        """The overlay id in the tile URLs."""
        return self.ref.id

    @property
    def is_vector(self) -> bool:
        """Whether it is a feature collection (clicks query its features)."""
        return self.info.get("kind") == "vector" or self.path.suffix.lower() in (".json", ".geojson")

    def legend(self) -> list[tuple[str, tuple[int, int, int]]]:
        """``(class, colour)`` pairs for the legend (background and hidden classes left out)."""
        hidden = set(self.ref.style.hidden_classes)
        return [
            (str(c["name"]), (int(c["color"][0]), int(c["color"][1]), int(c["color"][2])))
            for c in self.info.get("classes", [])
            if c["name"] not in hidden and str(c["name"]).lower() != "background"
        ]


def tiff_metadata(path: Path) -> dict[str, Any]:
    """The JSON object a platform heatmap TIFF carries in its ImageDescription, or ``{}``.

    Platform heatmaps describe ``classes``, ``class_colors`` and ``base_mpp`` there. Reads the header only.
    """
    if path.suffix.lower() not in (".tif", ".tiff"):
        return {}
    import tifffile

    try:
        with tifffile.TiffFile(path) as tif:
            description = str(getattr(tif.pages.first, "description", "") or "")
        document = json.loads(description or "{}")
    except (OSError, ValueError, IndexError, tifffile.TiffFileError):
        return {}
    return document if isinstance(document, dict) else {}


def overlay_spec(path: Path, relative: str, **fields: Any) -> OverlaySpec:
    """How the tile server reads an overlay: its path relative to the root, and its metadata.

    Class colours the file itself declares (platform heatmaps) are used unless ``fields`` gives them.
    """
    values = {k: v for k, v in fields.items() if v is not None}
    colors = tiff_metadata(path).get("class_colors")
    if "class_colors" not in values and isinstance(colors, dict):
        values["class_colors"] = {str(name): tuple(color)[:3] for name, color in colors.items()}
    return OverlaySpec.model_validate({"path": relative, **values})


def overlay_version(path: Path, slide_signature: str) -> str:
    """A short tag that changes whenever the overlay file or the slide changes (a cache buster for tile URLs)."""
    signature = file_signature(path)
    text = f"{slide_signature}|{signature.mtime_ns}|{signature.size}"
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:12]


def default_style(path: Path, **overrides: Any) -> tuple[OverlayStyle, float]:
    """A sensible style and layer opacity for an overlay file.

    Rasters are drawn opaque in the tile and faded by the layer (default layer opacity 0.5); feature collections get
    translucent fills with opaque outlines at full layer opacity. Keyword arguments override style fields.

    Returns:
        ``(style, layer_opacity)``.
    """
    raster = path.suffix.lower() in RASTER_SUFFIXES
    base: dict[str, Any] = {"opacity": 1.0, "hidden_classes": ["background"]} if raster else {"opacity": 0.35}
    base.update({k: v for k, v in overrides.items() if v is not None})
    return OverlayStyle.model_validate(base), 0.5 if raster else 1.0


@dataclass(frozen=True)
class ResultOutput:
    """How one output artifact of a run item is shown: file name, layer name, style overrides, visibility."""

    file_name: str
    name: str
    visible: bool = True
    style: Mapping[str, Any] = field(default_factory=dict)


# The he-tme / test-app outputs, as the client downloads them ({artifact_name with ':' as '_'}{ext}).
RESULT_OUTPUTS: tuple[ResultOutput, ...] = (
    ResultOutput("tissue_qc_segmentation_map_image.tiff", "Tissue QC", visible=False),
    ResultOutput("tissue_segmentation_segmentation_map_image.tiff", "Tissue segmentation"),
    ResultOutput("cell_classification_geojson_polygons.json", "Cells"),
)


def result_files(folder: Path, item: str | None) -> list[tuple[Path, ResultOutput]]:
    """The overlay files of a run item's downloaded results, in drawing order.

    Args:
        folder: The run's download folder (``{dest}/{run_id}``), or an item's folder directly.
        item: The item's external id or folder name (None: ``folder`` is the item's folder).

    Raises:
        FileNotFoundError: When the folder holds none of the known outputs.
    """
    from aignostics_jupyter.client import item_dir_name

    candidates = [folder] if item is None else [folder / item_dir_name(item), folder]
    for base in candidates:
        found = [(base / output.file_name, output) for output in RESULT_OUTPUTS if (base / output.file_name).is_file()]
        if found:
            return found
    names = ", ".join(o.file_name for o in RESULT_OUTPUTS)
    msg = f"No results ({names}) in {folder}{'' if item is None else f' for item {item!r}'}."
    raise FileNotFoundError(msg)


def popup_html(layer_name: str, hits: Sequence[Mapping[str, Any]], class_name: str | None = None) -> str:
    """What a click shows: the class of the feature under the cursor (and its measurements), or a raster's class."""
    blocks = []
    for hit in hits[:3]:
        color = hit.get("color") or (128, 128, 128)
        lines = [f"{swatch(color)}<b class='aignostics-popup-class'>{html.escape(str(hit['class_name']))}</b>"]
        if hit.get("id"):
            lines.append(f"<span style='color:#666'>{html.escape(str(hit['id']))}</span>")
        if hit.get("area_um2") is not None:
            lines.append(f"area {format_area(float(hit['area_um2']))}")
        for key, number in list(hit.get("measurements", {}).items())[:4]:
            lines.append(f"{html.escape(str(key))}: {number:.4g}")
        blocks.append("<br>".join(lines))
    if class_name:
        blocks.append(f"<b class='aignostics-popup-class'>{html.escape(class_name)}</b>")
    if not blocks:
        return ""
    title = f"<div style='font-weight:bold;color:#444'>{html.escape(layer_name)}</div>"
    return f"<div class='aignostics-popup' style='font:12px sans-serif'>{title}{'<hr>'.join(blocks)}</div>"
