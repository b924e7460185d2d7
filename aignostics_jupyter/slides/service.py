"""The tile service: slide (and overlay) tiles for the viewer, rendered off the event loop and cached.

Reading and encoding run in a pool of worker **processes** (Python threads do not scale this work: the GIL),
each with its own open-handle cache. The parent keeps the encoded tiles in a byte-bounded LRU, answers
repeated requests from it, merges identical requests in flight, and checks tile coordinates against the
slide's grid before any work is sent to a worker. Every answer carries an ETag derived from the file's
signature and the request, so it can be computed (for ``If-None-Match``) without rendering anything.

**Raw tile passthrough.** A JPEG tile at the default quality that coincides exactly with a stored tile of a
JPEG-compressed tiled TIFF (Aperio SVS, generic pyramidal TIFF) is not rendered at all: the parent reads the
stored bytes with one ``pread`` (from the page cache without blocking the event loop, else in a thread), makes
them a standalone JPEG (:mod:`~aignostics_jupyter.slides.raw_tiles`) and caches them like any tile. The file's
tile index is parsed once per file version, in a thread. Every other tile, and any stored tile that cannot be
served as it is, goes to the workers. :meth:`TileService.tile_sources` counts both.

Workers are never forked from the caller (forking a process that runs an event loop and threads is unsafe). Where
the platform has it they are forked from a ``forkserver``: one clean process that imports the caller's main module
and the slide readers once, so each worker starts in milliseconds and shares those pages with its siblings
(a spawned worker re-imports everything: about 2 s for a Jupyter server). Elsewhere they are spawned. As with
any ``multiprocessing`` code, a plain script using process mode needs the ``if __name__ == "__main__":`` guard;
Jupyter servers, kernels and pytest already have it.

Example (from a tornado handler)::

    service = TileService()                      # built once, shared through web_app.settings
    tile = await service.get_tile(path, z, x, y)  # EncodedImage(data, media_type, etag)
"""

from __future__ import annotations

import ast
import asyncio
import hashlib
import multiprocessing
import os
import sys
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, NamedTuple, Self, TypeVar

from aignostics_jupyter.exceptions import UnsupportedSlideError
from aignostics_jupyter.slides import _worker
from aignostics_jupyter.slides.byte_cache import ByteLRUCache, CacheStats
from aignostics_jupyter.slides.encoding import MEDIA_TYPES, ImageFormat, parse_format
from aignostics_jupyter.slides.models import EncodedImage, SlideInfo
from aignostics_jupyter.slides.overlays.loader import OverlayHits, OverlaySpec
from aignostics_jupyter.slides.overlays.models import OverlayInfo, OverlayStyle, SlideGeometry
from aignostics_jupyter.slides.raw_tiles import (
    PASSTHROUGH_VENDORS,
    RawTileError,
    RawTileIndex,
    RawTileRef,
    plan_raw_tile,
)
from aignostics_jupyter.slides.renderer import SlideRenderer, signature_tag
from aignostics_jupyter.slides.source import file_signature
from aignostics_jupyter.slides.tiling import ZoomGrid

__all__ = ["TileKey", "TileService", "default_overlay_cache_dir", "worker_context"]

R = TypeVar("R")
Mode = Literal["process", "thread"]
_INFO_CACHE_ENTRIES = 256
_RAW_INDEX_ENTRIES = 32


class TileKey(NamedTuple):
    """Identifies one encoded slide tile, including the version of the file it came from."""

    path: str
    signature: str
    z: int
    t_x: int
    t_y: int
    fmt: ImageFormat
    quality: int


def default_overlay_cache_dir() -> Path:
    """A directory only this user can read, under the system's temporary directory."""
    user = getattr(os, "getuid", lambda: "user")()
    path = Path(tempfile.gettempdir()) / f"aignostics-jupyter-overlays-{user}"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


_WORKER_MODULE = "aignostics_jupyter.slides._worker"


def _main_imports() -> list[str]:
    """The modules the main script imports at its top level (``jupyter-server`` → ``jupyter_server.serverapp``).

    Every new worker re-runs the main script's top level (``multiprocessing`` does so to find pickled objects),
    and Python 3.11's forkserver does not preload ``__main__`` itself; with the script's imports already done in
    the forkserver that re-run costs nothing. Read from the script's source, so nothing of it runs here.
    """
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if not isinstance(path, str):
        return []
    try:
        tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return []
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return sorted(names - {"__future__"})


def worker_context() -> multiprocessing.context.BaseContext:
    """How tile workers start: forked from a forkserver that preloaded our readers, else spawned.

    Never a plain fork of the caller (a tornado server or a kernel runs threads and an event loop). The preload
    list of the forkserver is process-wide and applies when it starts (with the first worker).
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["__main__", *_main_imports(), _WORKER_MODULE])
    return context


def _etag(key: Hashable) -> str:
    return '"' + hashlib.sha1(repr(key).encode(), usedforsecurity=False).hexdigest()[:24] + '"'


class TileService:
    """Serves slide tiles, slide info, thumbnails and associated images; thread-safe and loop-agnostic.

    Args:
        workers: Worker count (default: the number of CPUs).
        mode: ``process`` (default; real parallelism) or ``thread`` (no process start-up: tests, small setups).
        cache_bytes: Bound of the encoded-tile cache in the parent.
        max_open: Open slides kept per worker.
        jpeg_quality: Default JPEG quality of slide tiles.
        pad_edges: Pad edge tiles to full size (Leaflet needs it; see ``render_tile_image``).
        overlay_cache_dir: Where parsed GeoJSON overlays are cached as memory-mapped ``.features`` files
            (default: a private directory under the system's temporary directory).
        passthrough: Serve JPEG tiles that are stored tiles of a JPEG TIFF as they are stored (default on;
            off renders every tile).
    """

    def __init__(
        self,
        *,
        workers: int | None = None,
        mode: Mode = "process",
        cache_bytes: int = 256 * 2**20,
        max_open: int = 16,
        jpeg_quality: int = 80,
        pad_edges: bool = True,
        overlay_cache_dir: Path | None = None,
        passthrough: bool = True,
    ) -> None:
        self.overlay_cache_dir = overlay_cache_dir or default_overlay_cache_dir()
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.mode = mode
        self.max_open = max_open
        self.jpeg_quality = jpeg_quality
        self.pad_edges = pad_edges
        self.cache = ByteLRUCache(cache_bytes)
        self._executor: Executor | None = None
        self._lock = threading.RLock()
        self._inflight: dict[Hashable, Future[Any]] = {}
        self._infos: OrderedDict[tuple[str, str], SlideInfo] = OrderedDict()
        self._renderer: SlideRenderer | None = None
        self._closed = False
        self.passthrough = passthrough
        # (path, signature tag) -> the file's tile index, or None when it has none usable (not a TIFF, damaged).
        self._raw_indexes: OrderedDict[tuple[str, str], RawTileIndex | None] = OrderedDict()
        self._raw_build_lock = threading.Lock()
        self._sources = {"passthrough": 0, "rendered": 0}

    # ------------------------------------------------------------------------------------------ plumbing

    def _pool(self) -> Executor:
        with self._lock:
            if self._closed:
                msg = "The tile service has been closed."
                raise RuntimeError(msg)
            if self._executor is None:
                init_args = (self.max_open, self.pad_edges, str(self.overlay_cache_dir))
                if self.mode == "process":
                    self._executor = ProcessPoolExecutor(
                        self.workers,
                        mp_context=worker_context(),
                        initializer=_worker.configure,
                        initargs=init_args,
                    )
                else:
                    self._renderer = SlideRenderer(max_open=self.max_open, pad_edges=self.pad_edges)
                    self._executor = ThreadPoolExecutor(
                        self.workers,
                        thread_name_prefix="aignostics-tiles",
                        initializer=_worker.bind,
                        initargs=(self._renderer, str(self.overlay_cache_dir)),
                    )
            return self._executor

    def _reset_pool(self, broken: Executor) -> None:
        with self._lock:
            if self._executor is broken:
                self._executor = None
                self._inflight.clear()
        broken.shutdown(wait=False, cancel_futures=True)

    def _submit(self, key: Hashable | None, fn: Callable[..., R], *args: Any) -> Future[R]:
        """Submit ``fn(*args)`` unless the same keyed work is in flight; cache bytes results under ``key``."""
        with self._lock:
            if key is not None and key in self._inflight:
                return self._inflight[key]
            future = self._pool().submit(fn, *args)
            if key is not None:
                self._inflight[key] = future
                future.add_done_callback(lambda done: self._finished(key, done))
            return future

    def _finished(self, key: Hashable, future: Future[Any]) -> None:
        with self._lock:
            if self._inflight.get(key) is future:
                del self._inflight[key]
        if not future.cancelled() and future.exception() is None:
            result = future.result()
            if isinstance(result, bytes):
                self.cache.put(key, result)

    async def _run(self, key: Hashable | None, fn: Callable[..., R], *args: Any) -> R:
        for attempt in (1, 2):
            executor = self._pool()
            try:
                # shield: a caller that gives up (timeout, disconnect) must not cancel work others wait for too.
                return await asyncio.shield(asyncio.wrap_future(self._submit(key, fn, *args)))
            except BrokenProcessPool as exc:
                # A worker died (a reader crashed on a damaged file, or it was killed). Start fresh, retry once.
                self._reset_pool(executor)
                if attempt == 2:
                    msg = f"The slide reader crashed while working on {Path(args[0]).name}."
                    raise UnsupportedSlideError(msg) from exc
        raise AssertionError  # pragma: no cover - the loop returns or raises

    def _run_sync(self, key: Hashable | None, fn: Callable[..., R], *args: Any) -> R:
        return self._submit(key, fn, *args).result()

    @staticmethod
    def _tag(path: Path) -> str:
        """The signature tag of a resolved path."""
        try:
            return signature_tag(path, file_signature(path), resolved=True)
        except OSError as exc:
            msg = f"{path.name or path} does not exist ({path})."
            raise UnsupportedSlideError(msg) from exc

    # ------------------------------------------------------------------------------------------ public API

    async def warm_up(self) -> list[int]:
        """Start every worker now (instead of on the first request); returns their process ids."""
        futures = [self._submit(None, _worker.ping) for _ in range(self.workers)]
        return list(await asyncio.gather(*(asyncio.wrap_future(f) for f in futures)))

    async def info(self, path: str | Path) -> SlideInfo:
        """Describe the slide at ``path`` (cached until the file changes).

        Raises:
            UnsupportedSlideError: When it cannot be opened.
        """
        path = Path(path).resolve()
        return await self._info(path, (str(path), self._tag(path)))

    async def _info(self, path: Path, key: tuple[str, str]) -> SlideInfo:
        """:meth:`info` of a resolved path whose ``(path, signature tag)`` is ``key``."""
        with self._lock:
            cached = self._infos.get(key)
            if cached is not None:
                self._infos.move_to_end(key)
                return cached
        info = await self._run(("info", *key), _worker.slide_info, path)
        with self._lock:
            self._infos[key] = info
            while len(self._infos) > _INFO_CACHE_ENTRIES:
                self._infos.popitem(last=False)
        return info

    def tile_key(
        self, path: str | Path, z: int, t_x: int, t_y: int, *, fmt: str = "jpeg", quality: int | None = None
    ) -> TileKey:
        """The cache key of a tile request (includes the file signature). Cheap: one ``stat``."""
        resolved = Path(path).resolve()
        image_format = parse_format(fmt)
        return TileKey(str(resolved), self._tag(resolved), z, t_x, t_y, image_format, quality or self.jpeg_quality)

    def tile_etag(
        self, path: str | Path, z: int, t_x: int, t_y: int, *, fmt: str = "jpeg", quality: int | None = None
    ) -> str:
        """The ETag :meth:`get_tile` would return, without rendering (for ``If-None-Match``)."""
        return _etag(self.tile_key(path, z, t_x, t_y, fmt=fmt, quality=quality))

    async def get_tile(
        self, path: str | Path, z: int, t_x: int, t_y: int, *, fmt: str = "jpeg", quality: int | None = None
    ) -> EncodedImage:
        """Viewer tile ``z/t_x/t_y`` of a slide, encoded.

        Args:
            path: The slide.
            z: Leaflet zoom (0 = whole slide in one tile; ``info.z_max`` = native resolution).
            t_x: Tile column.
            t_y: Tile row.
            fmt: ``jpeg`` (default), ``png`` or ``webp``.
            quality: JPEG/WebP quality (default ``jpeg_quality``).

        Raises:
            TileOutOfRangeError: Outside the slide's tile grid (checked before any rendering).
            UnsupportedSlideError: When the slide cannot be read.
        """
        key = self.tile_key(path, z, t_x, t_y, fmt=fmt, quality=quality)
        data = self.cache.get(key)
        if data is None:
            info = await self._info(Path(key.path), (key.path, key.signature))
            ZoomGrid(info.width, info.height, info.viewer_tile_size).check(z, t_x, t_y)
            data = await self._raw_tile(key, info)
            if data is None:
                self._count("rendered")
                data = await self._run(key, _worker.slide_tile, Path(key.path), (z, t_x, t_y), key.fmt, key.quality)
        return EncodedImage(data=data, media_type=MEDIA_TYPES[key.fmt], etag=_etag(key))

    def get_tile_sync(
        self, path: str | Path, z: int, t_x: int, t_y: int, *, fmt: str = "jpeg", quality: int | None = None
    ) -> EncodedImage:
        """Blocking :meth:`get_tile`, for callers without an event loop (e.g. a kernel-side fallback server)."""
        key = self.tile_key(path, z, t_x, t_y, fmt=fmt, quality=quality)
        data = self.cache.get(key)
        if data is None:
            info = self._run_sync(("info", key.path, key.signature), _worker.slide_info, Path(key.path))
            ZoomGrid(info.width, info.height, info.viewer_tile_size).check(z, t_x, t_y)
            data = self._raw_tile_sync(key, info)
            if data is None:
                self._count("rendered")
                data = self._run_sync(key, _worker.slide_tile, Path(key.path), (z, t_x, t_y), key.fmt, key.quality)
        return EncodedImage(data=data, media_type=MEDIA_TYPES[key.fmt], etag=_etag(key))

    # ------------------------------------------------------------------------------------------ raw tiles

    def _count(self, source: str) -> None:
        with self._lock:
            self._sources[source] += 1

    def tile_sources(self) -> dict[str, int]:
        """How many slide tiles (not cache hits) were passed through as stored and how many were rendered."""
        with self._lock:
            return dict(self._sources)

    def _raw_eligible(self, key: TileKey, info: SlideInfo) -> bool:
        return (
            self.passthrough
            and key.fmt == "jpeg"
            and key.quality == self.jpeg_quality
            and info.vendor in PASSTHROUGH_VENDORS
        )

    def _cached_raw_index(self, key: TileKey) -> tuple[bool, RawTileIndex | None]:
        """``(known, index)`` for the file version of ``key``, without any I/O."""
        with self._lock:
            index_key = (key.path, key.signature)
            if index_key not in self._raw_indexes:
                return False, None
            self._raw_indexes.move_to_end(index_key)
            return True, self._raw_indexes[index_key]

    def _build_raw_index(self, key: TileKey) -> RawTileIndex | None:
        """Parse the file's tile index once per version (blocking; one build at a time)."""
        with self._raw_build_lock:
            known, index = self._cached_raw_index(key)
            if known:
                return index
            try:
                index = RawTileIndex.build(Path(key.path))
            except (RawTileError, OSError):
                index = None
            if index is not None and signature_tag(Path(key.path), index.signature, resolved=True) != key.signature:
                return None  # the file changed meanwhile: render this tile; the next request indexes anew
            with self._lock:
                self._raw_indexes[(key.path, key.signature)] = index
                while len(self._raw_indexes) > _RAW_INDEX_ENTRIES:
                    self._raw_indexes.popitem(last=False)
            return index

    def _plan_raw(self, key: TileKey, info: SlideInfo, index: RawTileIndex | None) -> RawTileRef | None:
        if index is None:
            return None
        grid = ZoomGrid(info.width, info.height, info.viewer_tile_size)
        return plan_raw_tile(index, grid, info.level_dimensions, (key.z, key.t_x, key.t_y))

    def _passed_through(self, key: TileKey, data: bytes) -> bytes:
        self.cache.put(key, data)
        self._count("passthrough")
        return data

    async def _raw_tile(self, key: TileKey, info: SlideInfo) -> bytes | None:
        """The stored tile for ``key`` as it is, or None when it must be rendered (see the module docs)."""
        if not self._raw_eligible(key, info):
            return None
        known, index = self._cached_raw_index(key)
        if not known:
            index = await asyncio.to_thread(self._build_raw_index, key)
        ref = self._plan_raw(key, info, index)
        if index is None or ref is None:
            return None
        try:
            try:
                data = index.read(ref, nowait=True)  # from the page cache: a few microseconds on the loop
            except BlockingIOError:
                data = await asyncio.to_thread(index.read, ref)
        except (RawTileError, OSError):
            return None  # damaged, changed or unusual: the renderer decides (and reports a real error)
        return self._passed_through(key, data)

    def _raw_tile_sync(self, key: TileKey, info: SlideInfo) -> bytes | None:
        """Blocking :meth:`_raw_tile`."""
        if not self._raw_eligible(key, info):
            return None
        known, index = self._cached_raw_index(key)
        if not known:
            index = self._build_raw_index(key)
        ref = self._plan_raw(key, info, index)
        if index is None or ref is None:
            return None
        try:
            data = index.read(ref)
        except (RawTileError, OSError):
            return None
        return self._passed_through(key, data)

    async def thumbnail(self, path: str | Path, max_size: int = 512, fmt: str = "jpeg") -> EncodedImage:
        """The whole slide fitting in ``max_size`` pixels."""
        resolved = Path(path).resolve()
        image_format = parse_format(fmt)
        key = ("thumbnail", str(resolved), self._tag(resolved), max_size, image_format)
        data = self.cache.get(key)
        if data is None:
            data = await self._run(key, _worker.slide_thumbnail, resolved, max_size, image_format, 85)
        return EncodedImage(data=data, media_type=MEDIA_TYPES[image_format], etag=_etag(key))

    async def associated(self, path: str | Path, name: str, fmt: str = "jpeg") -> EncodedImage:
        """An associated image (``label``, ``macro``, ``thumbnail``).

        Raises:
            NotFoundError: When the slide has no such image.
        """
        resolved = Path(path).resolve()
        image_format = parse_format(fmt)
        key = ("associated", str(resolved), self._tag(resolved), name, image_format)
        data = self.cache.get(key)
        if data is None:
            data = await self._run(key, _worker.slide_associated, resolved, name, image_format, 90)
        return EncodedImage(data=data, media_type=MEDIA_TYPES[image_format], etag=_etag(key))

    # ------------------------------------------------------------------------------------------ overlays

    async def _overlay_job(
        self, slide_path: str | Path, overlay: OverlaySpec | str | Path, style: OverlayStyle | None
    ) -> tuple[SlideInfo, _worker.OverlayJob, str]:
        """Slide info, the job for the workers, and a tag that changes with the slide or overlay file."""
        info = await self.info(slide_path)
        spec = OverlaySpec.of(overlay)
        resolved = Path(spec.path).resolve()
        spec = spec.model_copy(update={"path": str(resolved)})
        try:
            overlay_signature = file_signature(resolved)
        except OSError as exc:
            msg = f"The overlay {resolved.name} does not exist ({resolved})."
            raise UnsupportedSlideError(msg) from exc
        mpp = (info.mpp_x, info.mpp_y) if info.mpp_x and info.mpp_y else None
        slide = SlideGeometry(width=info.width, height=info.height, mpp=mpp)
        tag = f"{info.signature}|{signature_tag(resolved, overlay_signature)}|{spec.token()}"
        return info, _worker.OverlayJob(spec, slide, style or OverlayStyle()), tag

    async def overlay_tile(
        self,
        slide_path: str | Path,
        z: int,
        t_x: int,
        t_y: int,
        *,
        overlay: OverlaySpec | str | Path,
        style: OverlayStyle | None = None,
        fmt: str = "png",
        quality: int = 80,
    ) -> EncodedImage:
        """A transparent overlay tile in the slide's tile grid (PNG by default; WebP also keeps alpha).

        Args:
            slide_path: The slide the overlay belongs to (its size and mpp align rasters).
            z: Leaflet zoom.
            t_x: Tile column.
            t_y: Tile row.
            overlay: The overlay file, or an :class:`OverlaySpec` with its metadata (class colours, mpp).
            style: Opacity, colours, hidden classes.
            fmt: ``png`` or ``webp`` (``jpeg`` loses the transparency).
            quality: WebP quality.

        Raises:
            TileOutOfRangeError: Outside the slide's tile grid.
            UnsupportedSlideError: When the slide or the overlay cannot be read.
        """
        info, job, tag = await self._overlay_job(slide_path, overlay, style)
        ZoomGrid(info.width, info.height, info.viewer_tile_size).check(z, t_x, t_y)
        image_format = parse_format(fmt)
        key = ("overlay", tag, job.style.token(), z, t_x, t_y, image_format, quality)
        data = self.cache.get(key)
        if data is None:
            data = await self._run(key, _worker.overlay_tile, job, (z, t_x, t_y), image_format, quality)
        return EncodedImage(data=data, media_type=MEDIA_TYPES[image_format], etag=_etag(key))

    async def overlay_info(self, slide_path: str | Path, overlay: OverlaySpec | str | Path) -> OverlayInfo:
        """Legend (classes, colours, counts) and extent of an overlay."""
        _, job, tag = await self._overlay_job(slide_path, overlay, None)
        return await self._run(("overlay-info", tag), _worker.overlay_info, job)

    async def overlay_query(
        self,
        slide_path: str | Path,
        overlay: OverlaySpec | str | Path,
        l0_x: float,
        l0_y: float,
        *,
        radius: float = 0.0,
        limit: int = 20,
    ) -> OverlayHits:
        """What an overlay holds at a slide position (base pixels): features within ``radius``, or the raster value."""
        _, job, _ = await self._overlay_job(slide_path, overlay, None)
        return await self._run(None, _worker.overlay_query, job, (l0_x, l0_y), radius, limit)

    def cache_stats(self) -> CacheStats:
        """Counters of the encoded-tile cache."""
        return self.cache.stats()

    def close(self) -> None:
        """Stop the workers (waiting for running work) and drop the caches."""
        with self._lock:
            self._closed = True
            executor, self._executor = self._executor, None
            self._inflight.clear()
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
        if self._renderer is not None:
            self._renderer.close()
        self.cache.clear()
        with self._lock:
            self._raw_indexes.clear()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
