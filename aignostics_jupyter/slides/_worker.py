"""What runs inside a tile worker process (or thread): one renderer per process, created on first use.

Functions here are module-level so a process pool can pickle references to them.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import NamedTuple

from aignostics_jupyter.slides.encoding import ImageFormat, encode_image
from aignostics_jupyter.slides.handle_cache import HandleCache
from aignostics_jupyter.slides.models import SlideInfo
from aignostics_jupyter.slides.overlays.loader import OverlayHits, OverlaySpec, open_overlay, query_overlay
from aignostics_jupyter.slides.overlays.models import OverlayInfo, OverlayStyle, SlideGeometry
from aignostics_jupyter.slides.overlays.raster import RasterOverlay
from aignostics_jupyter.slides.overlays.vector import VectorOverlay
from aignostics_jupyter.slides.renderer import SlideRenderer
from aignostics_jupyter.slides.tiling import ZoomGrid

_lock = threading.Lock()


class _Settings:
    max_open = 16
    pad_edges = True
    overlay_cache_dir: str | None = None


_settings = _Settings()
_renderer: SlideRenderer | None = None
_local = threading.local()


def bind(bound: SlideRenderer, overlay_cache_dir: str | None = None) -> None:
    """Make this thread use ``bound`` (the initializer of a thread pool owned by one service)."""
    _local.renderer = bound
    _settings.overlay_cache_dir = overlay_cache_dir


def configure(max_open: int, pad_edges: bool, overlay_cache_dir: str | None = None) -> None:
    """Set up this process's renderer (the pool's initializer)."""
    global _renderer  # noqa: PLW0603 - one renderer per worker process is the point
    with _lock:
        _settings.max_open, _settings.pad_edges = max_open, pad_edges
        _settings.overlay_cache_dir = overlay_cache_dir
        if _renderer is not None:
            _renderer.close()
        _renderer = None
        _overlays.close_all()


def renderer() -> SlideRenderer:
    """This thread's bound renderer, else this process's renderer."""
    global _renderer  # noqa: PLW0603
    bound: SlideRenderer | None = getattr(_local, "renderer", None)
    if bound is not None:
        return bound
    with _lock:
        if _renderer is None:
            _renderer = SlideRenderer(max_open=_settings.max_open, pad_edges=_settings.pad_edges)
        return _renderer


def slide_info(path: Path) -> SlideInfo:
    """See :meth:`SlideRenderer.info`."""
    return renderer().info(path)


def slide_tile(path: Path, tile: tuple[int, int, int], fmt: ImageFormat, quality: int) -> bytes:
    """See :meth:`SlideRenderer.tile`; ``tile`` is ``(z, t_x, t_y)``."""
    return renderer().tile(path, *tile, fmt=fmt, quality=quality)


def slide_thumbnail(path: Path, max_size: int, fmt: ImageFormat, quality: int) -> bytes:
    """See :meth:`SlideRenderer.thumbnail`."""
    return renderer().thumbnail(path, max_size, fmt=fmt, quality=quality)


def slide_associated(path: Path, name: str, fmt: ImageFormat, quality: int) -> bytes:
    """See :meth:`SlideRenderer.associated`."""
    return renderer().associated(path, name, fmt=fmt, quality=quality)


def ping() -> int:
    """Warm a worker up (imports done, renderer created); returns its process id."""
    import os

    renderer()
    return os.getpid()


# ------------------------------------------------------------------------------------------------ overlays


class OverlayJob(NamedTuple):
    """An overlay, the slide it is drawn on and how."""

    spec: OverlaySpec
    slide: SlideGeometry
    style: OverlayStyle


_specs: dict[Path, OverlaySpec] = {}


def _open_registered(path: Path) -> RasterOverlay | VectorOverlay:
    cache_dir = _settings.overlay_cache_dir
    return open_overlay(_specs[path], cache_dir=Path(cache_dir) if cache_dir else None)


_overlays: HandleCache[RasterOverlay | VectorOverlay] = HandleCache(_open_registered, max_open=8)


def _overlay(spec: OverlaySpec) -> RasterOverlay | VectorOverlay:
    path = Path(spec.path).resolve()
    with _lock:
        if _specs.get(path) != spec:
            _overlays.discard(path)
            _specs[path] = spec
    return _overlays.get(path)


def overlay_tile(job: OverlayJob, tile: tuple[int, int, int], fmt: ImageFormat, quality: int) -> bytes:
    """An overlay tile ``(z, t_x, t_y)`` in the slide's grid, encoded with transparency."""
    region = ZoomGrid(job.slide.width, job.slide.height).tile(*tile)
    image = _overlay(job.spec).render(region, job.slide, job.style)
    return encode_image(image, fmt, quality)


def overlay_info(job: OverlayJob) -> OverlayInfo:
    """Legend and extent of an overlay."""
    return _overlay(job.spec).info(job.slide)


def overlay_query(job: OverlayJob, point: tuple[float, float], radius: float, limit: int) -> OverlayHits:
    """What an overlay holds at a slide position."""
    return query_overlay(_overlay(job.spec), job.slide, point, radius, limit)
