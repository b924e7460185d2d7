"""Large GeoJSON overlays are parsed in a short-lived child process; workers only load the parsed cache."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aignostics_jupyter.exceptions import UnsupportedSlideError
from aignostics_jupyter.slides.overlays import loader, parse_child, vector
from aignostics_jupyter.slides.overlays.loader import OverlaySpec, open_overlay
from aignostics_jupyter.slides.overlays.synthetic import cell_features
from aignostics_jupyter.slides.overlays.vector import VectorOverlay

pytestmark = pytest.mark.integration


def _no_parse(*args: object, **kwargs: object) -> None:
    raise AssertionError("parsed in this process")


def test_child_parse_fills_the_cache_and_this_process_only_loads_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "cells.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": cell_features(200, 2048, 2048, seed=3)}))
    expected = VectorOverlay.from_file(path)
    monkeypatch.setattr(loader, "CHILD_PARSE_MIN_BYTES", 0)
    monkeypatch.setattr(vector, "read_geojson", _no_parse)
    overlay = open_overlay(OverlaySpec(path=str(path)), cache_dir=tmp_path / "cache")
    assert isinstance(overlay, VectorOverlay)
    assert overlay.features.count == expected.features.count == 200
    assert list((tmp_path / "cache").glob("*.features"))


def test_child_parse_gives_the_same_error_for_bad_geojson(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "broken.geojson"
    path.write_text('{"type": "FeatureCollection", "features": [')
    with pytest.raises(UnsupportedSlideError) as in_place:
        open_overlay(OverlaySpec(path=str(path)), cache_dir=tmp_path / "a")
    monkeypatch.setattr(loader, "CHILD_PARSE_MIN_BYTES", 0)
    with pytest.raises(UnsupportedSlideError) as in_child:
        open_overlay(OverlaySpec(path=str(path)), cache_dir=tmp_path / "b")
    assert str(in_child.value) == str(in_place.value)
    assert "is not a readable GeoJSON file" in str(in_child.value)


def test_without_a_child_the_file_is_parsed_in_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_child(*args: object, **kwargs: object) -> None:
        raise OSError("no processes left")

    path = tmp_path / "cells.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": cell_features(50, 1024, 1024, seed=4)}))
    monkeypatch.setattr(loader, "CHILD_PARSE_MIN_BYTES", 0)
    monkeypatch.setattr(parse_child, "ProcessPoolExecutor", no_child)
    overlay = open_overlay(OverlaySpec(path=str(path)), cache_dir=tmp_path / "cache")
    assert isinstance(overlay, VectorOverlay)
    assert overlay.features.count == 50
