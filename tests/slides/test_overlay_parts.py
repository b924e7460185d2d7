"""Unit tests of the overlay building blocks: colours, GeoJSON columns, the grid index."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from aignostics_jupyter.exceptions import InvalidInputError, UnsupportedSlideError
from aignostics_jupyter.slides.overlays.colors import (
    PALETTE,
    colormap_lut,
    default_color,
    parse_class_colors,
    parse_color,
)
from aignostics_jupyter.slides.overlays.geojson import LINE, POINT, POLYGON, FeatureArrays, parse_features, read_geojson
from aignostics_jupyter.slides.overlays.grid_index import GridIndex

pytestmark = pytest.mark.unit

SQUARE = [[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]]


def feature(geometry: dict[str, object], **props: object) -> dict[str, object]:
    return {"type": "Feature", "geometry": geometry, "properties": props}


@pytest.mark.parametrize(
    ("value", "rgb"),
    [
        ([255, 0, 0], (255, 0, 0)),
        ([1, 2, 3, 4], (1, 2, 3)),
        ((10.0, 20.0, 30.0), (10, 20, 30)),
        ("#00ff80", (0, 255, 128)),
        ("#00FF80cc", (0, 255, 128)),
        ("rgb(1, 2, 3)", (1, 2, 3)),
        (-65536, (255, 0, 0)),  # QuPath colorRGB: opaque red as a signed Java int
        (0x00FF00, (0, 255, 0)),
        ([256, 0, 0], None),
        ("red", None),
        ("#zzzzzz", None),
        (True, None),
        (None, None),
        ([1, 2], None),
        (["a", "b", "c"], None),
    ],
)
def test_parse_color(value: object, rgb: tuple[int, int, int] | None) -> None:
    assert parse_color(value) == rgb


def test_class_colors_and_palette() -> None:
    assert parse_class_colors({"tumor": [255, 0, 0], "bad": "nope", 3: "#000000"}) == {
        "tumor": (255, 0, 0),
        "3": (0, 0, 0),
    }
    assert parse_class_colors(None) == {}
    assert default_color(0) == PALETTE[0]
    assert default_color(len(PALETTE)) == PALETTE[0]


@pytest.mark.parametrize("name", ["viridis", "inferno", "coolwarm", "gray"])
def test_colormaps(name: str) -> None:
    lut = colormap_lut(name)
    assert lut.shape == (256, 3)
    assert lut.dtype == np.uint8
    if name == "gray":
        assert lut[0].tolist() == [0, 0, 0]
        assert lut[255].tolist() == [255, 255, 255]
        assert lut[128].tolist() == [128, 128, 128]


def test_unknown_colormap() -> None:
    with pytest.raises(InvalidInputError, match="Unknown colormap 'jet'"):
        colormap_lut("jet")


def test_parse_features_all_geometry_kinds() -> None:
    document = {
        "type": "FeatureCollection",
        "features": [
            feature(
                {"type": "Polygon", "coordinates": [SQUARE, [[2, 2], [4, 2], [4, 4], [2, 2]]]},
                classification={"name": "Tumor", "color": [200, 0, 0]},
                measurements={"Area": 100.0, "Count": 3, "Label": "x"},
            ),
            feature(
                {"type": "MultiPolygon", "coordinates": [[SQUARE], [[[20, 20], [30, 20], [30, 30], [20, 20]]]]},
                classification={"name": "Stroma", "colorRGB": -16744448},
                measurements=[{"name": "Area", "value": 250.5}, {"name": "Perimeter", "value": 70}],
            ),
            feature({"type": "Point", "coordinates": [5, 6]}, **{"class": "Lymphocyte"}),
            feature({"type": "MultiPoint", "coordinates": [[1, 1], [3, 5]]}, classification="Lymphocyte"),
            feature({"type": "LineString", "coordinates": [[0, 0], [100, 50]]}),
            feature({"type": "MultiLineString", "coordinates": [[[0, 0], [1, 1]], [[5, 5], [6, 8, 1.5]]]}),
            {"type": "Feature", "geometry": None, "properties": {}},
            feature({"type": "Polygon", "coordinates": []}),
            feature({"type": "Unknown", "coordinates": [1, 2]}),
        ],
    }
    arrays = parse_features(document)
    assert arrays.count == 6
    assert arrays.kind.tolist() == [POLYGON, POLYGON, POINT, POINT, LINE, LINE]
    assert arrays.class_names == ["Tumor", "Stroma", "Lymphocyte", "Unclassified"]
    assert arrays.class_id.tolist() == [0, 1, 2, 2, 3, 3]
    assert arrays.class_colors[0] == (200, 0, 0)
    assert arrays.class_colors[1] == (0, 128, 0)
    assert arrays.class_colors[2] == default_color(2)
    assert arrays.bbox[1].tolist() == [0, 0, 30, 30]
    assert arrays.bbox[2].tolist() == [5, 6, 5, 6]
    assert arrays.bbox[5].tolist() == [0, 0, 6, 8]
    assert arrays.centroid[2].tolist() == [5, 6]
    assert arrays.ring_hole.tolist() == [False, True, False, False, False, False, False, False, False]
    assert arrays.ring_feature.tolist() == [0, 0, 1, 1, 2, 3, 4, 5, 5]
    assert arrays.measurement_names == ["Area", "Count", "Perimeter"]
    assert arrays.measurements[0, 0] == 100.0
    assert arrays.measurements[0, 1] == 3.0
    assert np.isnan(arrays.measurements[0, 2])
    assert arrays.measurements[1].tolist() == [250.5, pytest.approx(np.nan, nan_ok=True), 70.0]


def test_parse_features_document_shapes_and_overrides() -> None:
    polygon = {"type": "Polygon", "coordinates": [SQUARE]}
    assert parse_features(polygon).count == 1
    assert parse_features([feature(polygon), feature(polygon)]).count == 2
    assert parse_features(feature(polygon, classification={"name": "A", "color": [1, 2, 3]})).class_colors == [
        (1, 2, 3)
    ]
    overridden = parse_features(feature(polygon, classification={"name": "A"}), class_colors={"A": (9, 9, 9)})
    assert overridden.class_colors == [(9, 9, 9)]
    collection = {"type": "GeometryCollection", "geometries": [polygon, {"type": "Point", "coordinates": [1, 1]}]}
    assert parse_features(collection).count == 2
    assert parse_features({"type": "FeatureCollection", "features": []}).count == 0
    assert parse_features("nonsense").count == 0
    with_id = parse_features({**feature(polygon), "id": 7})
    assert with_id.ids == ["7"]
    names = parse_features(feature(polygon, classification={"names": ["Tumor", "Positive"]}))
    assert names.class_names == ["Tumor: Positive"]


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    arrays = parse_features(
        [
            feature(
                {"type": "Polygon", "coordinates": [SQUARE]}, classification={"name": "Tumor"}, measurements={"A": 1.5}
            )
        ]
    )
    arrays.save(tmp_path / "c.npz")
    loaded = FeatureArrays.load(tmp_path / "c.npz")
    assert loaded.class_names == ["Tumor"]
    assert loaded.measurement_names == ["A"]
    assert np.array_equal(loaded.coords, arrays.coords)
    assert np.array_equal(loaded.bbox, arrays.bbox)
    assert loaded.ids == [None]


def test_read_geojson_errors(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(UnsupportedSlideError, match=r"^bad\.json is not a readable GeoJSON file"):
        read_geojson(tmp_path / "bad.json")
    (tmp_path / "empty.json").write_text(json.dumps({"type": "FeatureCollection", "features": []}))
    with pytest.raises(UnsupportedSlideError, match=r"^empty\.json holds no GeoJSON feature"):
        read_geojson(tmp_path / "empty.json")
    (tmp_path / "broken.json").write_text(json.dumps(feature({"type": "Polygon", "coordinates": [[[1]]]})))
    with pytest.raises(UnsupportedSlideError, match=r"^broken\.json has malformed GeoJSON geometries"):
        read_geojson(tmp_path / "broken.json")


@pytest.mark.parametrize("seed", range(5))
def test_grid_index_matches_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 3000
    x0 = rng.uniform(0, 10_000, n)
    y0 = rng.uniform(0, 8_000, n)
    size = np.where(rng.uniform(size=n) < 0.01, rng.uniform(2000, 9000, n), rng.uniform(0, 40, n))
    bbox = np.stack([x0, y0, x0 + size, y0 + size * rng.uniform(0.5, 1.5, n)], axis=1)
    index = GridIndex(bbox)
    assert len(index.large) > 0
    for _ in range(100):
        qx, qy = rng.uniform(-500, 10_500), rng.uniform(-500, 8_500)
        qw, qh = rng.uniform(0, 3000) ** rng.uniform(0.5, 1), rng.uniform(0, 3000) ** rng.uniform(0.5, 1)
        expected = np.flatnonzero(
            (bbox[:, 0] <= qx + qw) & (bbox[:, 2] >= qx) & (bbox[:, 1] <= qy + qh) & (bbox[:, 3] >= qy)
        )
        assert index.query(qx, qy, qx + qw, qy + qh).tolist() == expected.tolist()


def test_grid_index_edges() -> None:
    empty = GridIndex(np.zeros((0, 4)))
    assert empty.query(0, 0, 10, 10).tolist() == []
    index = GridIndex(np.array([[0.0, 0.0, 10.0, 10.0]]), cell_size=4)
    assert index.query(10, 10, 20, 20).tolist() == [0]  # touching edges count
    assert index.query(10.5, 0, 20, 20).tolist() == []
    assert index.query(5, 5, 4, 4).tolist() == []  # inverted rectangle
