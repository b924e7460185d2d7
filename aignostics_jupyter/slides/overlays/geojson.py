"""GeoJSON feature collections (QuPath style) turned into flat numpy arrays.

Hundreds of thousands of cell polygons do not fit in Python objects cheaply, so a collection is parsed once
into columns: all ring vertices in one array with offsets, bounding boxes, centroids, a class index per
feature and a dense matrix of numeric measurements. Coordinates are slide base pixels (QuPath's convention).
The tile workers' cache of these columns is :mod:`.store` (memory-mapped, shared); :meth:`FeatureArrays.save`
writes a standalone ``.npz``.

QuPath-style properties understood: ``classification.name`` / ``classification.color`` (``[r, g, b]`` or the
packed ``colorRGB`` int), ``measurements`` as a mapping or as ``[{"name", "value"}]``, ``objectType``; plain
``class``/``label`` strings and a ``color`` are accepted too.
"""

from __future__ import annotations

import dataclasses
import gc
import itertools
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from aignostics_jupyter.exceptions import UnsupportedSlideError
from aignostics_jupyter.slides.overlays.colors import RGB, default_color, parse_color

__all__ = ["LINE", "POINT", "POLYGON", "FeatureArrays", "parse_features", "read_geojson"]

POLYGON, POINT, LINE = 0, 1, 2
UNCLASSIFIED = "Unclassified"
_CACHE_VERSION = 1


@dataclasses.dataclass
class FeatureArrays:
    """A feature collection as columns.

    Attributes:
        coords: ``(V, 2)`` float64 vertices of every ring/line/point, feature after feature (or, with
            ``coord_divisor``, integers that give them divided by it: read them through :meth:`vertices`).
        ring_offsets: ``(R + 1,)`` start of each ring in ``coords``.
        ring_feature: ``(R,)`` feature index of each ring.
        ring_hole: ``(R,)`` whether a ring is a polygon hole.
        kind: ``(N,)`` POLYGON, POINT or LINE per feature.
        bbox: ``(N, 4)`` ``x0, y0, x1, y1`` per feature.
        centroid: ``(N, 2)`` centre per feature (vertex mean of the first ring; the point itself for points).
        class_id: ``(N,)`` index into ``class_names``.
        class_names: Class names.
        class_colors: Colour per class.
        measurement_names: Names of the numeric measurement columns.
        measurements: ``(N, M)`` float32, NaN where a feature lacks the measurement.
        ids: Per feature its ``id`` (or None): a list, or an id table of a memory-mapped cache.
        coord_divisor: None when ``coords`` holds the coordinates; else ``coords / coord_divisor`` are the
            coordinates (decimal coordinates stored losslessly as int32, half the bytes of float64).
    """

    coords: NDArray[np.float64] | NDArray[np.int32]
    ring_offsets: NDArray[np.int64]
    ring_feature: NDArray[np.int64]
    ring_hole: NDArray[np.bool_]
    kind: NDArray[np.int8]
    bbox: NDArray[np.float64]
    centroid: NDArray[np.float64]
    class_id: NDArray[np.int32]
    class_names: list[str]
    class_colors: list[RGB]
    measurement_names: list[str]
    measurements: NDArray[np.float32]
    ids: Sequence[str | None]
    coord_divisor: float | None = None

    @property
    def count(self) -> int:
        """Number of features."""
        return len(self.kind)

    def vertices(self, index: slice | NDArray[np.int64]) -> NDArray[np.float64]:
        """The float64 coordinates ``coords[index]``, decoded when they are stored as scaled integers."""
        picked = self.coords[index]
        if self.coord_divisor is None:
            return picked.astype(np.float64, copy=False)
        return picked / self.coord_divisor

    def scaled(self, factor: float) -> FeatureArrays:
        """The same features with every coordinate multiplied by ``factor`` (e.g. model pixels → base pixels)."""
        if factor == 1:
            return self
        return dataclasses.replace(
            self,
            coords=self.vertices(slice(None)) * factor,
            bbox=self.bbox * factor,
            centroid=self.centroid * factor,
            coord_divisor=None,
        )

    def save(self, path: Path) -> None:
        """Write the columns to an ``.npz`` file (no pickles)."""
        meta = {
            "version": _CACHE_VERSION,
            "class_names": self.class_names,
            "class_colors": [list(c) for c in self.class_colors],
            "measurement_names": self.measurement_names,
            "ids": list(self.ids),
        }
        with path.open("wb") as f:
            np.savez(
                f,
                coords=self.vertices(slice(None)),
                ring_offsets=self.ring_offsets,
                ring_feature=self.ring_feature,
                ring_hole=self.ring_hole,
                kind=self.kind,
                bbox=self.bbox,
                centroid=self.centroid,
                class_id=self.class_id,
                measurements=self.measurements,
                meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
            )

    @classmethod
    def load(cls, path: Path) -> FeatureArrays:
        """Read columns written by :meth:`save`.

        Raises:
            ValueError: When the file is from another cache version or damaged.
        """
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(data["meta"].tobytes().decode())
            if meta.get("version") != _CACHE_VERSION:
                msg = f"{path.name} is an overlay cache of another version."
                raise ValueError(msg)
            return cls(
                coords=data["coords"],
                ring_offsets=data["ring_offsets"],
                ring_feature=data["ring_feature"],
                ring_hole=data["ring_hole"],
                kind=data["kind"],
                bbox=data["bbox"],
                centroid=data["centroid"],
                class_id=data["class_id"],
                class_names=list(meta["class_names"]),
                class_colors=[(int(c[0]), int(c[1]), int(c[2])) for c in meta["class_colors"]],
                measurement_names=list(meta["measurement_names"]),
                measurements=data["measurements"],
                ids=list(meta["ids"]),
            )


def _iter_features(document: Any) -> Iterator[Mapping[str, Any]]:
    """Features of a FeatureCollection, a list of features, a single Feature or a bare geometry."""
    if isinstance(document, list):
        for item in document:
            yield from _iter_features(item)
        return
    if not isinstance(document, Mapping):
        return
    kind = document.get("type")
    if kind == "FeatureCollection":
        yield from document.get("features") or []
    elif kind == "Feature":
        yield document
    elif kind in ("Polygon", "MultiPolygon", "Point", "MultiPoint", "LineString", "MultiLineString"):
        yield {"type": "Feature", "geometry": document, "properties": {}}
    elif kind == "GeometryCollection":
        for geometry in document.get("geometries") or []:
            yield from _iter_features(geometry)


def _class_of(props: Mapping[str, Any]) -> tuple[str, Any]:
    """Class name and raw (unparsed) colour of a feature."""
    classification = props.get("classification")
    if type(classification) is dict:
        name = classification.get("name") or classification.get("names")
        if type(name) is not str:
            name = ": ".join(str(n) for n in name) if isinstance(name, list) else (str(name) if name else "")
        color = classification.get("color", classification.get("colorRGB"))
        return (name or UNCLASSIFIED), color
    if isinstance(classification, str) and classification:
        return classification, props.get("color")
    for key in ("class_name", "class", "label"):
        value = props.get(key)
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
            return str(value), props.get("color")
    return UNCLASSIFIED, props.get("color")


def _measurements(props: Mapping[str, Any]) -> Iterable[tuple[Any, Any]]:
    """``(name, value)`` pairs of a feature's measurements (mapping or QuPath's list form), unfiltered."""
    raw = props.get("measurements")
    if type(raw) is dict:
        return raw.items()
    if isinstance(raw, list):
        return [(m.get("name"), m.get("value")) for m in raw if isinstance(m, Mapping)]
    return ()


def parse_features(document: Any, *, class_colors: Mapping[str, RGB] | None = None) -> FeatureArrays:
    """Turn a parsed GeoJSON document into :class:`FeatureArrays`.

    Args:
        document: The result of ``json.load`` on a GeoJSON file.
        class_colors: Colours overriding those in the features, by class name.

    Returns:
        The columns; features without a usable geometry are skipped.
    """
    rings: list[list[Any]] = []
    ring_feature: list[int] = []
    ring_hole: list[bool] = []
    kinds: list[int] = []
    class_index: dict[str, int] = {}
    colors: dict[str, RGB] = {}
    class_ids: list[int] = []
    ids: list[str | None] = []
    measure_index: dict[str, int] = {}
    measure_rows: list[int] = []
    measure_cols: list[int] = []
    measure_values: list[float] = []
    for feature in _iter_features(document):
        geometry = feature.get("geometry")
        if not isinstance(geometry, Mapping):
            continue
        gtype, coordinates = geometry.get("type"), geometry.get("coordinates")
        if not coordinates:
            continue
        index = len(kinds)
        if gtype == "Polygon":
            parts, kind = [coordinates], POLYGON
        elif gtype == "MultiPolygon":
            parts, kind = coordinates, POLYGON
        elif gtype == "Point":
            parts, kind = [[[coordinates]]], POINT
        elif gtype == "MultiPoint":
            parts, kind = [[coordinates]], POINT
        elif gtype == "LineString":
            parts, kind = [[coordinates]], LINE
        elif gtype == "MultiLineString":
            parts, kind = [[line] for line in coordinates], LINE
        else:
            continue
        added = 0
        for part in parts:
            for ring_number, ring in enumerate(part):
                if ring:
                    rings.append(ring)
                    ring_feature.append(index)
                    ring_hole.append(kind == POLYGON and ring_number > 0)
                    added += 1
        if not added:
            continue
        kinds.append(kind)
        props = feature.get("properties") or {}
        name, raw_color = _class_of(props)
        class_id = class_index.get(name)
        if class_id is None:
            class_id = class_index[name] = len(class_index)
        if name not in colors and (color := parse_color(raw_color)) is not None:
            colors[name] = color
        class_ids.append(class_id)
        raw_id = feature.get("id", props.get("id"))
        ids.append(None if raw_id is None else str(raw_id))
        for m_name, value in _measurements(props):
            if m_name is not None and (type(value) is float or type(value) is int):
                column = measure_index.get(m_name)
                if column is None:
                    column = measure_index[m_name] = len(measure_index)
                measure_rows.append(index)
                measure_cols.append(column)
                measure_values.append(value)
    return _assemble(
        rings,
        (ring_feature, ring_hole, kinds, class_ids, ids),
        (class_index, colors, class_colors or {}),
        (measure_index, measure_rows, measure_cols, measure_values),
    )


def _assemble(
    rings: list[list[Any]],
    per_feature: tuple[list[int], list[bool], list[int], list[int], list[str | None]],
    classes: tuple[dict[str, int], dict[str, RGB], Mapping[str, RGB]],
    measures: tuple[dict[str, int], list[int], list[int], list[float]],
) -> FeatureArrays:
    ring_feature, ring_hole, kinds, class_ids, ids = per_feature
    class_index, colors, overrides = classes
    measure_index, rows, cols, values = measures
    lengths = np.fromiter((len(r) for r in rings), dtype=np.int64, count=len(rings))
    offsets = np.zeros(len(rings) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    # Flatten [[x, y], ...] rings in C by chaining; vertices with a z value need the slower per-vertex path.
    vertices = itertools.chain.from_iterable(rings)
    if all(len(ring[0]) == 2 and len(ring[-1]) == 2 for ring in rings):
        numbers: Iterable[Any] = itertools.chain.from_iterable(vertices)
    else:
        numbers = itertools.chain.from_iterable((v[0], v[1]) for v in vertices)
    flat = np.fromiter(numbers, dtype=np.float64, count=2 * int(offsets[-1]))
    coords = flat.reshape(-1, 2)
    n = len(kinds)
    r_feature = np.asarray(ring_feature, dtype=np.int64)
    # Rings are stored feature after feature, so each feature's rings are one contiguous run.
    first_ring = np.searchsorted(r_feature, np.arange(n))
    bbox = np.zeros((n, 4), dtype=np.float64)
    centroid = np.zeros((n, 2), dtype=np.float64)
    if n:
        starts = offsets[:-1]
        bbox[:, 0:2] = np.minimum.reduceat(np.minimum.reduceat(coords, starts, axis=0), first_ring, axis=0)
        bbox[:, 2:4] = np.maximum.reduceat(np.maximum.reduceat(coords, starts, axis=0), first_ring, axis=0)
        # Centroid: vertex mean of the first ring (cheap; inside for the convex-ish shapes of cells).
        sums = np.add.reduceat(coords, starts, axis=0)
        centroid = sums[first_ring] / lengths[first_ring][:, None]
    names = list(class_index)
    palette = [overrides.get(name) or colors.get(name) or default_color(i) for i, name in enumerate(names)]
    matrix = np.full((n, len(measure_index)), np.nan, dtype=np.float32)
    if values:
        matrix[np.asarray(rows), np.asarray(cols)] = np.asarray(values, dtype=np.float32)
    return FeatureArrays(
        coords=coords,
        ring_offsets=offsets,
        ring_feature=r_feature,
        ring_hole=np.asarray(ring_hole, dtype=bool),
        kind=np.asarray(kinds, dtype=np.int8),
        bbox=bbox,
        centroid=centroid,
        class_id=np.asarray(class_ids, dtype=np.int32),
        class_names=names,
        class_colors=palette,
        measurement_names=[str(name) for name in measure_index],
        measurements=matrix,
        ids=ids,
    )


def _load_json(path: Path) -> Any:
    try:
        import orjson
    except ImportError:  # pragma: no cover - orjson is a dependency; the json module is the slow fallback
        with path.open("rb") as f:
            return json.load(f)
    return orjson.loads(path.read_bytes())


def read_geojson(path: Path, *, class_colors: Mapping[str, RGB] | None = None) -> FeatureArrays:
    """Parse a GeoJSON file into :class:`FeatureArrays`.

    Raises:
        UnsupportedSlideError: When the file is not JSON, or holds no feature with a usable geometry.
    """
    # Millions of small lists are created and none is garbage: the cyclic collector would run hundreds of
    # times over them for nothing (it makes the parse 5-7 times slower), so it is paused meanwhile.
    collecting = gc.isenabled()
    gc.disable()
    try:
        try:
            document = _load_json(Path(path))
        except (OSError, ValueError) as exc:
            msg = f"{Path(path).name} is not a readable GeoJSON file: {exc}"
            raise UnsupportedSlideError(msg) from exc
        try:
            features = parse_features(document, class_colors=class_colors)
        except (TypeError, IndexError, ValueError, KeyError, AttributeError) as exc:
            msg = f"{Path(path).name} has malformed GeoJSON geometries: {exc}"
            raise UnsupportedSlideError(msg) from exc
        del document
    finally:
        if collecting:
            gc.enable()
    if features.count == 0:
        msg = f"{Path(path).name} holds no GeoJSON feature with a polygon, point or line geometry."
        raise UnsupportedSlideError(msg)
    return features
