"""Figures from the viewer (region pixels, overlays at their opacity, scale bar, legend), linking and the gallery."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from aignostics_jupyter.exceptions import InvalidInputError
from aignostics_jupyter.slides import open_slide
from aignostics_jupyter.widgets.slide_gallery import SlideGallery
from aignostics_jupyter.widgets.slide_viewer import SlideViewer
from aignostics_jupyter.widgets.viewer_export import burn_legend, burn_scale_bar
from aignostics_jupyter.widgets.viewer_link import link_viewers
from tests.widgets.viewer_fixtures import MPP, FakeEndpoint, fake_endpoint, make_root, slide_file

pytestmark = pytest.mark.timeout(30)

SQUARE = (1000, 600, 1400, 1000)  # x0, y0, x1, y1 of a red "Tumor" polygon, base pixels


@pytest.fixture
def root(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_root(tmp_path, slide_file(tmp_path_factory))
    x0, y0, x1, y1 = SQUARE
    feature = {
        "type": "Feature",
        "id": "t-1",
        "geometry": {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]},
        "properties": {"classification": {"name": "Tumor", "color": [255, 0, 0]}},
    }
    (root / "cells.json").write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    return root


@pytest.fixture
def endpoint(root: Path) -> FakeEndpoint:
    endpoint = fake_endpoint(root)
    endpoint.answers["POST overlays"] = {"kind": "vector", "classes": [{"name": "Tumor", "color": [255, 0, 0]}]}
    return endpoint


@pytest.fixture
def viewer(root: Path, endpoint: FakeEndpoint) -> SlideViewer:
    return SlideViewer(root / "slides" / "case.svs", endpoint=(endpoint, "slides/case.svs"))


@pytest.mark.integration
def test_export_region_without_annotations_is_the_slide_region(viewer: SlideViewer) -> None:
    image = viewer.export_region(500, 400, 300, 200, level=0, overlays=False, annotate=False)

    with open_slide(viewer.slide_path) as source:
        expected = np.asarray(source.read_region((500, 400), 0, (300, 200)).convert("RGB"))
    assert image.size == (300, 200)
    assert image.mode == "RGB"
    assert np.array_equal(np.asarray(image), expected)


@pytest.mark.integration
def test_export_region_burns_in_overlays_scale_bar_and_legend(viewer: SlideViewer, root: Path) -> None:
    overlay = viewer.add_overlay(root / "cells.json", name="Cells", fill_opacity=1.0, outline=False)
    plain = np.asarray(viewer.export_region(800, 400, 800, 800, level=0, overlays=False, annotate=False)).astype(int)

    image = np.asarray(viewer.export_region(800, 400, 800, 800, level=0)).astype(int)
    overlay.layer.opacity = 0.5
    faded = np.asarray(viewer.export_region(800, 400, 800, 800, level=0, annotate=False)).astype(int)

    inside = (400, 400)  # base pixel (1200, 800): inside the square
    assert tuple(image[inside]) == (255, 0, 0)
    assert np.abs(faded[inside] - (plain[inside] + np.array([255, 0, 0])) / 2).max() <= 2
    assert np.array_equal(image[100, 100], plain[100, 100])  # outside the square, far from the annotations
    # The scale bar: 800 px at 0.5 µm is 400 µm wide; the bar is the longest 1-2-5 length within a fifth: 50 µm.
    bottom_left = image[700:790, 10:200]
    assert (bottom_left.sum(axis=2) == 0).sum() >= 100 * 4  # a solid black bar at least 100 px x 4 px
    top_right = image[12:40, 700:790]
    assert ((top_right == (255, 255, 255)).all(axis=2)).mean() > 0.3  # the legend's white box
    assert ((top_right == (255, 0, 0)).all(axis=2)).sum() > 20  # with the red swatch


@pytest.mark.integration
def test_export_at_a_reduced_level_scales_the_scale_bar(viewer: SlideViewer) -> None:
    image = viewer.export_region(0, 0, 750, 500, level=1, overlays=False)

    assert image.size == (750, 500)
    bar_row = np.asarray(image)[480:495, 12:400].sum(axis=2).min(axis=0) == 0
    # level 1 is 4x: 2 µm per pixel; a fifth of 750 px is 300 µm -> a 200 µm bar of 100 px.
    assert 95 <= bar_row.sum() <= 105


@pytest.mark.unit
@pytest.mark.parametrize("region", [(0, 0, 0, 10), (0, 0, 10, -1), (0, 0, 20000, 20000)])
def test_export_refuses_empty_or_huge_regions(viewer: SlideViewer, region: tuple[int, int, int, int]) -> None:
    with pytest.raises(InvalidInputError):
        viewer.export_region(*region)


@pytest.mark.unit
def test_export_refuses_a_missing_level(viewer: SlideViewer) -> None:
    with pytest.raises(InvalidInputError, match="Level 7"):
        viewer.export_region(0, 0, 10, 10, level=7)


@pytest.mark.integration
def test_save_figure_writes_the_current_view(viewer: SlideViewer, tmp_path: Path) -> None:
    z = viewer.z_max
    viewer.map.set_trait("north", -200 / 2**z)
    viewer.map.set_trait("west", 300 / 2**z)
    viewer.map.set_trait("south", -600 / 2**z)
    viewer.map.set_trait("east", 1100 / 2**z)

    path = viewer.save_figure(tmp_path / "out" / "figure.png", max_size=400)

    with Image.open(path) as image:
        assert image.size == (400, 200)  # 800 x 400 base pixels, halved to fit 400
        assert image.format == "PNG"


@pytest.mark.unit
def test_burn_helpers_draw_in_place() -> None:
    image = Image.new("RGB", (500, 300), (200, 200, 200))

    burn_scale_bar(image, um_per_px=1.0)
    burn_legend(image, [("Tumor", (255, 0, 0)), ("Stroma", (0, 255, 0))])

    pixels = np.asarray(image)
    assert (pixels[250:300, :150].sum(axis=2) == 0).any()
    assert ((pixels[:80, 350:] == (0, 255, 0)).all(axis=2)).any()
    assert burn_legend(image, []) is image


@pytest.mark.unit
def test_linked_viewers_share_position_and_physical_scale(
    root: Path, endpoint: FakeEndpoint, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from aignostics_jupyter.slides.writers import write_test_pattern_slide

    coarse = write_test_pattern_slide(root / "coarse.svs", 1500, 1000, "svs", MPP * 2, smallest_level=400)
    a = SlideViewer(root / "slides" / "case.svs", endpoint=(endpoint, "slides/case.svs"))
    b = SlideViewer(coarse, endpoint=(endpoint, "coarse.svs"))
    unlink = link_viewers(a, b)

    a.goto(700.0, 450.0, zoom=4)  # a: 0.5 µm per screen pixel

    assert b.viewport_center == pytest.approx((700.0, 450.0))
    assert b.um_per_px() == pytest.approx(0.5)  # b's base pixel is 1 µm: one zoom step past its native
    assert b.map.zoom == b.z_max + 1
    b.goto(100.0, 50.0)
    assert a.viewport_center == pytest.approx((100.0, 50.0))
    unlink()
    b.goto(300.0, 300.0)
    assert a.viewport_center == pytest.approx((100.0, 50.0))


@pytest.mark.unit
def test_link_needs_two_viewers(viewer: SlideViewer) -> None:
    with pytest.raises(ValueError, match="two"):
        link_viewers(viewer)


@pytest.mark.integration
def test_gallery_shows_thumbnails_and_opens_a_viewer(root: Path, endpoint: FakeEndpoint) -> None:
    (root / "notes.txt").write_text("not a slide")

    gallery = SlideGallery([root / "slides" / "case.svs", root / "notes.txt"], endpoint=endpoint)

    good, bad = gallery.cards
    assert (good["name"], good["width"], good["height"], good["mpp"]) == ("case.svs", 3000, 2000, MPP)
    assert good["thumbnail"].startswith(
        "/user/demo/aignostics-jupyter/slides/thumbnail?path=slides%2Fcase.svs&size=160"
    )
    assert "error" in bad
    viewer = gallery.show(0)
    assert isinstance(viewer, SlideViewer)
    assert gallery.output.children == (viewer,)
    assert viewer.relative_path == "slides/case.svs"
