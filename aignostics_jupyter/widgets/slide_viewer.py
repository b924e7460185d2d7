"""The slide viewer: a whole slide image with model outputs overlaid, measured in µm (ipyleaflet, CRS.Simple).

Tiles come from the Jupyter server's tile routes (same origin, the browser's cookie authenticates; no token in any
widget state) or, where no server extension answers, from the kernel's loopback tile server (see
:mod:`aignostics_jupyter.server.discovery`). The map uses Leaflet's ``CRS.Simple``: a base pixel ``(x, y)`` is at
``lat = -y / 2**z_max``, ``lng = x / 2**z_max``; zoom ``z_max`` is the native resolution, ``z_max + 1`` one beyond.

Example:
    >>> viewer = SlideViewer("slides/case-1.svs")  # doctest: +SKIP
    >>> viewer.add_overlay("results/case-1/cell_classification_geojson_polygons.json")  # doctest: +SKIP
    >>> viewer.goto(x_um=1200, y_um=800, zoom=viewer.z_max)  # doctest: +SKIP
    >>> viewer  # doctest: +SKIP
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import ipywidgets as widgets
from ipyleaflet import DrawControl, FullScreenControl, LayersControl, Map, Popup, TileLayer, WidgetControl, projections
from PIL import Image
from traitlets import Dict, observe

from aignostics_jupyter.exceptions import AignosticsError
from aignostics_jupyter.server.discovery import TileEndpoint, find_endpoint
from aignostics_jupyter.server.urls import OverlayRef, overlay_tile_url, slide_tile_url, slide_url
from aignostics_jupyter.slides import open_slide
from aignostics_jupyter.slides.models import SlideInfo
from aignostics_jupyter.slides.renderer import slide_info
from aignostics_jupyter.widgets import viewer_export
from aignostics_jupyter.widgets.units import (
    l0_from_latlng,
    latlng_from_l0,
    path_length_um,
    polygon_area_um2,
    scale_bar,
    um_per_screen_px,
)
from aignostics_jupyter.widgets.viewer_controls import (
    LayerPanel,
    Legend,
    MiniMap,
    measurement_html,
    properties_html,
    readout_html,
    scale_bar_html,
)
from aignostics_jupyter.widgets.viewer_overlays import (
    OverlayLayer,
    default_style,
    overlay_spec,
    overlay_version,
    popup_html,
    result_files,
)

__all__ = ["SlideViewer"]

_VIEW_WIDTH = 900  # the width the overview zoom is chosen for (the map's own width is known only in the browser)
_CLICK_TOLERANCE_PX = 4.0


class SlideViewer(widgets.VBox):  # type: ignore[misc]
    """A deep-zoom viewer of one slide with overlays, measuring tools and a properties panel.

    Args:
        path: The slide (absolute, or relative to the kernel's working directory).
        height: Height of the map in pixels.
        endpoint: Where tiles come from, with the slide's path relative to its root (default: discovered).

    Attributes:
        viewport: The view, synced: ``x_um``/``y_um`` (centre), ``zoom``, ``um_per_px`` and the visible
            ``x0_um``, ``y0_um``, ``x1_um``, ``y1_um``. Assigning ``x_um``/``y_um``/``zoom`` moves the view.
        info: The slide's description.
        overlays: The overlays shown, by name.
        measurements: What the ruler and polygon tools measured (``kind``, ``um``, ``um2``, ``l0_points``).
    """

    viewport = Dict().tag(sync=True)

    def __init__(
        self, path: str | Path, *, height: int = 600, endpoint: tuple[TileEndpoint, str] | None = None
    ) -> None:
        self.slide_path = Path(path).resolve()
        with open_slide(self.slide_path) as source:
            self.info: SlideInfo = slide_info(source)
        self.endpoint, self.relative_path = endpoint or find_endpoint(self.slide_path)
        info = self.info
        self.mpp: tuple[float, float] | None = (info.mpp_x, info.mpp_y or info.mpp_x) if info.mpp_x else None
        self.z_max, self.z_top = info.z_max, info.z_top
        self.overlays: dict[str, OverlayLayer] = {}
        self.measurements: list[dict[str, Any]] = []
        self.last_click: dict[str, Any] = {}
        self._moving = False

        center = latlng_from_l0(info.width / 2, info.height / 2, self.z_max)
        overview = self.overview_zoom((_VIEW_WIDTH, max(100, height - 40)))
        self.slide_layer = TileLayer(
            url=self.tile_url,
            name=info.name,
            no_wrap=True,
            min_zoom=0,
            max_zoom=self.z_top,
            max_native_zoom=self.z_top,
            bounds=self._bounds(),
            attribution="",
        )
        self.map = Map(
            basemap=self.slide_layer,
            crs=projections.Simple,
            center=center,
            zoom=overview,
            min_zoom=0,
            max_zoom=self.z_top,
            scroll_wheel_zoom=True,
            attribution_control=False,
            layout=widgets.Layout(height=f"{height}px", width="100%"),
        )
        self.map.add_class("aignostics-slide-viewer")
        self._build_controls(center)
        self.map.observe(self._on_view, names=["center", "zoom", "south", "north", "east", "west"])
        self.map.on_interaction(self._on_interaction)
        # Edge tiles are padded with white to full size (Leaflet stretches tiles): a white map background hides it.
        style = widgets.HTML("<style>.aignostics-slide-viewer .leaflet-container{background:#fff}</style>")
        super().__init__([style, self.map], layout=widgets.Layout(width="100%"))
        self._on_view()

    # ------------------------------------------------------------------------------------------------ urls

    @property
    def tile_url(self) -> str:
        """The slide's tile URL template (root-relative on a Jupyter server; no token)."""
        return slide_tile_url(self.endpoint.prefix, self.relative_path, self.info.signature)

    def _url(self, what: str, **query: Any) -> str:
        return slide_url(self.endpoint.prefix, what, self.relative_path, **query)

    def _bounds(self) -> tuple[tuple[float, float], tuple[float, float]]:
        south, west = latlng_from_l0(0, self.info.height, self.z_max)
        north, east = latlng_from_l0(self.info.width, 0, self.z_max)
        return (south, west), (north, east)

    # ------------------------------------------------------------------------------------------- controls

    def overview_zoom(self, view_px: tuple[int, int] = (900, 560)) -> int:
        """The largest zoom at which the whole slide fits ``view_px``."""
        fit = min(view_px[0] / self.info.width, view_px[1] / self.info.height)
        return max(0, min(self.z_top, math.floor(self.z_max + math.log2(fit))))

    def _build_controls(self, center: tuple[float, float]) -> None:
        self.scale_html = widgets.HTML()
        self.scale_html.add_class("aignostics-scale-bar")
        self.readout = widgets.HTML()
        self.readout.add_class("aignostics-readout")
        self.measure_html = widgets.HTML()
        self.measure_html.add_class("aignostics-measurement")
        bottom_left = widgets.VBox([self.measure_html, self.readout, self.scale_html])
        self.map.add(WidgetControl(widget=bottom_left, position="bottomleft", transparent_bg=True))

        fit = min(180 / self.info.width, 140 / self.info.height)
        mini_zoom = min(self.z_top, math.floor(self.z_max + math.log2(fit)))  # may be negative: tiles of zoom 0 shrink
        scale = 2.0 ** (mini_zoom - self.z_max)
        size = (max(60, math.ceil(self.info.width * scale) + 4), max(40, math.ceil(self.info.height * scale) + 4))
        self.minimap = MiniMap(
            self.tile_url, center=center, zoom=mini_zoom, size=size, max_zoom=self.z_top, bounds=self._bounds()
        )
        self.minimap.map.on_interaction(self._on_minimap)
        self.map.add(self.minimap.control)

        self.layer_panel = LayerPanel()
        self.layer_panel.add(self.info.name, self.slide_layer)
        self.legend = Legend()
        self.map.add(self.legend.control)
        self.map.add(LayersControl(position="topright"))
        self.map.add(self.layer_panel.control)
        self.map.add(FullScreenControl(position="topleft"))

        label = self._url("associated/label") if "label" in self.info.associated_images else None
        self.properties = widgets.HTML(properties_html(self.slide_info_dict(), label))
        toggle = widgets.ToggleButton(value=False, description="Properties", icon="info", layout={"width": "110px"})
        panel = widgets.VBox([toggle])
        panel.add_class("aignostics-properties-panel")

        def show_properties(change: dict[str, Any]) -> None:
            panel.children = (toggle, self.properties) if change["new"] else (toggle,)

        toggle.observe(show_properties, "value")
        self.properties_toggle, self.properties_panel = toggle, panel
        self.map.add(WidgetControl(widget=panel, position="topright"))

        self.draw = DrawControl(
            polyline={"shapeOptions": {"color": "#0066ff", "weight": 3}},
            polygon={"shapeOptions": {"color": "#0066ff", "fillOpacity": 0.15}},
            rectangle={},
            circle={},
            circlemarker={},
            marker={},
        )
        self.draw.on_draw(self._on_draw)
        self.map.add(self.draw)
        self.popup: Popup | None = None

    def slide_info_dict(self) -> dict[str, Any]:
        """The slide's description as a dict, with its path relative to the tile server's root."""
        return {**self.info.model_dump(mode="json"), "path": self.relative_path}

    # ------------------------------------------------------------------------------------------- the view

    def _um(self, l0_x: float, l0_y: float) -> tuple[float, float]:
        mpp = self.mpp or (1.0, 1.0)
        return l0_x * mpp[0], l0_y * mpp[1]

    def um_per_px(self, zoom: float | None = None) -> float:
        """Micrometres per screen pixel at ``zoom`` (default: the current zoom); base pixels if the mpp is unknown."""
        mpp = self.mpp[0] if self.mpp else 1.0
        return um_per_screen_px(mpp, self.map.zoom if zoom is None else zoom, self.z_max)

    def _on_view(self, change: dict[str, Any] | None = None) -> None:
        lat, lng = self.map.center
        x_um, y_um = self._um(*l0_from_latlng(lat, lng, self.z_max))
        bar = scale_bar(self.um_per_px())
        if self.mpp is None:
            bar = bar._replace(label=bar.label.replace("µm", "px").replace("mm", "kpx"))
        self.scale_html.value = scale_bar_html(bar)
        view: dict[str, Any] = {"x_um": x_um, "y_um": y_um, "zoom": float(self.map.zoom), "um_per_px": self.um_per_px()}
        if self.map.north != self.map.south:
            x0, y0 = self._um(*l0_from_latlng(self.map.north, self.map.west, self.z_max))
            x1, y1 = self._um(*l0_from_latlng(self.map.south, self.map.east, self.z_max))
            view.update(x0_um=x0, y0_um=y0, x1_um=x1, y1_um=y1)
            self.minimap.show(self.map.south, self.map.west, self.map.north, self.map.east)
        self._moving = True
        try:
            self.viewport = view
        finally:
            self._moving = False

    @observe("viewport")
    def _viewport_set(self, change: dict[str, Any]) -> None:
        if self._moving:
            return
        new = change["new"]
        self.goto(new.get("x_um", self.viewport_center[0]), new.get("y_um", self.viewport_center[1]), new.get("zoom"))

    @property
    def viewport_center(self) -> tuple[float, float]:
        """The view's centre in µm."""
        lat, lng = self.map.center
        return self._um(*l0_from_latlng(lat, lng, self.z_max))

    def goto(self, x_um: float, y_um: float, zoom: float | None = None) -> None:
        """Centre the view on ``(x_um, y_um)`` (micrometres from the slide's top-left), optionally at ``zoom``."""
        mpp = self.mpp or (1.0, 1.0)
        with self.map.hold_trait_notifications():  # one view change, not one per trait
            self.map.center = latlng_from_l0(x_um / mpp[0], y_um / mpp[1], self.z_max)
            if zoom is not None:
                self.map.zoom = max(0.0, min(float(self.z_top), float(zoom)))
        self._on_view()

    # ------------------------------------------------------------------------------------------- overlays

    def add_overlay(
        self,
        path: str | Path,
        *,
        name: str | None = None,
        opacity: float | None = None,
        visible: bool = True,
        class_colors: dict[str, tuple[int, int, int]] | None = None,
        kind: str | None = None,
        class_names: list[str] | dict[int, str] | None = None,
        **style: Any,
    ) -> OverlayLayer:
        """Overlay a heatmap TIFF or a GeoJSON of features, rendered into tiles by the tile server.

        Args:
            path: The overlay file; it must lie under the same root as the slide.
            name: Layer name (default: the file name).
            opacity: Layer opacity (default 0.5 for rasters, 1 for features).
            visible: Show it now.
            class_colors: Colour overrides by class name.
            kind: Force how a raster is read (``labels``, ``rgb``, ``scalar``); default: guessed.
            class_names: Class names of a label raster, label 1 first.
            **style: Further :class:`~aignostics_jupyter.slides.overlays.models.OverlayStyle` fields
                (``fill_opacity`` for the fills' opacity, ``outline``, ``hidden_classes``, ``colormap``, …).

        Returns:
            The overlay layer (its ``layer`` is the ipyleaflet TileLayer).

        Raises:
            AignosticsError: When the file lies outside the tile server's root.
        """
        file = Path(path).resolve()
        relative = self.endpoint.relative(file)
        if relative is None:
            msg = f"{file.name} lies outside the tile server's root directory ({self.endpoint.root})."
            raise AignosticsError(msg)
        fill = style.pop("fill_opacity", None)
        overlay_style, layer_opacity = default_style(file, class_colors=class_colors, **style, opacity=fill)
        spec = overlay_spec(file, relative, kind=kind, class_names=class_names)
        ref = OverlayRef(self.relative_path, spec, overlay_style)
        name = name or file.name
        layer = TileLayer(
            url=overlay_tile_url(self.endpoint.prefix, ref.id, version=overlay_version(file, self.info.signature)),
            name=name,
            no_wrap=True,
            min_zoom=0,
            max_zoom=self.z_top,
            max_native_zoom=self.z_top,
            bounds=self._bounds(),
            attribution="",
            opacity=layer_opacity if opacity is None else opacity,
            visible=visible,
        )
        overlay = OverlayLayer(name, file, ref, layer, self._register(ref))
        self.remove_overlay(name)
        self.overlays[name] = overlay
        self.map.add(layer)
        self.layer_panel.add(name, layer)
        self.legend.set(name, overlay.legend())
        return overlay

    def _register(self, ref: OverlayRef) -> dict[str, Any]:
        """Register the overlay with the tile server (builds its index now) and return its description."""
        body = {
            "slide": ref.slide,
            "overlay": ref.spec.model_dump(mode="json", exclude_defaults=True),
            "style": ref.style.model_dump(mode="json", exclude_defaults=True),
        }
        try:
            answer: dict[str, Any] = self.endpoint.request("POST", "overlays", body=body)
        except AignosticsError as exc:
            # Tiles still work (the id is stateless); only the legend and clicks need this answer.
            return {"error": exc.message}
        return answer

    def remove_overlay(self, name: str) -> None:
        """Remove an overlay by name (no error when there is none)."""
        overlay = self.overlays.pop(name, None)
        if overlay is not None:
            self.map.remove(overlay.layer)
            self.legend.set(name, [])

    def add_results(self, folder: str | Path, item: str | None = None) -> list[OverlayLayer]:
        """Overlay every output of a run item: tissue QC and segmentation heatmaps and the classified cells.

        Args:
            folder: The run's download folder (``{dest}/{run_id}``) or the item's folder.
            item: The item's external id (e.g. the slide's path or URL) or folder name.

        Returns:
            The overlays added, in drawing order.
        """
        added = []
        for file, output in result_files(Path(folder), item):
            added.append(self.add_overlay(file, name=output.name, visible=output.visible, **dict(output.style)))
        return added

    # ------------------------------------------------------------------------------------------- events

    def _on_interaction(self, **event: Any) -> None:
        kind, coordinates = event.get("type"), event.get("coordinates")
        if not coordinates:
            return
        l0_x, l0_y = l0_from_latlng(coordinates[0], coordinates[1], self.z_max)
        if kind == "mousemove":
            self.readout.value = readout_html(l0_x, l0_y, self.mpp)
        elif kind == "click":
            self.click(l0_x, l0_y)

    def click(self, l0_x: float, l0_y: float) -> str:
        """What a click at base pixel ``(l0_x, l0_y)`` does: ask the tile server what lies there, show a popup.

        Returns:
            The popup's HTML ("" when nothing is there).
        """
        radius = _CLICK_TOLERANCE_PX * 2.0 ** (self.z_max - self.map.zoom)
        content, hits_by_layer = "", {}
        for overlay in reversed(list(self.overlays.values())):
            if not overlay.layer.visible:
                continue
            try:
                answer = self.endpoint.request(
                    "GET", f"overlays/{overlay.id}/features", params={"x": l0_x, "y": l0_y, "radius": radius}
                )
            except AignosticsError as exc:
                hits_by_layer[overlay.name] = {"error": exc.message}
                continue
            hits_by_layer[overlay.name] = answer
            content = popup_html(overlay.name, answer.get("features", []), answer.get("class_name"))
            if content:
                break
        self.last_click = {"x": l0_x, "y": l0_y, "answers": hits_by_layer, "html": content}
        if self.popup is not None:
            self.map.remove(self.popup)
            self.popup = None
        if content:
            self.popup = Popup(
                location=latlng_from_l0(l0_x, l0_y, self.z_max),
                child=widgets.HTML(content),
                close_button=True,
                auto_close=True,
                max_width=320,
            )
            self.map.add(self.popup)
        return content

    def _on_minimap(self, **event: Any) -> None:
        if event.get("type") == "click" and event.get("coordinates"):
            self.map.center = tuple(event["coordinates"])

    def _on_draw(self, target: Any, action: str, geo_json: dict[str, Any]) -> None:
        if action != "created":
            return
        geometry = geo_json.get("geometry", {})
        kind = geometry.get("type")
        ring = geometry.get("coordinates", [])
        ring = ring[0] if kind == "Polygon" else ring
        points = [l0_from_latlng(lat, lng, self.z_max) for lng, lat in ring]
        self.measure(points, closed=kind == "Polygon")

    def measure(self, l0_points: list[tuple[float, float]], *, closed: bool = False) -> dict[str, Any]:
        """Measure a path (ruler) or polygon given in base pixels, show it and keep it in :attr:`measurements`."""
        mpp = self.mpp or (1.0, 1.0)
        um2: float | None = None
        if closed:
            ring = [*l0_points, l0_points[0]] if l0_points and l0_points[0] != l0_points[-1] else l0_points
            um, um2 = path_length_um(ring, mpp), polygon_area_um2(l0_points, mpp)
        else:
            um = path_length_um(l0_points, mpp)
        result = {"kind": "polygon" if closed else "ruler", "um": um, "um2": um2, "l0_points": list(l0_points)}
        self.measurements.append(result)
        self.measure_html.value = measurement_html("Polygon" if closed else "Ruler", um, um2)
        return result

    # ------------------------------------------------------------------------------------------- export

    def export_region(
        self, x: int, y: int, w: int, h: int, level: int = 0, *, overlays: bool = True, annotate: bool = True
    ) -> Image.Image:
        """A region of the slide as a PIL image, with the visible overlays, a scale bar and a legend burned in.

        Args:
            x: Left edge in base pixels.
            y: Top edge in base pixels.
            w: Width in pixels of ``level``.
            h: Height in pixels of ``level``.
            level: The pyramid level to read.
            overlays: Draw the visible overlays.
            annotate: Draw the scale bar and the legend.
        """
        shown = [o for o in self.overlays.values() if o.layer.visible] if overlays else []
        return viewer_export.export_region(self.slide_path, self.info, (x, y, w, h), level, shown, annotate=annotate)

    def save_figure(self, path: str | Path, *, max_size: int = 2048, overlays: bool = True) -> Path:
        """Save the current view (at most ``max_size`` pixels wide) as an image with scale bar and legend."""
        return viewer_export.save_view(self, Path(path), max_size=max_size, overlays=overlays)
