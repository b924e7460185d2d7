"""Vector overlays: GeoJSON polygons, points and lines (tissue regions, classified cells) drawn into tiles.

A collection is parsed once into columns (:mod:`.geojson`), indexed by bounding box (:mod:`.grid_index`) and
then drawn per tile: features large enough on screen as polygons (Pillow), the rest (cells at low zoom,
points) as dots painted with numpy, so a tile stays fast whatever the zoom. :meth:`VectorOverlay.features_at`
answers "what is here?" for a click.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import logging
import math
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw

from aignostics_jupyter.slides.overlays.colors import RGB
from aignostics_jupyter.slides.overlays.geojson import LINE, POINT, POLYGON, FeatureArrays, read_geojson
from aignostics_jupyter.slides.overlays.models import (
    ClassSummary,
    FeatureHit,
    OverlayInfo,
    OverlayStyle,
    SlideGeometry,
)
from aignostics_jupyter.slides.overlays.store import (
    FeatureLayout,
    StoreError,
    check_store,
    open_store,
    ranges,
    write_store,
)
from aignostics_jupyter.slides.source import file_signature
from aignostics_jupyter.slides.tiling import TileRegion

__all__ = ["VectorOverlay"]

_log = logging.getLogger(__name__)

_GEOMETRY_NAMES = {POLYGON: "polygon", POINT: "point", LINE: "line"}
_OVERVIEW_MAX_SIDE = 2048  # pixels: the overview raster's longer side is at most this
_OVERVIEW_BUDGET = 48 * 2**20  # bytes of overviews kept per process, over all overlays (at least the newest)
_DIRECT_MAX_FEATURES = 20_000  # collections this small are always drawn directly


class _Canvas(NamedTuple):
    """A raster to draw into: its top-left and extent in base pixels, downsample and pixel size."""

    l0_x: float
    l0_y: float
    l0_w: float
    l0_h: float
    downsample: float
    width: int
    height: int = 0  # 0: square


def _disc(radius: float) -> NDArray[np.int64]:
    """Pixel offsets ``(dx, dy)`` of a filled disc."""
    r = max(0, int(np.ceil(radius - 0.5)))
    dy, dx = np.mgrid[-r : r + 1, -r : r + 1]
    keep = dx**2 + dy**2 <= max(radius, 0.5) ** 2 + 0.5
    return np.stack([dx[keep], dy[keep]], axis=1).astype(np.int64)


@contextlib.contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive lock on a file (POSIX), so only one process builds a cache at a time."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no lock, at worst two builds
        yield
        return
    with lock_path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class _Overviews:
    """The drawn overviews of every overlay in this process, least recently used dropped beyond a byte budget.

    An overview is up to 2048 x 2048 RGBA (16 MiB); one per style and reduction and per overlay, unbounded,
    would grow a worker by that much for every style a viewer tries.
    """

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self._images: OrderedDict[tuple[int, str, int], Image.Image] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: tuple[int, str, int]) -> Image.Image | None:
        with self._lock:
            image = self._images.get(key)
            if image is not None:
                self._images.move_to_end(key)
            return image

    def put(self, key: tuple[int, str, int], image: Image.Image) -> None:
        with self._lock:
            old = self._images.pop(key, None)
            if old is not None:
                self._bytes -= _image_bytes(old)
            self._images[key] = image
            self._bytes += _image_bytes(image)
            while self._bytes > self.budget and len(self._images) > 1:
                _, dropped = self._images.popitem(last=False)
                self._bytes -= _image_bytes(dropped)

    def drop(self, owner: int) -> None:
        with self._lock:
            for key in [k for k in self._images if k[0] == owner]:
                self._bytes -= _image_bytes(self._images.pop(key))

    @property
    def nbytes(self) -> int:
        """Bytes held."""
        return self._bytes


def _image_bytes(image: Image.Image) -> int:
    return image.width * image.height * len(image.getbands())


_overviews = _Overviews(_OVERVIEW_BUDGET)
_owners = itertools.count()


class _CacheEntry(NamedTuple):
    """Where the cache file of a GeoJSON file (as it is now) goes, and what identifies its source."""

    path: Path
    source: dict[str, Any]
    lock: Path

    @classmethod
    def of(cls, path: Path, class_colors: Mapping[str, RGB] | None, cache_dir: Path) -> _CacheEntry:
        """The entry of ``path`` as it is now: named ``<path and colours key>-<version key>.features``."""
        signature = file_signature(path)
        colors = json.dumps({k: list(v) for k, v in dict(class_colors or {}).items()}, sort_keys=True)
        source = {"path": str(path), "mtime_ns": signature.mtime_ns, "size": signature.size, "class_colors": colors}
        stem = _digest(f"{path}|{colors}", 16)
        version = _digest(json.dumps(source, sort_keys=True), 12)
        return cls(cache_dir / f"{stem}-{version}.features", source, cache_dir / f"{stem}.lock")

    def remove_older(self) -> None:
        """Delete the entries of other versions of the same file (same path and colours)."""
        stem = self.lock.stem
        for other in self.path.parent.glob(f"{stem}-*.features"):
            if other != self.path:
                other.unlink(missing_ok=True)


_LEGACY = re.compile(r"^[0-9a-f]{24}\.(npz|lock)$|\.npz\.tmp$")  # the cache files of before the .features store
_STALE_WRITE = 3600.0  # seconds: a half-written cache file untouched this long belongs to a writer that died
_swept: set[Path] = set()
_swept_lock = threading.Lock()


def _sweep_leftovers(cache_dir: Path) -> None:
    """Once per process and directory: delete the old ``.npz`` cache and what crashed writers left behind."""
    with _swept_lock:
        if cache_dir in _swept:
            return
        _swept.add(cache_dir)
    now = time.time()
    for path in cache_dir.iterdir():
        with contextlib.suppress(OSError):  # gone meanwhile, or not ours to delete
            if _LEGACY.search(path.name) or (
                path.name.startswith(".") and path.name.endswith(".tmp") and now - path.stat().st_mtime > _STALE_WRITE
            ):
                path.unlink()


def _digest(text: str, length: int) -> str:
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:length]


class VectorOverlay:
    """A GeoJSON feature collection, indexed and ready to draw.

    Args:
        features: The parsed columns.
        path: Where they came from.
        layout: Their index and drawing helpers when made before (mapped from a cache file, with the storage
            order); computed here (in memory, source order) when None.
    """

    def __init__(
        self, features: FeatureArrays, path: Path | None = None, *, layout: FeatureLayout | None = None
    ) -> None:
        self.features = features
        self.path = path or Path("<features>")
        self.layout = layout or FeatureLayout.compute(features)
        self.index = self.layout.index
        self.first_ring = self.layout.first_ring
        self.ring_count = self.layout.ring_count
        self.typical_extent = self.layout.typical_extent
        # The far corner of everything drawn (overviews span from the slide's origin to here).
        self.l0_far = self.layout.l0_far
        self._owner = next(_owners)  # this overlay's key in the process's overview cache

    @classmethod
    def from_file(
        cls, path: Path, *, class_colors: Mapping[str, RGB] | None = None, cache_dir: Path | None = None
    ) -> VectorOverlay:
        """Load a GeoJSON file, through a memory-mapped cache file in ``cache_dir`` when given.

        With a cache, the parsed and indexed columns are mapped read-only (:mod:`.store`): every process
        loading the same file shares one copy in the page cache and keeps in memory only what it touches.
        The entry is keyed by the file's path, modification time and size (and the colour overrides), built
        under a file lock (several workers asking at once parse once) and checked on every opening (size,
        footer, source and a checksum of the data, read without mapping); a truncated or damaged entry is
        rebuilt, and a new version of the file replaces the entries of older ones.

        Raises:
            UnsupportedSlideError: When the file is not usable GeoJSON.
        """
        path = Path(path).resolve()
        if cache_dir is None:
            return cls(read_geojson(path, class_colors=class_colors), path)
        cached = cls.from_cache(path, class_colors=class_colors, cache_dir=cache_dir)
        if cached is not None:
            return cached
        entry = cls._ensure_cached(path, class_colors, cache_dir)
        try:
            features, layout = open_store(entry.path, entry.source)
        except (OSError, StoreError) as exc:  # e.g. a rebuild by another process raced ours: parse here instead
            _log.warning("The overlay cache of %s is not usable (%s); parsing it in this process.", path.name, exc)
            return cls(read_geojson(path, class_colors=class_colors), path)
        return cls(features, path, layout=layout)

    @classmethod
    def from_cache(
        cls, path: Path, *, class_colors: Mapping[str, RGB] | None = None, cache_dir: Path
    ) -> VectorOverlay | None:
        """The overlay mapped from a whole cache file of ``path`` as it is now, or None when there is none.

        Nothing is parsed or written; a missing, stale, truncated or damaged entry gives None.
        """
        path = Path(path).resolve()
        try:
            entry = _CacheEntry.of(path, class_colors, cache_dir)
            features, layout = open_store(entry.path, entry.source)
        except (OSError, StoreError):
            return None
        return cls(features, path, layout=layout)

    @classmethod
    def ensure_cached(cls, path: Path, *, class_colors: Mapping[str, RGB] | None = None, cache_dir: Path) -> Path:
        """Make sure ``cache_dir`` holds a whole cache file of ``path``, parsing and writing it if not.

        Entries of earlier versions of the file (same path and colour overrides) are removed then; processes
        still mapping one keep reading it until they let it go.

        Returns:
            The cache file.

        Raises:
            UnsupportedSlideError: When the file is not usable GeoJSON.
        """
        return cls._ensure_cached(Path(path).resolve(), class_colors, cache_dir).path

    @classmethod
    def _ensure_cached(cls, path: Path, class_colors: Mapping[str, RGB] | None, cache_dir: Path) -> _CacheEntry:
        cache_dir.mkdir(parents=True, exist_ok=True)
        _sweep_leftovers(cache_dir)
        entry = _CacheEntry.of(path, class_colors, cache_dir)
        with _exclusive(entry.lock):
            for _ in range(3):
                try:
                    check_store(entry.path, entry.source)
                except FileNotFoundError:
                    pass
                except (OSError, StoreError) as exc:
                    _log.warning("Rebuilding the overlay cache of %s: %s", path.name, exc)
                    entry.path.unlink(missing_ok=True)  # processes still mapping it keep their (whole) copy
                else:
                    return entry
                features = read_geojson(path, class_colors=class_colors)
                changed = _CacheEntry.of(path, class_colors, cache_dir)
                if changed != entry:  # the file changed while it was parsed: parse the new version
                    entry = changed
                    continue
                write_store(features, entry.path, entry.source)
                entry.remove_older()
                return entry
        return entry

    def scaled(self, factor: float) -> VectorOverlay:
        """The same overlay with every coordinate multiplied by ``factor`` (an in-memory copy unless 1)."""
        if factor == 1:
            return self
        features = self.features.scaled(factor)
        return VectorOverlay(features, self.path, layout=FeatureLayout.compute(features, order=self.layout.order))

    # ------------------------------------------------------------------------------------------- drawing

    def _palette(self, style: OverlayStyle) -> NDArray[np.uint8]:
        names = self.features.class_names
        colors = [
            style.class_colors.get(name, color) for name, color in zip(names, self.features.class_colors, strict=True)
        ]
        return np.asarray(colors, dtype=np.uint8).reshape(-1, 3)

    def _visible(self, ids: NDArray[np.int64], style: OverlayStyle) -> NDArray[np.int64]:
        if not style.hidden_classes:
            return ids
        hidden = [i for i, name in enumerate(self.features.class_names) if name in style.hidden_classes]
        return ids[~np.isin(self.features.class_id[ids], hidden)]

    def render(self, region: TileRegion, slide: SlideGeometry | None, style: OverlayStyle) -> Image.Image:
        """The RGBA overlay tile for ``region`` (full tile size, transparent where nothing is drawn).

        Tiles at or below the resolution of the overview (zoomed far out, where a tile may hold every
        feature) are cut from a per-style overview raster drawn once; closer tiles are drawn directly.
        """
        del slide  # vector coordinates are slide base pixels already
        overview_ds = self._overview_downsample()
        if region.downsample >= overview_ds and self.features.count > _DIRECT_MAX_FEATURES:
            return self._from_overview(region, style, overview_ds)
        canvas = _Canvas(region.l0_x, region.l0_y, region.l0_w, region.l0_h, region.downsample, region.tile_size)
        return self._draw(canvas, style)

    def _draw(self, canvas: _Canvas, style: OverlayStyle) -> Image.Image:
        l0_x, l0_y, l0_w, l0_h, ds = canvas.l0_x, canvas.l0_y, canvas.l0_w, canvas.l0_h, canvas.downsample
        width, height = canvas.width, canvas.height or canvas.width
        margin = (style.point_radius + 2) * ds
        # Drawn in the source file's order (later features over earlier ones), whatever the storage order.
        ids = self.layout.in_source_order(
            self.index.query(l0_x - margin, l0_y - margin, l0_x + l0_w + margin, l0_y + l0_h + margin)
        )
        ids = self._visible(ids, style)
        pixels = np.zeros((height, width, 4), dtype=np.uint8)
        if len(ids) == 0:
            return Image.fromarray(pixels, "RGBA")
        palette = self._palette(style)
        kinds = self.features.kind[ids]
        box = self.features.bbox[ids]
        extent = np.maximum(box[:, 2] - box[:, 0], box[:, 3] - box[:, 1])
        as_shape = (kinds != POINT) & (extent / ds >= style.min_polygon_px)
        small = ids[~as_shape & (kinds != POINT)]
        # Cells too small to outline become dots about their own size (at least a pixel).
        cell_radius = min(style.point_radius, max(0.5, self.typical_extent / (2 * ds)))
        alpha = round(255 * min(1.0, style.opacity + 0.4))
        self._paint_dots(pixels, small, canvas, palette, (alpha, cell_radius))
        self._paint_dots(pixels, ids[kinds == POINT], canvas, palette, (alpha, style.point_radius))
        image = Image.fromarray(pixels, "RGBA")
        shapes = ids[as_shape]
        if len(shapes):
            self._draw_shapes(image, shapes, canvas, palette, style)
        return image

    def _overview_downsample(self) -> float:
        longest = max(*self.l0_far, 1.0)
        return float(2.0 ** max(0, math.ceil(math.log2(longest / _OVERVIEW_MAX_SIDE))))

    def _overview(self, style: OverlayStyle, ds: float, scale: int) -> Image.Image:
        """The overview for a style, drawn at downsample ``ds`` and reduced by ``scale`` (each kept once made)."""
        key = (self._owner, style.token(), scale)
        cached = _overviews.get(key)
        if cached is not None:
            return cached
        if scale == 1:
            x1, y1 = self.l0_far
            canvas = _Canvas(0.0, 0.0, x1, y1, ds, max(1, math.ceil(x1 / ds)), max(1, math.ceil(y1 / ds)))
            overview = self._draw(canvas, style)
        else:
            overview = self._overview(style, ds, 1).reduce(scale)
        _overviews.put(key, overview)
        return overview

    def _from_overview(self, region: TileRegion, style: OverlayStyle, overview_ds: float) -> Image.Image:
        # Both downsamples are powers of two and tiles start at multiples of their size: integer boxes.
        scale = round(region.downsample / overview_ds)
        overview = self._overview(style, overview_ds, scale)
        left, top = round(region.l0_x / region.downsample), round(region.l0_y / region.downsample)
        size = region.tile_size
        return overview.crop((left, top, left + size, top + size))  # transparent beyond the overview

    def _paint_dots(
        self,
        pixels: NDArray[np.uint8],
        ids: NDArray[np.int64],
        canvas: _Canvas,
        palette: NDArray[np.uint8],
        dot: tuple[int, float],
    ) -> None:
        """Paint each feature's centroid as a disc; ``dot`` is ``(alpha, radius in pixels)``."""
        if len(ids) == 0:
            return
        l0_x, l0_y, ds = canvas.l0_x, canvas.l0_y, canvas.downsample
        alpha, radius = dot
        height, width = pixels.shape[:2]
        centre = self.features.centroid[ids]
        p_x = np.floor((centre[:, 0] - l0_x) / ds).astype(np.int64)
        p_y = np.floor((centre[:, 1] - l0_y) / ds).astype(np.int64)
        colors = np.empty((len(ids), 4), dtype=np.uint8)
        colors[:, :3] = palette[self.features.class_id[ids]]
        colors[:, 3] = alpha
        for d_x, d_y in _disc(radius):
            x, y = p_x + d_x, p_y + d_y
            inside = (x >= 0) & (x < width) & (y >= 0) & (y < height)
            pixels[y[inside], x[inside]] = colors[inside]

    def _draw_shapes(
        self,
        image: Image.Image,
        ids: NDArray[np.int64],
        canvas: _Canvas,
        palette: NDArray[np.uint8],
        style: OverlayStyle,
    ) -> None:
        l0_x, l0_y, ds = canvas.l0_x, canvas.l0_y, canvas.downsample
        features = self.features
        rings = ranges(self.first_ring[ids], self.ring_count[ids])
        starts = features.ring_offsets[rings]
        lengths = features.ring_offsets[rings + 1] - starts
        vertices = ranges(starts, lengths)
        screen = (features.vertices(vertices) - (l0_x, l0_y)) / ds
        flat: list[float] = screen.ravel().tolist()
        fill_alpha = round(255 * style.opacity) if style.fill else 0
        draw = ImageDraw.Draw(image)
        ring_features = features.ring_feature[rings]
        colors = palette[features.class_id[ring_features]].tolist()
        kinds = features.kind[ring_features].tolist()
        holes = features.ring_hole[rings]
        # Polygons with holes are filled through a mask (Pillow's polygon fill knows no holes).
        holed = set(ring_features[holes].tolist())
        with_holes: dict[int, list[tuple[list[float], bool]]] = {}
        position = 0
        rows = zip(lengths.tolist(), colors, kinds, holes.tolist(), ring_features.tolist(), strict=True)
        for length, (r, g, b), kind, hole, feature in rows:
            points = flat[position : position + 2 * length]
            position += 2 * length
            outline = (r, g, b, 255) if style.outline else None
            if kind == POLYGON and feature in holed:
                with_holes.setdefault(feature, []).append((points, hole))
            elif kind == POLYGON and length >= 3:
                fill = (r, g, b, fill_alpha) if fill_alpha else None
                if fill or outline:
                    draw.polygon(points, fill=fill, outline=outline)
            elif kind != POLYGON and length >= 2:
                draw.line(points, fill=(r, g, b, 255), width=1)
        for feature, parts in with_holes.items():
            r, g, b = palette[features.class_id[feature]].tolist()
            if fill_alpha:
                mask = Image.new("L", image.size, 0)
                mask_draw = ImageDraw.Draw(mask)
                for points, hole in sorted(parts, key=lambda part: part[1]):  # exteriors first, then holes
                    if len(points) >= 6:
                        mask_draw.polygon(points, fill=0 if hole else 255)
                image.paste((r, g, b, fill_alpha), mask=mask)
            if style.outline:
                for points, _ in parts:
                    draw.line([*points, *points[:2]], fill=(r, g, b, 255), width=1)

    # ------------------------------------------------------------------------------------------- queries

    def _ring_points(self, ring: int) -> NDArray[np.float64]:
        offsets = self.features.ring_offsets
        return self.features.vertices(slice(int(offsets[ring]), int(offsets[ring + 1])))

    @staticmethod
    def _contains(ring: NDArray[np.float64], x: float, y: float) -> bool:
        """Even-odd rule point-in-ring test."""
        x0, y0 = ring[:, 0], ring[:, 1]
        x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
        crosses = (y0 > y) != (y1 > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            at_x = x0 + (y - y0) * (x1 - x0) / (y1 - y0)
        return bool(np.count_nonzero(crosses & (x < at_x)) % 2)

    @staticmethod
    def _distance(points: NDArray[np.float64], x: float, y: float, *, closed: bool) -> float:
        """Distance from ``(x, y)`` to a polyline (or ring, or single point)."""
        if len(points) == 1:
            return float(np.hypot(points[0, 0] - x, points[0, 1] - y))
        a = points
        b = np.roll(points, -1, axis=0) if closed else points[1:]
        a = a if closed else points[:-1]
        d = b - a
        length2 = (d**2).sum(axis=1)
        t = np.clip(((x - a[:, 0]) * d[:, 0] + (y - a[:, 1]) * d[:, 1]) / np.where(length2 > 0, length2, 1), 0, 1)
        px, py = a[:, 0] + t * d[:, 0], a[:, 1] + t * d[:, 1]
        return float(np.hypot(px - x, py - y).min())

    @staticmethod
    def _area(ring: NDArray[np.float64]) -> float:
        x, y = ring[:, 0], ring[:, 1]
        return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2)

    def features_at(
        self, l0_x: float, l0_y: float, radius: float = 0.0, *, mpp: tuple[float, float] | None = None, limit: int = 20
    ) -> list[FeatureHit]:
        """The features at a slide position: polygons containing it, and anything within ``radius``.

        Args:
            l0_x: Position in slide base pixels.
            l0_y: Position in slide base pixels.
            radius: Tolerance in base pixels (a click on a point needs some).
            mpp: The slide's microns per pixel, to report areas in µm².
            limit: At most this many hits, nearest first (containing polygons at distance 0).

        Returns:
            Hits sorted by distance, smallest (innermost) polygon first among equals.
        """
        features = self.features
        hits: list[FeatureHit] = []
        found = self.index.query(l0_x - radius, l0_y - radius, l0_x + radius, l0_y + radius)
        for index in self.layout.in_source_order(found).tolist():
            rings = range(int(self.first_ring[index]), int(self.first_ring[index] + self.ring_count[index]))
            kind = int(features.kind[index])
            area = None
            if kind == POLYGON:
                outer = [r for r in rings if not features.ring_hole[r]]
                holes = [r for r in rings if features.ring_hole[r]]
                inside = any(self._contains(self._ring_points(r), l0_x, l0_y) for r in outer) and not any(
                    self._contains(self._ring_points(r), l0_x, l0_y) for r in holes
                )
                distance = (
                    0.0 if inside else min(self._distance(self._ring_points(r), l0_x, l0_y, closed=True) for r in rings)
                )
                area = sum(self._area(self._ring_points(r)) for r in outer) - sum(
                    self._area(self._ring_points(r)) for r in holes
                )
            else:
                distance = min(
                    (
                        float(np.hypot(*(self._ring_points(r) - (l0_x, l0_y)).T).min())
                        if kind == POINT
                        else self._distance(self._ring_points(r), l0_x, l0_y, closed=False)
                    )
                    for r in rings
                )
            if distance > radius:
                continue
            hits.append(self._hit(index, distance, area, mpp))
        hits.sort(key=lambda h: (h.distance, h.area_px if h.area_px is not None else 0.0))
        return hits[:limit]

    def _hit(self, index: int, distance: float, area: float | None, mpp: tuple[float, float] | None) -> FeatureHit:
        features = self.features
        class_id = int(features.class_id[index])
        row = features.measurements[index] if features.measurement_names else np.zeros(0, dtype=np.float32)
        measurements = {
            name: float(value)
            for name, value in zip(features.measurement_names, row.tolist(), strict=True)
            if not np.isnan(value)
        }
        box = features.bbox[index].tolist()
        return FeatureHit(
            index=index if self.layout.order is None else int(self.layout.order[index]),
            id=features.ids[index],
            class_name=features.class_names[class_id],
            color=features.class_colors[class_id],
            geometry=_GEOMETRY_NAMES[int(features.kind[index])],
            centroid=(float(features.centroid[index, 0]), float(features.centroid[index, 1])),
            bbox=(box[0], box[1], box[2], box[3]),
            distance=float(distance),
            area_px=area,
            area_um2=area * mpp[0] * mpp[1] if area is not None and mpp else None,
            measurements=measurements,
        )

    def info(self, slide: SlideGeometry | None = None) -> OverlayInfo:
        """Legend and extent: classes with colours and feature counts, bounds, measurement names."""
        del slide
        features = self.features
        classes = [
            ClassSummary(name=name, color=color, count=int(count))
            for name, color, count in zip(
                features.class_names, features.class_colors, self.layout.class_counts, strict=True
            )
        ]
        return OverlayInfo(
            path=str(self.path),
            kind="vector",
            feature_count=features.count,
            classes=classes,
            bounds=self.layout.bounds,
            measurements=features.measurement_names,
        )

    def close(self) -> None:
        """Drop the drawn overviews; mapped arrays are unmapped when the last reference to them goes."""
        _overviews.drop(self._owner)
