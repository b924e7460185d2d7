"""The SlideViewer as a Python object: layers, zoom range, scale bar, readout, goto/viewport, measuring, clicks."""

from __future__ import annotations

import json
from pathlib import Path

import ipywidgets
import pytest
from ipyleaflet import DrawControl, FullScreenControl, LayersControl, Popup, TileLayer, projections

from aignostics_jupyter.exceptions import AignosticsError
from aignostics_jupyter.widgets.slide_viewer import SlideViewer
from aignostics_jupyter.widgets.units import l0_from_latlng
from tests.widgets.viewer_fixtures import HEIGHT, TOKEN, WIDTH, FakeEndpoint, fake_endpoint, make_root, slide_file

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def viewer_root(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_root(tmp_path, slide_file(tmp_path_factory))


@pytest.fixture
def endpoint(viewer_root: Path) -> FakeEndpoint:
    return fake_endpoint(viewer_root)


@pytest.fixture
def viewer(viewer_root: Path, endpoint: FakeEndpoint) -> SlideViewer:
    return SlideViewer(viewer_root / "slides" / "case.svs", endpoint=(endpoint, "slides/case.svs"))


@pytest.mark.unit
def test_slide_layer_uses_a_root_relative_url_without_token(viewer: SlideViewer) -> None:
    url = viewer.slide_layer.url

    assert url.startswith("/user/demo/aignostics-jupyter/slides/tiles/{z}/{x}/{y}.jpg?path=slides%2Fcase.svs&v=")
    assert viewer.map.crs == projections.Simple
    assert viewer.slide_layer.base is True
    assert viewer.map.layers[0] is viewer.slide_layer


@pytest.mark.unit
def test_zoom_runs_from_overview_to_one_past_native(viewer: SlideViewer) -> None:
    assert viewer.z_max == 4
    assert (viewer.map.min_zoom, viewer.map.max_zoom) == (0, 5)
    assert viewer.slide_layer.max_native_zoom == 5
    # The overview: the whole slide fits 900 x 560 pixels at the start zoom, not at the next.
    zoom = viewer.map.zoom
    assert WIDTH / 2 ** (viewer.z_max - zoom) <= 900
    assert HEIGHT / 2 ** (viewer.z_max - zoom) <= 560
    assert WIDTH / 2 ** (viewer.z_max - zoom - 1) > 900 or HEIGHT / 2 ** (viewer.z_max - zoom - 1) > 560
    lat, lng = viewer.map.center
    assert l0_from_latlng(lat, lng, viewer.z_max) == pytest.approx((WIDTH / 2, HEIGHT / 2))


@pytest.mark.unit
def test_controls_are_on_the_map(viewer: SlideViewer) -> None:
    kinds = {type(control) for control in viewer.map.controls}

    assert {FullScreenControl, LayersControl}.issubset(kinds)
    assert any(isinstance(layer, DrawControl) for layer in viewer.map.controls)
    assert viewer.minimap.control in viewer.map.controls
    assert "aignostics-scale-bar" in viewer.scale_html._dom_classes


@pytest.mark.unit
def test_scale_bar_follows_the_zoom(viewer: SlideViewer) -> None:
    viewer.map.zoom = 2  # 2 µm per screen pixel
    at_2 = viewer.scale_html.value
    viewer.map.zoom = 4  # native: 0.5 µm per pixel
    at_4 = viewer.scale_html.value
    viewer.map.zoom = 0  # 8 µm per pixel
    at_0 = viewer.scale_html.value

    assert ">200 µm<" in at_2
    assert "width:100px" in at_2
    assert ">50 µm<" in at_4
    assert "width:100px" in at_4
    assert ">500 µm<" in at_0
    assert "width:62px" in at_0
    assert viewer.viewport["um_per_px"] == pytest.approx(8.0)


@pytest.mark.unit
def test_cursor_readout_in_pixels_and_um(viewer: SlideViewer) -> None:
    lat, lng = -1000 / 2**viewer.z_max, 2000 / 2**viewer.z_max

    viewer.map._handle_leaflet_event(
        None, {"event": "interaction", "type": "mousemove", "coordinates": [lat, lng]}, None
    )

    assert "x 2,000 px, y 1,000 px" in viewer.readout.value
    assert "1 mm, 500 µm" in viewer.readout.value


@pytest.mark.unit
def test_goto_centres_on_micrometres_and_updates_the_viewport(viewer: SlideViewer) -> None:
    viewer.goto(600.0, 250.0, zoom=4)

    lat, lng = viewer.map.center
    assert l0_from_latlng(lat, lng, viewer.z_max) == pytest.approx((1200, 500))
    assert viewer.map.zoom == 4
    assert viewer.viewport["x_um"] == pytest.approx(600.0)
    assert viewer.viewport["y_um"] == pytest.approx(250.0)
    assert viewer.viewport["zoom"] == 4


@pytest.mark.unit
def test_assigning_the_viewport_moves_the_map(viewer: SlideViewer) -> None:
    viewer.viewport = {"x_um": 100.0, "y_um": 80.0, "zoom": 3}

    assert viewer.map.zoom == 3
    assert viewer.viewport_center == pytest.approx((100.0, 80.0))


@pytest.mark.unit
def test_viewport_reports_the_visible_bounds_in_um(viewer: SlideViewer) -> None:
    z = viewer.z_max
    # The front end reports the map's bounds; here the view shows base pixels 0..1024 x 0..512.
    viewer.map.set_trait("north", 0.0)
    viewer.map.set_trait("west", 0.0)
    viewer.map.set_trait("south", -512 / 2**z)
    viewer.map.set_trait("east", 1024 / 2**z)

    view = viewer.viewport
    assert (view["x0_um"], view["y0_um"], view["x1_um"], view["y1_um"]) == pytest.approx((0, 0, 512, 256))
    south, east = -512 / 2**z, 1024 / 2**z
    assert [tuple(c) for c in viewer.minimap.frame.locations] == [(south, 0.0), (0.0, 0.0), (0.0, east), (south, east)]


@pytest.mark.unit
def test_ruler_and_polygon_report_um_and_mm2(viewer: SlideViewer) -> None:
    z = viewer.z_max
    line = {"geometry": {"type": "LineString", "coordinates": [[0, 0], [300 / 2**z, -400 / 2**z]]}}
    square = [[0, 0], [2000 / 2**z, 0], [2000 / 2**z, -2000 / 2**z], [0, -2000 / 2**z], [0, 0]]

    viewer._on_draw(viewer.draw, "created", line)
    viewer._on_draw(viewer.draw, "created", {"geometry": {"type": "Polygon", "coordinates": [square]}})

    ruler, polygon = viewer.measurements
    assert ruler["um"] == pytest.approx(250.0)  # 500 px at 0.5 µm
    assert polygon["um2"] == pytest.approx(1_000_000.0)
    assert polygon["um"] == pytest.approx(4000.0)
    assert "area 1 mm²" in viewer.measure_html.value


@pytest.mark.unit
def test_properties_panel_lists_vendor_mpp_dimensions_and_label(viewer: SlideViewer) -> None:
    text = viewer.properties.value

    assert "aperio" in text
    assert "0.5 x 0.5 µm/px" in text
    assert "20x" in text
    assert "3,000 x 2,000 px" in text
    assert 'src="/user/demo/aignostics-jupyter/slides/associated/label?path=slides%2Fcase.svs"' in text
    assert viewer.properties not in viewer.properties_panel.children
    viewer.properties_toggle.value = True
    assert viewer.properties in viewer.properties_panel.children


@pytest.mark.unit
def test_no_synced_state_carries_the_kernel_token(viewer: SlideViewer, viewer_root: Path) -> None:
    viewer.add_overlay(viewer_root / "slides" / "case.svs", name="again")  # any file under the root

    states = [json.dumps(w.get_state(), default=str) for w in list(ipywidgets.Widget._active_widgets.values())]

    assert states
    assert not any(TOKEN in state for state in states)
    assert not any("token=" in state for state in states)


@pytest.mark.unit
def test_add_overlay_adds_a_tile_layer_with_legend(
    viewer: SlideViewer, viewer_root: Path, endpoint: FakeEndpoint
) -> None:
    cells = viewer_root / "results" / "cells.geojson"
    cells.parent.mkdir()
    cells.write_text('{"type": "FeatureCollection", "features": []}')
    endpoint.answers["POST overlays"] = {
        "id": "x",
        "kind": "vector",
        "classes": [
            {"name": "Tumor", "color": [200, 0, 0], "count": 3},
            {"name": "Stroma", "color": [0, 160, 0], "count": 1},
        ],
    }

    overlay = viewer.add_overlay(cells, name="Cells", opacity=0.8)

    assert isinstance(overlay.layer, TileLayer)
    assert overlay.layer in viewer.map.layers
    assert overlay.layer.url.startswith(
        f"/user/demo/aignostics-jupyter/overlays/{overlay.id}/tiles/{{z}}/{{x}}/{{y}}.png?v="
    )
    assert overlay.layer.opacity == 0.8
    assert overlay.ref.slide == "slides/case.svs"
    assert overlay.ref.path == "results/cells.geojson"
    method, path, body = endpoint.calls[-1]
    assert (method, path, body["slide"]) == ("POST", "overlays", "slides/case.svs")
    assert body["overlay"] == {"path": "results/cells.geojson"}
    assert "Tumor" in viewer.legend.html.value
    assert "rgb(200,0,0)" in viewer.legend.html.value
    assert viewer.layer_panel.sliders["Cells"].value == 0.8


@pytest.mark.unit
def test_layer_opacity_slider_drives_the_layer(viewer: SlideViewer, viewer_root: Path) -> None:
    overlay = viewer.add_overlay(viewer_root / "slides" / "case.svs", name="Heat")

    viewer.layer_panel.sliders["Heat"].value = 0.25

    assert overlay.layer.opacity == 0.25


@pytest.mark.unit
def test_overlay_outside_the_root_is_refused(viewer: SlideViewer, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.geojson"
    outside.write_text("{}")

    with pytest.raises(AignosticsError, match="outside"):
        viewer.add_overlay(outside)


@pytest.mark.unit
def test_click_on_a_cell_shows_its_class_from_the_server(
    viewer: SlideViewer, viewer_root: Path, endpoint: FakeEndpoint
) -> None:
    cells = viewer_root / "cells.geojson"
    cells.write_text("{}")
    endpoint.answers["POST overlays"] = {"kind": "vector", "classes": []}
    hit = {
        "index": 7,
        "id": "cell-7",
        "class_name": "Lymphocyte",
        "color": [0, 80, 220],
        "area_um2": 40.5,
        "measurements": {"Area": 162.0},
    }
    endpoint.answers["GET features"] = lambda body, params: {"features": [hit] if params["x"] > 100 else []}
    overlay = viewer.add_overlay(cells, name="Cells")
    viewer.map.zoom = viewer.z_max
    lat, lng = -50 / 2**viewer.z_max, 150 / 2**viewer.z_max

    viewer.map._handle_leaflet_event(None, {"event": "interaction", "type": "click", "coordinates": [lat, lng]}, None)

    assert isinstance(viewer.popup, Popup)
    assert viewer.popup in viewer.map.layers
    assert "Lymphocyte" in viewer.popup.child.value
    assert "cell-7" in viewer.popup.child.value
    _, path, params = endpoint.calls[-1]
    assert path == f"overlays/{overlay.id}/features"
    assert params["x"] == pytest.approx(150)
    assert params["y"] == pytest.approx(50)
    assert params["radius"] == pytest.approx(4.0)
    # A click on nothing closes the popup.
    assert viewer.click(10.0, 10.0) == ""
    assert viewer.popup is None


@pytest.mark.unit
def test_add_results_adds_the_outputs_of_an_item(
    viewer: SlideViewer, viewer_root: Path, endpoint: FakeEndpoint
) -> None:
    item = viewer_root / "results" / "run-1" / "case"
    item.mkdir(parents=True)
    for name in (
        "tissue_qc_segmentation_map_image.tiff",
        "tissue_segmentation_segmentation_map_image.tiff",
        "cell_classification_geojson_polygons.json",
    ):
        (item / name).write_bytes(b"x")

    added = viewer.add_results(viewer_root / "results" / "run-1", "slides/case.svs")

    assert [o.name for o in added] == ["Tissue QC", "Tissue segmentation", "Cells"]
    assert [o.layer.visible for o in added] == [False, True, True]
    assert added[1].ref.style.hidden_classes == ["background"]
    assert added[1].layer.opacity == 0.5
    assert added[2].layer.opacity == 1.0


@pytest.mark.unit
def test_add_results_names_what_it_looked_for(viewer: SlideViewer, viewer_root: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"cell_classification_geojson_polygons\.json"):
        viewer.add_results(viewer_root, "nothing")


@pytest.mark.unit
def test_overlay_url_changes_when_the_file_changes(viewer: SlideViewer, viewer_root: Path) -> None:
    cells = viewer_root / "cells.json"
    cells.write_text('{"type": "FeatureCollection", "features": []}')
    first = viewer.add_overlay(cells, name="Cells").layer.url
    cells.write_text('{"type": "FeatureCollection", "features": [], "changed": true}')

    second = viewer.add_overlay(cells, name="Cells").layer.url

    assert first != second
    assert first.split("?")[0] == second.split("?")[0]  # same overlay id: only the cache buster differs
    assert list(viewer.overlays) == ["Cells"]


@pytest.mark.unit
def test_heatmap_class_colours_come_from_the_tiff_description(viewer: SlideViewer, viewer_root: Path) -> None:
    import numpy as np
    import tifffile

    colors = {"background": [0, 0, 0], "tumor": [220, 40, 40]}
    path = viewer_root / "heatmap.tiff"
    description = json.dumps({"classes": list(colors), "class_colors": colors, "base_mpp": 8.0})
    tifffile.imwrite(path, np.zeros((4, 4, 3), np.uint8), photometric="rgb", description=description, metadata=None)

    overlay = viewer.add_overlay(path, name="Segmentation")

    assert overlay.ref.spec.class_colors == {"background": (0, 0, 0), "tumor": (220, 40, 40)}
    assert overlay.ref.style.hidden_classes == ["background"]
    assert overlay.layer.opacity == 0.5
