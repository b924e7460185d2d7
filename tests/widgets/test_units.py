from __future__ import annotations

import math

import pytest

from aignostics_jupyter.widgets.units import (
    format_area,
    format_length,
    path_length_um,
    polygon_area_um2,
    scale_bar,
    um_per_screen_px,
    zoom_for_um_per_px,
)


@pytest.mark.unit
@pytest.mark.parametrize(("z", "expected"), [(9, 0.25), (8, 0.5), (10, 0.125), (5, 4.0)])
def test_um_per_screen_px_halves_per_zoom(z: int, expected: float) -> None:
    assert um_per_screen_px(0.25, z, z_max=9) == expected


@pytest.mark.unit
@pytest.mark.parametrize("um_per_px", [0.1, 0.25, 1.0, 3.7, 64.0])
def test_zoom_for_um_per_px_inverts_um_per_screen_px(um_per_px: float) -> None:
    zoom = zoom_for_um_per_px(um_per_px, mpp=0.25, z_max=9)

    assert math.isclose(um_per_screen_px(0.25, zoom, 9), um_per_px)


@pytest.mark.unit
def test_zoom_for_um_per_px_rejects_non_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        zoom_for_um_per_px(0, 0.25, 9)


@pytest.mark.unit
@pytest.mark.parametrize(
    ("um_per_px", "um", "label"),
    [
        (2.0, 200.0, "200 µm"),
        (0.25, 20.0, "20 µm"),
        (0.125, 10.0, "10 µm"),
        (16.0, 1000.0, "1 mm"),
        (0.004, 0.2, "200 nm"),
        (1.0, 100.0, "100 µm"),
    ],
)
def test_scale_bar_is_the_longest_1_2_5_length_that_fits(um_per_px: float, um: float, label: str) -> None:
    bar = scale_bar(um_per_px, max_px=120)

    assert math.isclose(bar.um, um)
    assert bar.label == label
    assert bar.px <= 120
    assert math.isclose(bar.px * um_per_px, bar.um)
    assert bar.px > 120 / 2.5  # the next 1-2-5 step would not fit


@pytest.mark.unit
def test_scale_bar_rejects_non_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        scale_bar(0.0)


@pytest.mark.unit
@pytest.mark.parametrize(
    ("um", "text"),
    [
        (0.25, "250 nm"),
        (1.0, "1 µm"),
        (12.345, "12.3 µm"),
        (999.0, "999 µm"),
        (1500.0, "1.5 mm"),
        (20000, "20 mm"),
        (0, "0 nm"),
    ],
)
def test_format_length(um: float, text: str) -> None:
    assert format_length(um) == text


@pytest.mark.unit
@pytest.mark.parametrize(
    ("um2", "text"), [(250.0, "250 µm²"), (9999.0, "9999 µm²"), (2_500_000.0, "2.5 mm²"), (10_000.0, "0.01 mm²")]
)
def test_format_area(um2: float, text: str) -> None:
    assert format_area(um2) == text


@pytest.mark.unit
def test_path_length_respects_anisotropic_mpp() -> None:
    points = [(0.0, 0.0), (100.0, 0.0), (100.0, 50.0)]

    assert path_length_um(points, (0.5, 0.25)) == pytest.approx(50.0 + 12.5)
    assert path_length_um([(0.0, 0.0), (3.0, 4.0)], (1.0, 1.0)) == pytest.approx(5.0)
    assert path_length_um([(1.0, 1.0)], (1.0, 1.0)) == 0.0


@pytest.mark.unit
def test_polygon_area_of_a_square_in_um2_and_mm2() -> None:
    square = [(0.0, 0.0), (2000.0, 0.0), (2000.0, 2000.0), (0.0, 2000.0)]

    area = polygon_area_um2(square, (0.5, 0.5))

    assert area == pytest.approx(1_000_000.0)
    assert format_area(area) == "1 mm²"
    assert polygon_area_um2([*square, square[0]], (0.5, 0.5)) == pytest.approx(area)
    assert polygon_area_um2(square[:2], (0.5, 0.5)) == 0.0
