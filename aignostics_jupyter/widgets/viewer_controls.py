"""The slide viewer's controls: scale bar, cursor readout, measurements, minimap, properties, layers, legend.

Each control is a small ipywidgets/ipyleaflet object with a method the viewer calls when something changes; none
reads files or talks to a server (the viewer hands them what they show). CSS classes (``aignostics-*``) let
browser tests find them.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets
from ipyleaflet import Map, Polygon, TileLayer, WidgetControl, projections

from aignostics_jupyter.widgets.units import ScaleBar, format_area, format_length

__all__ = [
    "LayerPanel",
    "Legend",
    "MiniMap",
    "properties_html",
    "readout_html",
    "scale_bar_html",
    "swatch",
]


def scale_bar_html(bar: ScaleBar) -> str:
    """The scale bar: a bar of ``bar.px`` screen pixels with its label."""
    width = max(1, round(bar.px))
    return (
        '<div style="background:rgba(255,255,255,0.85);padding:2px 6px;border-radius:3px;font:12px sans-serif">'
        f'<div style="width:{width}px;height:6px;border:2px solid #222;border-top:none"></div>'
        f'<span class="aignostics-scale-label">{html.escape(bar.label)}</span></div>'
    )


def readout_html(l0_x: float, l0_y: float, mpp: tuple[float, float] | None) -> str:
    """Cursor position in base pixels and, when the mpp is known, in µm."""
    text = f"x {l0_x:,.0f} px, y {l0_y:,.0f} px"
    if mpp is not None:
        text += f" · {format_length(l0_x * mpp[0])}, {format_length(l0_y * mpp[1])}"
    return f'<span style="font:12px monospace;background:rgba(255,255,255,0.85);padding:2px 6px">{text}</span>'


def measurement_html(kind: str, um: float | None, um2: float | None) -> str:
    """What the ruler or polygon tool measured."""
    parts = [f"<b>{html.escape(kind)}</b>"]
    if um is not None:
        parts.append(f"length {format_length(um)}")
    if um2 is not None:
        parts.append(f"area {format_area(um2)}")
    return (
        '<span style="font:12px sans-serif;background:rgba(255,255,255,0.9);padding:2px 6px">'
        + ", ".join(parts)
        + "</span>"
    )


def swatch(color: Sequence[int]) -> str:
    """A small coloured square."""
    r, g, b = (int(c) for c in list(color)[:3])
    style = f"display:inline-block;width:10px;height:10px;background:rgb({r},{g},{b});margin-right:4px"
    return f'<span style="{style}"></span>'


def properties_html(info: dict[str, Any], label_url: str | None) -> str:
    """The slide properties panel: vendor, mpp, objective, dimensions, levels, size and the label image."""
    mpp = f"{info['mpp_x']:.4g} x {info['mpp_y']:.4g} µm/px" if info.get("mpp_x") else "unknown"
    objective = f"{info['objective_power']:g}x" if info.get("objective_power") else "unknown"
    rows = [
        ("Name", info["name"]),
        ("Vendor", info["vendor"]),
        ("Format", info["format"]),
        ("Dimensions", f"{info['width']:,} x {info['height']:,} px"),
        ("Resolution", mpp),
        ("Objective", objective),
        ("Levels", str(info["level_count"])),
        ("File size", f"{info['file_size'] / 2**20:,.1f} MiB"),
    ]
    if info.get("mpp_x"):
        rows.insert(
            4,
            (
                "Physical size",
                f"{format_length(info['width'] * info['mpp_x'])} x {format_length(info['height'] * info['mpp_y'])}",
            ),
        )
    body = "".join(
        f"<tr><th style='text-align:left;padding-right:8px'>{k}</th><td>{html.escape(v)}</td></tr>" for k, v in rows
    )
    label = (
        f'<div><img alt="label" src="{html.escape(label_url)}" style="max-width:180px;max-height:120px"></div>'
        if label_url
        else ""
    )
    return f'<table class="aignostics-properties" style="font:12px sans-serif">{body}</table>{label}'


class MiniMap:
    """An overview of the whole slide with a rectangle showing the main view; click it to pan there.

    Args:
        url: The slide's tile URL template.
        center: The slide's centre ``(lat, lng)``.
        zoom: The overview zoom (whole slide visible).
        size: ``(width, height)`` in pixels.
        max_zoom: The slide's finest zoom.
        bounds: The slide's corners ``((south, west), (north, east))``: no tiles are asked for outside.
    """

    def __init__(
        self,
        url: str,
        *,
        center: tuple[float, float],
        zoom: int,
        size: tuple[int, int],
        max_zoom: int,
        bounds: tuple[tuple[float, float], tuple[float, float]],
    ) -> None:
        self.map = Map(
            basemap=TileLayer(
                url=url,
                no_wrap=True,
                max_zoom=max_zoom,
                max_native_zoom=max_zoom,
                min_zoom=zoom,
                min_native_zoom=0,
                bounds=bounds,
            ),
            crs=projections.Simple,
            center=center,
            zoom=zoom,
            min_zoom=zoom,
            max_zoom=zoom,
            zoom_control=False,
            attribution_control=False,
            dragging=False,
            scroll_wheel_zoom=False,
            double_click_zoom=False,
            box_zoom=False,
            keyboard=False,
            touch_zoom=False,
            layout=widgets.Layout(width=f"{size[0]}px", height=f"{size[1]}px"),
        )
        self.map.add_class("aignostics-minimap")
        # A Polygon, not a Rectangle: the front end moves a Rectangle only when it is created.
        self.frame = Polygon(locations=[], color="#ff3300", weight=2, fill_opacity=0.1)
        self.map.add(self.frame)
        self.control = WidgetControl(widget=self.map, position="bottomright")

    def show(self, south: float, west: float, north: float, east: float) -> None:
        """Move the frame to the main view's bounds."""
        self.frame.locations = [(south, west), (north, west), (north, east), (south, east)]


class LayerPanel:
    """Per-layer visibility and opacity (sliders linked to each layer's ``opacity``)."""

    def __init__(self) -> None:
        self.rows = widgets.VBox([])
        self.toggle = widgets.ToggleButton(
            value=False, description="Layers", icon="layer-group", layout={"width": "90px"}
        )
        self.box = widgets.VBox([self.toggle])
        self.box.add_class("aignostics-layer-panel")
        self.toggle.observe(self._show, "value")
        self.sliders: dict[str, widgets.FloatSlider] = {}
        self.control = WidgetControl(widget=self.box, position="topright")

    def _show(self, change: dict[str, Any]) -> None:
        self.box.children = (self.toggle, self.rows) if change["new"] else (self.toggle,)

    def add(self, name: str, layer: TileLayer) -> widgets.FloatSlider:
        """A row for ``layer``: a visibility checkbox and an opacity slider, linked to the layer."""
        visible = widgets.Checkbox(value=bool(layer.visible), indent=False, layout={"width": "24px"})
        slider = widgets.FloatSlider(
            value=float(layer.opacity),
            min=0.0,
            max=1.0,
            step=0.05,
            description=name[:24],
            readout_format=".2f",
            style={"description_width": "120px"},
            layout={"width": "300px"},
        )
        widgets.link((slider, "value"), (layer, "opacity"))
        widgets.link((visible, "value"), (layer, "visible"))
        self.sliders[name] = slider
        self.rows.children = (*self.rows.children, widgets.HBox([visible, slider]))
        return slider


class Legend:
    """Classes and colours of every overlay, by overlay name."""

    def __init__(self) -> None:
        self.entries: dict[str, list[tuple[str, tuple[int, int, int]]]] = {}
        self.html = widgets.HTML("")
        self.html.add_class("aignostics-legend")
        self.control = WidgetControl(widget=self.html, position="topleft")

    def set(self, overlay: str, classes: Sequence[tuple[str, tuple[int, int, int]]]) -> None:
        """Show ``classes`` under the heading ``overlay`` (an empty list removes it)."""
        if classes:
            self.entries[overlay] = list(classes)
        else:
            self.entries.pop(overlay, None)
        blocks = []
        for name, items in self.entries.items():
            lines = "".join(f"<div>{swatch(color)}{html.escape(label)}</div>" for label, color in items)
            blocks.append(f"<div style='margin-bottom:4px'><b>{html.escape(name)}</b>{lines}</div>")
        self.html.value = (
            f'<div style="font:12px sans-serif;background:rgba(255,255,255,0.9);padding:4px 8px">{"".join(blocks)}'
            "</div>"
            if blocks
            else ""
        )
