"""Parse a GeoJSON overlay into its on-disk cache in a short-lived child process.

Parsing a large GeoJSON file (500k cells) peaks at well over a gigabyte of memory, which a long-lived tile worker
would keep (the allocator does not give it back). Parsing in a child that exits right after writing the compact
cache file (:mod:`.store`) leaves the workers only mapping it (shared, read-only).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from aignostics_jupyter.exceptions import UnsupportedSlideError
from aignostics_jupyter.slides.overlays.colors import RGB
from aignostics_jupyter.slides.overlays.vector import VectorOverlay

__all__ = ["CHILD_PARSE_MIN_BYTES", "parse_into_cache"]

CHILD_PARSE_MIN_BYTES = 8 * 2**20
"""GeoJSON files at least this large are parsed in a child process (smaller ones parse cheaply in place)."""


def _parse(path: str, class_colors: dict[str, RGB], cache_dir: str) -> str | None:
    """Child side: build the cache entry; the error message of an unusable file, else None."""
    try:
        VectorOverlay.ensure_cached(Path(path), class_colors=class_colors, cache_dir=Path(cache_dir))
    except UnsupportedSlideError as exc:
        return str(exc)
    return None


def parse_into_cache(path: Path, class_colors: Mapping[str, RGB], cache_dir: Path) -> None:
    """Make sure ``cache_dir`` holds the parsed form of ``path``, parsing it in a child process if needed.

    The cache entry is built under the same file lock as in-process loads, so concurrent callers parse once.
    When no child can be started (or it dies), nothing is cached here and the caller's own load parses in place,
    as without a child.

    Raises:
        UnsupportedSlideError: When the file is not usable GeoJSON (the same message as an in-process parse).
    """
    context = multiprocessing.get_context("spawn")
    try:
        with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
            problem = pool.submit(_parse, str(path), dict(class_colors), str(cache_dir)).result()
    except (BrokenProcessPool, OSError):
        return
    if problem is not None:
        raise UnsupportedSlideError(problem)
