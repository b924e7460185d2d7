"""The memory-mapped overlay cache: reused without re-parsing, shared by processes, rebuilt when damaged or stale.

The cached overlay stores features sorted by grid cell; what it draws and answers must be exactly what the
overlay parsed in memory (source order) draws and answers.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from aignostics_jupyter.slides.overlays import OverlayStyle, SlideGeometry, VectorOverlay, loader, vector
from aignostics_jupyter.slides.overlays.geojson import parse_features, read_geojson
from aignostics_jupyter.slides.overlays.grid_index import GridIndex
from aignostics_jupyter.slides.overlays.loader import OverlaySpec, open_overlay, query_overlay
from aignostics_jupyter.slides.overlays.store import IdTable, StoreError, check_store, open_store, write_store
from aignostics_jupyter.slides.overlays.synthetic import cell_features
from aignostics_jupyter.slides.overlays.vector import _CacheEntry
from aignostics_jupyter.slides.tiling import ZoomGrid

SIZE = 2048
GRID = ZoomGrid(SIZE, SIZE)
SLIDE = SlideGeometry(width=SIZE, height=SIZE, mpp=(0.5, 0.5))
STYLES = (
    OverlayStyle(),
    OverlayStyle(outline=False, opacity=0.9, min_polygon_px=0),
    OverlayStyle(hidden_classes=["Tumor"], point_radius=4),
)


def _extra_features() -> list[dict[str, Any]]:
    """Features beyond cells: a holed region over the cells, points, a line, features without an id."""
    holed = {
        "type": "Feature",
        "id": "region",
        "geometry": {
            "type": "Polygon",
            "coordinates": [
                [[100, 100], [900, 100], [900, 900], [100, 900], [100, 100]],
                [[300, 300], [500, 300], [500, 500], [300, 500], [300, 300]],
            ],
        },
        "properties": {"classification": {"name": "Tissue", "color": [0, 0, 255]}},
    }
    points = [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [x, 700]}, "properties": {"class": "Spot"}}
        for x in (610, 612, 1500)
    ]
    line = {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[0, 50], [2000, 1900]]}}
    multi = {
        "type": "Feature",
        "geometry": {
            "type": "MultiPolygon",
            "coordinates": [
                [[[1200, 1200], [1260, 1200], [1260, 1260], [1200, 1200]]],
                [[[40, 1900], [90, 1950], [40, 1950]]],
            ],
        },
        "properties": {"classification": {"name": "Tumor"}, "measurements": [{"name": "Score", "value": 0.5}]},
    }
    return [holed, *points, line, multi]


def _write_geojson(path: Path, count: int = 3000, seed: int = 5) -> Path:
    # Dense cells (overlapping each other), so drawing order shows in the pixels.
    features = [*cell_features(count, 1200, 1200, seed=seed, radius=9.0), *_extra_features()]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


@pytest.fixture
def geojson(tmp_path: Path) -> Path:
    return _write_geojson(tmp_path / "cells.geojson")


def _tiles() -> list[tuple[int, int, int]]:
    tiles: list[tuple[int, int, int]] = []
    for z in range(GRID.z_max - 3, GRID.z_max + 1):
        columns, rows = GRID.tile_count(z)
        tiles.extend((z, x, y) for x in range(min(columns, 5)) for y in range(min(rows, 5)))
    return tiles


def _drawn(overlay: VectorOverlay) -> list[np.ndarray]:
    return [np.asarray(overlay.render(GRID.tile(*tile), SLIDE, style)) for tile in _tiles() for style in STYLES]


def _answers(overlay: VectorOverlay) -> list[list[dict[str, Any]]]:
    rng = np.random.default_rng(1)
    points = [(610.0, 700.0), (400.0, 400.0), (200.0, 200.0), (1230.0, 1210.0)]
    points += [(float(x), float(y)) for x, y in rng.uniform(0, 1300, size=(60, 2))]
    return [
        [hit.model_dump() for hit in overlay.features_at(x, y, radius, mpp=SLIDE.mpp, limit=50)]
        for x, y in points
        for radius in (0.0, 4.0, 40.0)
    ]


def _entry(cache: Path) -> Path:
    (entry,) = cache.glob("*.features")
    return entry


def _mapped(array: np.ndarray) -> bool:
    base: Any = array
    while base is not None:
        if isinstance(base, np.memmap):
            return True
        base = getattr(base, "base", None)
    return False


def _no_parse(*args: object, **kwargs: object) -> None:
    raise AssertionError("parsed again")


@pytest.mark.unit
def test_id_table_behaves_like_the_list() -> None:
    ids = ["a", None, "ünï", "", "cell-7"]
    table = IdTable.of(ids)
    assert len(table) == 5
    assert list(table) == ids
    assert table == ids
    assert table[-1] == "cell-7"
    assert table[1:3] == [None, "ünï"]
    with pytest.raises(IndexError):
        table[5]


@pytest.mark.unit
def test_grid_index_from_its_arrays_answers_the_same() -> None:
    rng = np.random.default_rng(0)
    corner = rng.uniform(0, 5000, size=(500, 2))
    bbox = np.concatenate([corner, corner + rng.uniform(1, 60, size=(500, 2))], axis=1)
    built = GridIndex(bbox)
    params = built.parameters()
    copy = GridIndex.from_arrays(
        bbox,
        origin=(float(params["origin_x"]), float(params["origin_y"])),
        cell_size=float(params["cell_size"]),
        shape=(int(params["columns"]), int(params["rows"])),
        cells=(built.cell_starts, built.cell_items, built.large),
    )
    for x, y in rng.uniform(0, 5000, size=(50, 2)):
        assert copy.query(x, y, x + 300, y + 200).tolist() == built.query(x, y, x + 300, y + 200).tolist()


@pytest.mark.unit
def test_store_keeps_every_column_in_source_order(geojson: Path, tmp_path: Path) -> None:
    features = parse_features(json.loads(geojson.read_text()))
    source = {"path": "x"}
    write_store(features, tmp_path / "x.features", source)
    stored, layout = open_store(tmp_path / "x.features", source)
    assert layout.order is not None
    assert sorted(layout.order.tolist()) == list(range(features.count))
    assert layout.order.tolist() != list(range(features.count))  # really reordered (by grid cell)
    back = np.argsort(layout.order)
    for name in ("kind", "bbox", "centroid", "class_id"):
        assert np.array_equal(getattr(stored, name)[back], getattr(features, name)), name
    assert np.array_equal(stored.measurements[back], features.measurements, equal_nan=True)
    assert [stored.ids[i] for i in back.tolist()] == list(features.ids)
    assert (stored.class_names, stored.class_colors) == (features.class_names, features.class_colors)
    for i in (0, 17, features.count - 1):  # rings and vertices follow their feature
        j = int(back[i])
        ring = int(np.searchsorted(features.ring_feature, i))
        old = features.coords[features.ring_offsets[ring] : features.ring_offsets[ring + 1]]
        first = int(layout.first_ring[j])
        new = stored.vertices(slice(int(stored.ring_offsets[first]), int(stored.ring_offsets[first + 1])))
        assert np.array_equal(old, new)
    with pytest.raises(StoreError, match="another file"):
        check_store(tmp_path / "x.features", {"path": "y"})


@pytest.mark.unit
@pytest.mark.parametrize(
    ("shift", "dtype", "divisor"), [(0.0, np.int32, 10.0), (1 / 3, np.float64, None), (2.0**40, np.float64, None)]
)
def test_coordinates_are_stored_as_integers_only_when_lossless(
    tmp_path: Path, shift: float, dtype: type, divisor: float | None
) -> None:
    features = parse_features({"type": "FeatureCollection", "features": cell_features(200, 900, 900, seed=2)})
    coords = np.asarray(features.coords, dtype=np.float64) + shift
    features = dataclasses.replace(features, coords=coords, bbox=features.bbox + shift)
    write_store(features, tmp_path / "c.features", {})
    stored, layout = open_store(tmp_path / "c.features", {})
    assert stored.coords.dtype == dtype
    assert stored.coord_divisor == divisor
    vertices = stored.vertices(slice(None))
    assert vertices.dtype == np.float64
    assert layout.order is not None
    back = np.argsort(layout.order)
    rings = np.concatenate([np.arange(stored.ring_offsets[i], stored.ring_offsets[i + 1]) for i in back.tolist()])
    assert np.array_equal(vertices[rings], features.coords)  # bit for bit


@pytest.mark.integration
def test_mapped_cache_draws_and_answers_as_the_parsed_file(geojson: Path, tmp_path: Path) -> None:
    parsed = VectorOverlay.from_file(geojson)
    mapped = VectorOverlay.from_file(geojson, cache_dir=tmp_path / "cache")
    assert _mapped(mapped.features.coords)
    assert mapped.layout.order is not None
    for got, expected in zip(_drawn(mapped), _drawn(parsed), strict=True):
        assert np.array_equal(got, expected)
    assert _answers(mapped) == _answers(parsed)
    assert mapped.info().model_dump() == parsed.info().model_dump()
    assert any(hit["id"] is None for hits in _answers(mapped) for hit in hits)
    # The scaled path keeps the source order too.
    spec = OverlaySpec(path=str(geojson), vector_scale=0.5)
    scaled_mapped = open_overlay(spec, cache_dir=tmp_path / "cache")
    scaled_parsed = open_overlay(spec)
    assert isinstance(scaled_mapped, VectorOverlay)
    assert isinstance(scaled_parsed, VectorOverlay)
    assert _answers(scaled_mapped) == _answers(scaled_parsed)
    for tile in _tiles()[:30]:
        region = GRID.tile(*tile)
        assert np.array_equal(
            np.asarray(scaled_mapped.render(region, SLIDE, STYLES[0])),
            np.asarray(scaled_parsed.render(region, SLIDE, STYLES[0])),
        )
    assert query_overlay(mapped, SLIDE, (610, 700), radius=3).features[0].class_name == "Spot"


@pytest.mark.integration
def test_cache_is_reused_across_loads_without_parsing(
    geojson: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    first = VectorOverlay.from_file(geojson, cache_dir=cache)
    entry = _entry(cache)
    before = entry.stat()
    monkeypatch.setattr(vector, "read_geojson", _no_parse)
    second = VectorOverlay.from_file(geojson, cache_dir=cache)
    assert VectorOverlay.ensure_cached(geojson, cache_dir=cache) == entry
    after = entry.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert _mapped(second.features.coords)
    assert _mapped(second.index.cell_items)
    assert _answers(second) == _answers(first)


_CHILD = """
import json, os, sys
from pathlib import Path
import numpy as np
from aignostics_jupyter.slides.overlays import OverlayStyle, SlideGeometry, vector
from aignostics_jupyter.slides.tiling import ZoomGrid

def no_parse(*args, **kwargs):
    raise AssertionError("parsed in the child")

vector.read_geojson = no_parse
geojson, cache, size = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
overlay = vector.VectorOverlay.from_file(geojson, cache_dir=cache)
grid = ZoomGrid(size, size)
tile = np.asarray(overlay.render(grid.tile(grid.z_max, 1, 1), SlideGeometry(width=size, height=size), OverlayStyle()))
(entry,) = cache.glob("*.features")
maps = Path("/proc/self/maps").read_text().splitlines()
inodes = sorted({int(line.split()[4]) for line in maps if line.endswith(str(entry))})
print(json.dumps({"pid": os.getpid(), "inodes": inodes, "tile": tile.tobytes().hex()}))
"""


@pytest.mark.integration
@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs Linux /proc")
def test_two_processes_share_one_mapped_file(geojson: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    here = VectorOverlay.from_file(geojson, cache_dir=cache)
    expected = np.asarray(here.render(GRID.tile(GRID.z_max, 1, 1), SLIDE, OverlayStyle())).tobytes().hex()
    inode = _entry(cache).stat().st_ino
    command = [sys.executable, "-c", _CHILD, str(geojson), str(cache), str(SIZE)]
    children = [subprocess.Popen(command, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    results = [json.loads(child.communicate(timeout=60)[0]) for child in children]
    assert [child.returncode for child in children] == [0, 0]
    assert results[0]["pid"] != results[1]["pid"]
    for result in results:
        assert result["inodes"] == [inode]  # both map the one cache file (shared page cache), neither parsed
        assert result["tile"] == expected


def _damage(entry: Path, how: str) -> None:
    data = bytearray(entry.read_bytes())
    if how == "truncated":
        entry.write_bytes(data[: len(data) // 2])
    elif how == "empty":
        entry.write_bytes(b"")
    elif how == "flipped data":
        data[len(data) // 3] ^= 0xFF
        entry.write_bytes(bytes(data))
    elif how == "flipped footer":
        footer_start = len(data) - 16 - int.from_bytes(data[-16:-8], "little")
        data[footer_start + 5] ^= 0x20
        entry.write_bytes(bytes(data))
    elif how == "garbage appended":
        entry.write_bytes(bytes(data) + b"\0" * 100)
    elif how == "zeroed tail":
        entry.write_bytes(bytes(data[:-4096]) + bytes(4096))


@pytest.mark.integration
@pytest.mark.parametrize(
    "how", ["truncated", "empty", "flipped data", "flipped footer", "garbage appended", "zeroed tail"]
)
def test_damaged_cache_is_detected_and_rebuilt(geojson: Path, tmp_path: Path, how: str) -> None:
    cache = tmp_path / "cache"
    reference = VectorOverlay.from_file(geojson)
    VectorOverlay.from_file(geojson, cache_dir=cache)
    entry = _entry(cache)
    _damage(entry, how)
    with pytest.raises(StoreError):
        check_store(entry, _CacheEntry.of(geojson.resolve(), None, cache).source)
    rebuilt = VectorOverlay.from_file(geojson, cache_dir=cache)
    assert _mapped(rebuilt.features.coords)
    check_store(_entry(cache), _CacheEntry.of(geojson.resolve(), None, cache).source)  # whole again
    assert _answers(rebuilt) == _answers(reference)
    for tile in _tiles()[-20:]:
        region = GRID.tile(*tile)
        assert np.array_equal(
            np.asarray(rebuilt.render(region, SLIDE, STYLES[0])), np.asarray(reference.render(region, SLIDE, STYLES[0]))
        )


@pytest.mark.integration
def test_changing_the_geojson_invalidates_the_cache(geojson: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    old = VectorOverlay.from_file(geojson, cache_dir=cache)
    assert old.features.count == 3006
    old_tile = np.asarray(old.render(GRID.tile(GRID.z_max, 1, 1), SLIDE, STYLES[0]))
    old_entry = _entry(cache)
    stat = geojson.stat()
    _write_geojson(geojson, count=1000, seed=9)
    os.utime(geojson, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    new = VectorOverlay.from_file(geojson, cache_dir=cache)
    assert new.features.count == 1006
    assert _answers(new) == _answers(VectorOverlay.from_file(geojson))
    assert _entry(cache) != old_entry  # the old version's entry is gone, the new one alone remains
    # An overlay still mapping the deleted entry keeps drawing what it drew.
    assert np.array_equal(np.asarray(old.render(GRID.tile(GRID.z_max, 1, 1), SLIDE, STYLES[0])), old_tile)
    # Same size, only touched: rebuilt as well (the signature is modification time and size).
    before = _entry(cache)
    os.utime(geojson, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000))
    VectorOverlay.from_file(geojson, cache_dir=cache)
    assert _entry(cache) != before
    # Other colour overrides are another entry, kept beside it.
    tinted = VectorOverlay.from_file(geojson, cache_dir=cache, class_colors={"Tumor": (1, 2, 3)})
    assert tinted.features.class_colors[tinted.features.class_names.index("Tumor")] == (1, 2, 3)
    assert len(list(cache.glob("*.features"))) == 2


@pytest.mark.integration
def test_a_file_changing_while_it_is_parsed_is_parsed_again(
    geojson: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parse = read_geojson
    calls: list[Path] = []

    def parse_then_change(path: Path, **kwargs: Any) -> Any:
        calls.append(path)
        features = parse(path, **kwargs)
        if len(calls) == 1:
            _write_geojson(geojson, count=500, seed=3)
            os.utime(geojson, ns=(0, geojson.stat().st_mtime_ns + 5_000_000))
        return features

    monkeypatch.setattr(vector, "read_geojson", parse_then_change)
    overlay = VectorOverlay.from_file(geojson, cache_dir=tmp_path / "cache")
    assert len(calls) == 2
    assert overlay.features.count == 506


@pytest.mark.unit
def test_overviews_are_bounded_in_bytes_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    features = parse_features({"type": "FeatureCollection", "features": cell_features(25_000, 4096, 4096, seed=1)})
    overlay = VectorOverlay(features)
    ds = overlay._overview_downsample()
    side = int(np.ceil(overlay.l0_far[0] / ds))
    one = side * side * 4
    cache = vector._Overviews(budget=int(2.5 * one))
    monkeypatch.setattr(vector, "_overviews", cache)
    region = ZoomGrid(4096, 4096).tile(0, 0, 0)  # far out: cut from the overview
    first = np.asarray(overlay.render(region, None, OverlayStyle(opacity=0.1)))
    for opacity in (0.2, 0.3, 0.4, 0.5, 0.6):
        overlay.render(region, None, OverlayStyle(opacity=opacity))
        assert cache.nbytes <= 2.5 * one
    assert cache.nbytes >= one
    # A dropped overview is drawn again, the same.
    assert np.array_equal(np.asarray(overlay.render(region, None, OverlayStyle(opacity=0.1))), first)
    overlay.close()
    assert cache.nbytes == 0


@pytest.mark.integration
def test_a_whole_cache_is_mapped_without_a_parse_child(
    geojson: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    children: list[Path] = []
    monkeypatch.setattr(loader, "CHILD_PARSE_MIN_BYTES", 0)
    monkeypatch.setattr(loader, "parse_into_cache", lambda path, *args: children.append(path))
    first = open_overlay(OverlaySpec(path=str(geojson)), cache_dir=cache)  # no entry: the child is asked first
    assert children == [geojson.resolve()]
    monkeypatch.setattr(vector, "read_geojson", _no_parse)
    second = open_overlay(OverlaySpec(path=str(geojson)), cache_dir=cache)
    assert children == [geojson.resolve()]  # mapped straight away
    assert isinstance(first, VectorOverlay)
    assert isinstance(second, VectorOverlay)
    assert _mapped(second.features.coords)
    _damage(_entry(cache), "flipped data")
    monkeypatch.setattr(vector, "read_geojson", read_geojson)
    open_overlay(OverlaySpec(path=str(geojson)), cache_dir=cache)
    assert len(children) == 2  # a damaged entry is rebuilt through the child again


@pytest.mark.integration
def test_old_caches_and_dead_writers_leftovers_are_swept(
    geojson: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    monkeypatch.setattr(vector, "_swept", set())
    legacy = [cache / "0123456789abcdef01234567.npz", cache / "0123456789abcdef01234567.lock", cache / "x.npz.tmp"]
    dead = cache / ".abc-def.features.k2j3h4.tmp"  # a write_store temp file whose writer died an hour ago
    alive = cache / ".abc-def.features.q9w8e7.tmp"  # one being written right now
    keep = cache / "notes.txt"  # not ours
    for path in [*legacy, dead, alive, keep]:
        path.write_bytes(b"x")
    hour_ago = os.stat(dead).st_mtime - 2 * 3600
    os.utime(dead, (hour_ago, hour_ago))

    overlay = VectorOverlay.from_file(geojson, cache_dir=cache)

    assert overlay.features.count == 3006
    assert not any(p.exists() for p in [*legacy, dead])
    assert alive.exists()
    assert keep.exists()
    assert len(list(cache.glob("*.features"))) == 1
