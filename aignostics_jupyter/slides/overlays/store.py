"""The parsed-overlay cache file: a feature collection's columns and spatial index, memory-mapped by every worker.

A GeoJSON collection is parsed once (in a short-lived child process for large files) and written here as one
file of plain arrays; each tile worker maps that file read-only instead of loading it, so all workers share
the same page-cache pages and a worker's memory holds only the pages it has touched.

Features are stored sorted by the grid cell of their bounding box's top-left corner (row-major), so the
features of one tile lie in a few contiguous runs and drawing a tile touches only their pages. ``order``
maps a stored position back to the feature's position in the GeoJSON file; what the outside sees (drawing
order, query results, indices) is in the original order.

File layout (little-endian)::

    [arrays, each at a 4096-byte aligned offset][footer: UTF-8 JSON][footer length: uint64][MAGIC]

The footer holds each array's dtype, shape and offset, the small tables (class names and colours,
measurement names), the grid's parameters, the source file's signature, the data length and a CRC-32 of the
data. A file is written to a temporary name and renamed into place (readers see a whole file or none); on
opening, the size, footer, source, array bounds and checksum are checked, and any mismatch is a
:class:`StoreError` (the caller rebuilds the entry).
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
import zlib
from collections.abc import Iterator, Mapping, Sequence
from io import BufferedReader
from pathlib import Path
from typing import Any, cast, overload

import numpy as np
from numpy.typing import NDArray

from aignostics_jupyter.slides.overlays.geojson import POINT, FeatureArrays
from aignostics_jupyter.slides.overlays.grid_index import GridIndex

__all__ = ["FeatureLayout", "IdTable", "StoreError", "check_store", "open_store", "ranges", "write_store"]

MAGIC = b"AIGNOVL\x02"
_FORMAT = 2
_ALIGN = 4096
_CHUNK = 8 * 2**20
_TAIL = 16  # footer length (uint64) + MAGIC

# Every array of a store, with the dtype it is written in. ``None``: feature or ring positions, written as int32
# when they fit (halving their pages) and int64 otherwise.
_INDEX = None
_DTYPES: dict[str, np.dtype[Any] | None] = {
    "coords": None,  # float64, or int32 with a divisor (see _decimal_divisor)
    "ring_offsets": _INDEX,
    "ring_feature": _INDEX,
    "ring_hole": np.dtype("?"),
    "kind": np.dtype("i1"),
    "bbox": np.dtype("<f8"),
    "centroid": np.dtype("<f8"),
    "class_id": np.dtype("<i4"),
    "measurements": np.dtype("<f4"),
    "id_blob": np.dtype("u1"),
    "id_offsets": _INDEX,
    "id_present": np.dtype("?"),
    "order": _INDEX,
    "first_ring": _INDEX,
    "ring_count": _INDEX,
    "cell_starts": _INDEX,
    "cell_items": _INDEX,
    "large": _INDEX,
}
_INDEX_DTYPES = (np.dtype("<i4"), np.dtype("<i8"))
_COORD_DTYPES = (np.dtype("<i4"), np.dtype("<f8"))
_DIVISORS = (1.0, 10.0, 100.0, 1000.0)


class StoreError(ValueError):
    """A cache file that is missing pieces, damaged, of another format or of another source file."""


def ranges(starts: NDArray[np.int64], counts: NDArray[np.int64]) -> NDArray[np.int64]:
    """Concatenation of ``arange(s, s + c)`` for every pair, without a Python loop."""
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    first = np.repeat(np.cumsum(counts) - counts, counts)
    return np.asarray(np.repeat(starts, counts) + (np.arange(total) - first), dtype=np.int64)


class IdTable(Sequence[str | None]):
    """Feature ids as one UTF-8 byte array with offsets (no Python string per feature until one is asked for).

    Args:
        blob: The ids' bytes, one after another.
        offsets: ``(N + 1,)`` start of each id in ``blob``.
        present: ``(N,)`` whether a feature has an id at all.
    """

    def __init__(self, blob: NDArray[np.uint8], offsets: NDArray[np.int64], present: NDArray[np.bool_]) -> None:
        self.blob, self.offsets, self.present = blob, offsets, present

    @classmethod
    def of(cls, ids: Sequence[str | None]) -> IdTable:
        """The table of a list of ids."""
        if isinstance(ids, IdTable):
            return ids
        texts = ["" if value is None else value for value in ids]
        joined = "".join(texts).encode()
        lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
        if len(joined) != int(lengths.sum()):  # some ids are not ASCII: their byte lengths differ
            encoded = [text.encode() for text in texts]
            lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
            joined = b"".join(encoded)
        offsets = np.zeros(len(texts) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        present = np.fromiter((value is not None for value in ids), dtype=bool, count=len(texts))
        return cls(np.frombuffer(joined, dtype=np.uint8), offsets, present)

    def __len__(self) -> int:
        return len(self.present)

    @overload
    def __getitem__(self, index: int) -> str | None: ...

    @overload
    def __getitem__(self, index: slice) -> list[str | None]: ...

    def __getitem__(self, index: int | slice) -> str | list[str | None] | None:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        position = int(index) + len(self) if index < 0 else int(index)
        if not 0 <= position < len(self):
            raise IndexError(index)
        if not self.present[position]:
            return None
        return bytes(self.blob[self.offsets[position] : self.offsets[position + 1]]).decode()

    def __iter__(self) -> Iterator[str | None]:
        return (self[i] for i in range(len(self)))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str):
            return NotImplemented
        return len(other) == len(self) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]  # mutable-looking sequence, like list


@dataclasses.dataclass
class FeatureLayout:
    """What drawing and queries need besides the columns: the spatial index and per-feature helpers.

    Attributes:
        index: Bounding-box index over the stored features.
        first_ring: ``(N,)`` first ring of each feature.
        ring_count: ``(N,)`` rings per feature.
        typical_extent: Median extent of the non-point features.
        l0_far: The far corner ``(x1, y1)`` of everything drawn.
        bounds: ``(x0, y0, x1, y1)`` of all features.
        class_counts: Features per class.
        order: Stored position → position in the source file; None when they are the same.
    """

    index: GridIndex
    first_ring: NDArray[np.int64]
    ring_count: NDArray[np.int64]
    typical_extent: float
    l0_far: tuple[float, float]
    bounds: tuple[float, float, float, float]
    class_counts: list[int]
    order: NDArray[np.int64] | None = None

    @classmethod
    def compute(
        cls, features: FeatureArrays, order: NDArray[np.int64] | None = None, cell_size: float | None = None
    ) -> FeatureLayout:
        """Index the features as they are (in this process's memory)."""
        box = features.bbox
        extent = np.maximum(box[:, 2] - box[:, 0], box[:, 3] - box[:, 1])
        polygons = extent[features.kind != POINT]
        count = features.count
        bounds = (
            (float(box[:, 0].min()), float(box[:, 1].min()), float(box[:, 2].max()), float(box[:, 3].max()))
            if count
            else (0.0, 0.0, 0.0, 0.0)
        )
        return cls(
            index=GridIndex(box, cell_size=cell_size),
            first_ring=np.searchsorted(features.ring_feature, np.arange(count)).astype(np.int64),
            ring_count=np.bincount(features.ring_feature, minlength=count).astype(np.int64),
            typical_extent=float(np.median(polygons)) if len(polygons) else 0.0,
            l0_far=(bounds[2], bounds[3]) if count else (1.0, 1.0),
            bounds=bounds,
            class_counts=[int(c) for c in np.bincount(features.class_id, minlength=len(features.class_names))],
            order=order,
        )

    def in_source_order(self, stored: NDArray[np.int64]) -> NDArray[np.int64]:
        """Stored positions rearranged into the order the features have in the source file."""
        if self.order is None or len(stored) < 2:
            return stored
        return stored[np.argsort(self.order[stored], kind="stable")]


def sort_spatially(features: FeatureArrays) -> tuple[FeatureArrays, NDArray[np.int64], float]:
    """The features reordered by grid cell (row-major) of their bounding box's top-left corner.

    Returns:
        The reordered features, the order (new position → old position) and the grid's cell size.
    """
    count = features.count
    keys, cell_size = GridIndex.corner_cells(features.bbox)
    order = np.argsort(keys, kind="stable").astype(np.int64)
    first_ring = np.searchsorted(features.ring_feature, np.arange(count)).astype(np.int64)
    ring_count = np.bincount(features.ring_feature, minlength=count).astype(np.int64)
    rings = ranges(first_ring[order], ring_count[order])
    lengths = np.diff(features.ring_offsets)[rings]
    vertices = ranges(features.ring_offsets[:-1][rings], lengths)
    offsets = np.zeros(len(rings) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    ids = IdTable.of(features.ids)
    id_lengths = np.diff(ids.offsets)[order]
    id_offsets = np.zeros(count + 1, dtype=np.int64)
    np.cumsum(id_lengths, out=id_offsets[1:])
    sorted_ids = IdTable(ids.blob[ranges(ids.offsets[:-1][order], id_lengths)], id_offsets, ids.present[order])
    reordered = dataclasses.replace(
        features,
        coords=features.vertices(vertices),
        ring_offsets=offsets,
        ring_feature=np.repeat(np.arange(count, dtype=np.int64), ring_count[order]),
        ring_hole=features.ring_hole[rings],
        kind=features.kind[order],
        bbox=features.bbox[order],
        centroid=features.centroid[order],
        class_id=features.class_id[order],
        measurements=features.measurements[order],
        ids=sorted_ids,
    )
    return reordered, order, cell_size


def _dtype_for(name: str, array: NDArray[Any]) -> np.dtype[Any]:
    dtype = _DTYPES[name]
    if dtype is not None:
        return dtype
    if name == "coords":
        return np.dtype(array.dtype).newbyteorder("<")
    small = len(array) == 0 or (int(array.max()) < 2**31 and int(array.min()) >= -(2**31))
    return _INDEX_DTYPES[0] if small else _INDEX_DTYPES[1]


def _decimal_divisor(coords: NDArray[np.float64] | NDArray[np.int32]) -> float | None:
    """The smallest of 1, 10, 100, 1000 that turns every coordinate into an int32 losslessly, if any.

    Coordinates written with a few decimals (``1234.5``, QuPath's and most tools' output) are exactly the
    doubles ``k / divisor`` for integers ``k`` (both are the double nearest the decimal number), so storing
    ``k`` halves the bytes and reading gives back the very same doubles; this is checked over every value.
    """
    if len(coords) == 0 or coords.dtype != np.float64 or not np.isfinite(coords).all():
        return None
    largest = float(np.abs(coords).max())
    sample = coords[:: max(1, len(coords) // 4096)]
    for divisor in _DIVISORS:
        if largest * divisor >= 2**31 - 1:
            return None
        if not np.array_equal(np.round(sample * divisor) / divisor, sample):
            continue
        if np.array_equal(np.round(coords * divisor) / divisor, coords):
            return divisor
    return None


def _padding(position: int) -> int:
    return -position % _ALIGN


def write_store(features: FeatureArrays, target: Path, source: Mapping[str, Any]) -> None:
    """Sort and index ``features`` and write them to ``target`` atomically (temporary file, then rename).

    Args:
        features: The parsed columns, in source order.
        target: The cache file.
        source: What identifies the source (path, signature, options); checked again on opening.
    """
    stored, order, cell_size = sort_spatially(features)
    layout = FeatureLayout.compute(stored, order=order, cell_size=cell_size)
    ids = IdTable.of(stored.ids)
    divisor = _decimal_divisor(stored.coords)
    coords = stored.coords if divisor is None else np.round(stored.coords * divisor).astype(np.int32)
    index = layout.index
    arrays: dict[str, NDArray[Any]] = {
        "coords": coords,
        "ring_offsets": stored.ring_offsets,
        "ring_feature": stored.ring_feature,
        "ring_hole": stored.ring_hole,
        "kind": stored.kind,
        "bbox": stored.bbox,
        "centroid": stored.centroid,
        "class_id": stored.class_id,
        "measurements": stored.measurements,
        "id_blob": ids.blob,
        "id_offsets": ids.offsets,
        "id_present": ids.present,
        "order": order,
        "first_ring": layout.first_ring,
        "ring_count": layout.ring_count,
        "cell_starts": index.cell_starts,
        "cell_items": index.cell_items,
        "large": index.large,
    }
    footer: dict[str, Any] = {
        "format": _FORMAT,
        "coord_divisor": divisor,
        "source": dict(source),
        "arrays": {},
        "tables": {
            "class_names": stored.class_names,
            "class_colors": [list(c) for c in stored.class_colors],
            "measurement_names": stored.measurement_names,
            "class_counts": layout.class_counts,
        },
        "layout": {
            "typical_extent": layout.typical_extent,
            "l0_far": list(layout.l0_far),
            "bounds": list(layout.bounds),
            "grid": index.parameters(),
        },
    }
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            crc, position = 0, 0
            for name, array in arrays.items():
                data = np.ascontiguousarray(array, dtype=_dtype_for(name, array))
                pad = bytes(_padding(position))
                crc = zlib.crc32(pad, crc)
                f.write(pad)
                position += len(pad)
                raw = data.reshape(-1).view(np.uint8).data
                crc = zlib.crc32(raw, crc)
                f.write(raw)
                footer["arrays"][name] = [data.dtype.str, list(data.shape), position]
                position += raw.nbytes
            footer["data_length"] = position
            footer["crc32"] = crc
            text = json.dumps(footer, separators=(",", ":")).encode()
            f.write(text)
            f.write(len(text).to_bytes(8, "little") + MAGIC)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _footer(handle: BufferedReader, size: int, path: Path) -> dict[str, Any]:
    if size < _TAIL:
        msg = f"{path.name} is truncated."
        raise StoreError(msg)
    handle.seek(size - _TAIL)
    tail = handle.read(_TAIL)
    if len(tail) != _TAIL or tail[8:] != MAGIC:
        msg = f"{path.name} is not an overlay cache of this format (or is truncated)."
        raise StoreError(msg)
    length = int.from_bytes(tail[:8], "little")
    if length > size - _TAIL:
        msg = f"{path.name} has a damaged footer."
        raise StoreError(msg)
    handle.seek(size - _TAIL - length)
    try:
        footer = json.loads(handle.read(length).decode())
    except ValueError as exc:
        msg = f"{path.name} has a damaged footer: {exc}"
        raise StoreError(msg) from exc
    if not isinstance(footer, dict) or footer.get("format") != _FORMAT:
        msg = f"{path.name} is an overlay cache of another format."
        raise StoreError(msg)
    if footer.get("data_length") != size - _TAIL - length:
        msg = f"{path.name} is truncated or damaged (its length does not match)."
        raise StoreError(msg)
    return footer


def _check_data(handle: BufferedReader, footer: Mapping[str, Any], path: Path) -> None:
    """Checksum the data section (read, not mapped: the pages stay out of this process's memory)."""
    handle.seek(0)
    remaining, crc = int(footer["data_length"]), 0
    buffer = bytearray(min(_CHUNK, max(remaining, 1)))
    view = memoryview(buffer)
    while remaining > 0:
        got = handle.readinto(view[: min(remaining, len(buffer))])
        if not got:
            break
        crc = zlib.crc32(view[:got], crc)
        remaining -= got
    if remaining or crc != footer.get("crc32"):
        msg = f"{path.name} is damaged (checksum mismatch)."
        raise StoreError(msg)


def check_store(path: Path, source: Mapping[str, Any], *, full: bool = True) -> dict[str, Any]:
    """The footer of a cache file that is whole and belongs to ``source``.

    Args:
        path: The cache file.
        source: What it must have been built from.
        full: Also checksum the data (else only the size, footer and source are checked).

    Raises:
        StoreError: When the file is truncated, damaged, of another format or of another source.
        OSError: When it cannot be read (e.g. missing).
    """
    with path.open("rb") as handle:
        return _checked(handle, path, source, full=full)


def _checked(handle: BufferedReader, path: Path, source: Mapping[str, Any], *, full: bool) -> dict[str, Any]:
    size = os.fstat(handle.fileno()).st_size
    footer = _footer(handle, size, path)
    if footer.get("source") != dict(source):
        msg = f"{path.name} was built from another file or version of it."
        raise StoreError(msg)
    if full:
        _check_data(handle, footer, path)
    return footer


def _array(raw: NDArray[np.uint8], footer: Mapping[str, Any], name: str, path: Path) -> NDArray[Any]:
    try:
        dtype_text, shape, offset = footer["arrays"][name]
        dtype = np.dtype(dtype_text)
        shape = tuple(int(s) for s in shape)
        offset = int(offset)
    except (KeyError, TypeError, ValueError) as exc:
        msg = f"{path.name} lacks a usable {name!r} array."
        raise StoreError(msg) from exc
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    allowed = (_COORD_DTYPES if name == "coords" else _INDEX_DTYPES) if _DTYPES[name] is None else (_DTYPES[name],)
    if dtype not in allowed or offset < 0 or offset % dtype.itemsize or offset + nbytes > footer["data_length"]:
        msg = f"{path.name} has a damaged {name!r} array."
        raise StoreError(msg)
    return np.ndarray(shape, dtype=dtype, buffer=raw, offset=offset)


def open_store(path: Path, source: Mapping[str, Any], *, verify: bool = True) -> tuple[FeatureArrays, FeatureLayout]:
    """Map a cache file read-only: the columns and their layout, backed by the shared page cache.

    Args:
        path: The cache file.
        source: What it must have been built from.
        verify: Checksum the data first (a damaged file would otherwise draw wrong or fail later).

    Raises:
        StoreError: When the file is truncated, damaged, of another format or of another source.
        OSError: When it cannot be read (e.g. missing).
    """
    with path.open("rb") as handle:
        footer = _checked(handle, path, source, full=verify)
        # The same open file is mapped (not the path again), so what was checked is what is mapped.
        raw = cast("NDArray[np.uint8]", np.memmap(handle, dtype=np.uint8, mode="r"))
    a = {name: _array(raw, footer, name, path) for name in _DTYPES}
    try:
        tables, layout = footer["tables"], footer["layout"]
        features = FeatureArrays(
            coords=a["coords"],
            ring_offsets=a["ring_offsets"],
            ring_feature=a["ring_feature"],
            ring_hole=a["ring_hole"],
            kind=a["kind"],
            bbox=a["bbox"],
            centroid=a["centroid"],
            class_id=a["class_id"],
            class_names=[str(n) for n in tables["class_names"]],
            class_colors=[(int(c[0]), int(c[1]), int(c[2])) for c in tables["class_colors"]],
            measurement_names=[str(n) for n in tables["measurement_names"]],
            measurements=a["measurements"],
            ids=IdTable(a["id_blob"], a["id_offsets"], a["id_present"]),
            coord_divisor=None if footer.get("coord_divisor") is None else float(footer["coord_divisor"]),
        )
        grid = layout["grid"]
        index = GridIndex.from_arrays(
            features.bbox,
            origin=(float(grid["origin_x"]), float(grid["origin_y"])),
            cell_size=float(grid["cell_size"]),
            shape=(int(grid["columns"]), int(grid["rows"])),
            cells=(a["cell_starts"], a["cell_items"], a["large"]),
        )
        far, bounds = layout["l0_far"], layout["bounds"]
        feature_layout = FeatureLayout(
            index=index,
            first_ring=a["first_ring"],
            ring_count=a["ring_count"],
            typical_extent=float(layout["typical_extent"]),
            l0_far=(float(far[0]), float(far[1])),
            bounds=(float(bounds[0]), float(bounds[1]), float(bounds[2]), float(bounds[3])),
            class_counts=[int(c) for c in tables["class_counts"]],
            order=a["order"],
        )
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        msg = f"{path.name} has damaged tables: {exc}"
        raise StoreError(msg) from exc
    _check_shapes(features, feature_layout, path)
    return features, feature_layout


def _check_shapes(features: FeatureArrays, layout: FeatureLayout, path: Path) -> None:
    """Cheap consistency checks between the arrays (a mismatch means a bad file, not a crash later)."""
    n, rings = features.count, len(features.ring_feature)
    index = layout.index
    per_feature = (
        features.bbox.shape == (n, 4),
        features.centroid.shape == (n, 2),
        features.class_id.shape == (n,),
        features.measurements.shape == (n, len(features.measurement_names)),
        len(features.ids) == n,
        len(layout.first_ring) == len(layout.ring_count) == n,
        layout.order is not None and len(layout.order) == n,
        features.ring_offsets.shape == (rings + 1,),
        features.ring_hole.shape == (rings,),
        features.coords.ndim == 2 and features.coords.shape[1] == 2,
        (features.coords.dtype == np.float64 and features.coord_divisor is None)
        or (features.coords.dtype == np.int32 and features.coord_divisor in _DIVISORS),
        n == 0 or int(features.ring_offsets[-1]) == len(features.coords),
        len(features.class_colors) == len(features.class_names) == len(layout.class_counts),
        len(index.cell_starts) == index.columns * index.rows + 1,
        n == 0 or int(index.cell_starts[-1]) == len(index.cell_items),
    )
    if not all(per_feature):
        msg = f"{path.name} has arrays of inconsistent sizes."
        raise StoreError(msg)
