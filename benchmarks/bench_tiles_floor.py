"""The in-process floor of tile serving, and overlay tile timings with 500k cells.

Measures, on a generated large slide (textured, so JPEG work is realistic):

* slide tiles: region read (OpenSlide, level choice + resize) and JPEG encode, per zoom band, in this process;
* the raw tile read of the tiles that are stored tiles (index parsed once, then one ``pread`` + header check, no
  decode or encode: what the service's passthrough does), per zoom band;
* the same tiles through ``TileService`` with a pool of worker processes (throughput, uncached and cached; the
  note says how many were passed through as stored and how many rendered);
* a 500k-cell QuPath-style GeoJSON: parse + index build time, overlay tile render + PNG encode per zoom band,
  and ``features_at`` lookups.

Usage::

    python benchmarks/bench_tiles_floor.py [--size 40000x30000] [--cells 500000] [--tiles 300] [--workdir DIR]

Generated inputs are kept in the work directory and reused by later runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from aignostics_jupyter.slides import open_slide, write_slide
from aignostics_jupyter.slides.encoding import encode_image
from aignostics_jupyter.slides.overlays import OverlayStyle, VectorOverlay
from aignostics_jupyter.slides.overlays.geojson import read_geojson
from aignostics_jupyter.slides.overlays.synthetic import cell_features
from aignostics_jupyter.slides.raw_tiles import RawTileIndex, plan_raw_tile
from aignostics_jupyter.slides.renderer import render_tile_image, zoom_grid
from aignostics_jupyter.slides.service import TileService
from aignostics_jupyter.slides.tiling import ZoomGrid


def textured(width: int, height: int) -> Callable[[float, int, int, int, int], NDArray[np.uint8]]:
    """Gradient plus a fixed random texture (tissue-like busyness for the JPEG codec)."""
    texture = np.random.default_rng(0).integers(0, 60, size=(512, 512, 3), dtype=np.int16)

    def render(downsample: float, l_x: int, l_y: int, l_w: int, l_h: int) -> NDArray[np.uint8]:
        xs = np.arange(l_x, l_x + l_w)
        ys = np.arange(l_y, l_y + l_h)
        base = np.empty((l_h, l_w, 3), dtype=np.int16)
        base[..., 0] = (150 + 80 * xs[None, :] * downsample / width).astype(np.int16)
        base[..., 1] = (90 + 60 * ys[:, None] * downsample / height).astype(np.int16)
        base[..., 2] = 170
        noisy = base + texture[(ys % 512)[:, None], (xs % 512)[None, :]] - 30
        return np.clip(noisy, 0, 255).astype(np.uint8)

    return render


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def row(name: str, values_ms: list[float], extra: str = "") -> str:
    return (
        f"| {name:<44} | {len(values_ms):>5} | {statistics.median(values_ms):>8.2f} | "
        f"{percentile(values_ms, 95):>8.2f} | {statistics.fmean(values_ms):>8.2f} | {extra:<18} |"
    )


HEADER = (
    f"| {'measurement':<44} | {'n':>5} | {'p50 ms':>8} | {'p95 ms':>8} | {'mean ms':>8} | {'note':<18} |\n"
    f"|{'-' * 46}|{'-' * 7}|{'-' * 10}|{'-' * 10}|{'-' * 10}|{'-' * 20}|"
)


def zoom_bands(grid: ZoomGrid) -> dict[str, list[int]]:
    return {
        "native (z_max)": [grid.z_max],
        "beyond native (z_max+1)": [grid.z_top],
        "mid (z_max-2..z_max-1)": [grid.z_max - 2, grid.z_max - 1],
        "overview (z<=z_max-4)": list(range(0, max(1, grid.z_max - 3))),
    }


def sample_tiles(grid: ZoomGrid, zooms: list[int], count: int, seed: int) -> list[tuple[int, int, int]]:
    rng = np.random.default_rng(seed)
    tiles = []
    for i in range(count):
        z = zooms[i % len(zooms)]
        columns, rows = grid.tile_count(z)
        tiles.append((z, int(rng.integers(columns)), int(rng.integers(rows))))
    return tiles


def ensure_slide(workdir: Path, width: int, height: int) -> Path:
    path = workdir / f"bench-{width}x{height}.svs"
    if not path.exists():
        started = time.perf_counter()
        write_slide(path.with_suffix(".tmp"), width, height, textured(width, height), mpp=0.25, fmt="svs")
        path.with_suffix(".tmp").rename(path)
        print(f"wrote {path.name} ({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - started:.1f} s")
    return path


def ensure_cells(workdir: Path, count: int, width: int, height: int) -> Path:
    path = workdir / f"cells-{count}-{width}x{height}.json"
    if not path.exists():
        started = time.perf_counter()
        # Cells only over the middle of the slide, as tissue would be; dense enough to matter per tile.
        features = cell_features(count, width // 2, height // 2, seed=1)
        shift_x, shift_y = width // 4, height // 4
        for feature in features:
            ring = feature["geometry"]["coordinates"][0]  # type: ignore[index]
            feature["geometry"]["coordinates"] = [[[x + shift_x, y + shift_y] for x, y in ring]]  # type: ignore[index]
        document = {"type": "FeatureCollection", "features": features}
        try:
            import orjson

            path.write_bytes(orjson.dumps(document))
        except ImportError:
            path.write_text(json.dumps(document))
        print(f"wrote {path.name} ({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - started:.1f} s")
    return path


def bench_slide(path: Path, tiles_per_band: int) -> list[str]:
    lines = []
    with open_slide(path) as source:
        grid = zoom_grid(source)
        for band, zooms in zoom_bands(grid).items():
            reads, encodes, sizes, cpu = [], [], [], []
            for z, t_x, t_y in sample_tiles(grid, zooms, tiles_per_band, seed=len(band)):
                started, cpu_started = time.perf_counter(), time.process_time()
                image = render_tile_image(source, z, t_x, t_y)
                read, cpu_read = time.perf_counter(), time.process_time()
                data = encode_image(image, "jpeg", 80)
                done = time.perf_counter()
                reads.append((read - started) * 1000)
                cpu.append((cpu_read - cpu_started) * 1000)
                encodes.append((done - read) * 1000)
                sizes.append(len(data))
            lines.append(row(f"slide read {band}", reads, f"cpu p50 {statistics.median(cpu):.2f} ms"))
            lines.append(row(f"slide JPEG encode {band}", encodes, f"{statistics.fmean(sizes) / 1024:.1f} KiB/tile"))
        index = RawTileIndex.build(path)
        for band, zooms in zoom_bands(grid).items():
            raw_reads = []
            for tile in sample_tiles(grid, zooms, tiles_per_band, seed=len(band)):
                started = time.perf_counter()
                ref = plan_raw_tile(index, grid, source.level_dimensions, tile)
                if ref is not None:
                    index.read(ref)
                    raw_reads.append((time.perf_counter() - started) * 1000)
            if raw_reads:
                lines.append(row(f"raw tile read {band}", raw_reads, f"{len(raw_reads)}/{tiles_per_band} stored"))
    return lines


async def bench_service(path: Path, count: int, workers: int) -> list[str]:
    lines = []
    with TileService(workers=workers, mode="process") as service:
        await service.warm_up()
        info = await service.info(path)
        grid = ZoomGrid(info.width, info.height)
        tiles = sample_tiles(grid, [grid.z_max, grid.z_max - 1, grid.z_max - 2], count, seed=7)
        tiles = list(dict.fromkeys(tiles))
        for label in ("uncached", "cached"):
            latencies: list[float] = []

            async def one(tile: tuple[int, int, int], latencies: list[float] = latencies) -> None:
                started = time.perf_counter()
                await service.get_tile(path, *tile)
                latencies.append((time.perf_counter() - started) * 1000)

            started = time.perf_counter()
            # 8 requests in flight, like a browser's parallel tile loads.
            for i in range(0, len(tiles), 8):
                await asyncio.gather(*(one(t) for t in tiles[i : i + 8]))
            elapsed = time.perf_counter() - started
            lines.append(
                row(
                    f"TileService {workers} procs, {label}, 8 in flight",
                    latencies,
                    f"{len(tiles) / elapsed:.0f} tiles/s",
                )
            )
        sources = service.tile_sources()
        lines.append(
            f"(TileService: {sources['passthrough']} tiles passed through as stored, {sources['rendered']} rendered)"
        )
    return lines


def bench_overlay(path: Path, slide_size: tuple[int, int], tiles_per_band: int) -> list[str]:
    lines = []
    started, cpu_started = time.perf_counter(), time.process_time()
    features = read_geojson(path)
    parsed, cpu_parsed = time.perf_counter(), time.process_time()
    overlay = VectorOverlay(features, path)
    built, cpu_built = time.perf_counter(), time.process_time()
    lines.append(
        row("cells: parse GeoJSON (wall)", [(parsed - started) * 1000], f"cpu {cpu_parsed - cpu_started:.1f} s")
    )
    lines.append(row("cells: build index (wall)", [(built - parsed) * 1000], f"cpu {cpu_built - cpu_parsed:.1f} s"))
    lines.append(row("cells: load total (wall)", [(built - started) * 1000], f"{features.count} features"))
    grid = ZoomGrid(*slide_size)
    style = OverlayStyle()
    # Tiles over the cells (the middle half of the slide), where the work is.
    rng = np.random.default_rng(3)
    for band, zooms in zoom_bands(grid).items():
        renders, encodes, cpu = [], [], []
        for i in range(tiles_per_band):
            z = zooms[i % len(zooms)]
            columns, rows = grid.tile_count(z)
            t_x = int(rng.integers(columns // 4, max(columns // 4 + 1, 3 * columns // 4)))
            t_y = int(rng.integers(rows // 4, max(rows // 4 + 1, 3 * rows // 4)))
            region = grid.tile(z, t_x, t_y)
            start, cpu_start = time.perf_counter(), time.process_time()
            image = overlay.render(region, None, style)
            mid, cpu_mid = time.perf_counter(), time.process_time()
            encode_image(image, "png")
            end = time.perf_counter()
            renders.append((mid - start) * 1000)
            cpu.append((cpu_mid - cpu_start) * 1000)
            encodes.append((end - mid) * 1000)
        lines.append(row(f"overlay render {band}", renders, f"cpu p50 {statistics.median(cpu):.2f} ms"))
        lines.append(row(f"overlay PNG encode {band}", encodes))
    lookups = []
    for _ in range(200):
        x = float(rng.uniform(slide_size[0] / 4, 3 * slide_size[0] / 4))
        y = float(rng.uniform(slide_size[1] / 4, 3 * slide_size[1] / 4))
        start = time.perf_counter()
        overlay.features_at(x, y, radius=10)
        lookups.append((time.perf_counter() - start) * 1000)
    lines.append(row("overlay features_at (radius 10 px)", lookups))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="40000x30000", help="slide size WxH in pixels")
    parser.add_argument("--cells", type=int, default=500_000)
    parser.add_argument("--tiles", type=int, default=100, help="tiles per zoom band")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "aignostics-bench")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.lower().split("x"))
    args.workdir.mkdir(parents=True, exist_ok=True)
    slide = ensure_slide(args.workdir, width, height)
    cells = ensure_cells(args.workdir, args.cells, width, height)
    lines = [HEADER]
    lines += bench_slide(slide, args.tiles)
    lines += asyncio.run(bench_service(slide, 4 * args.tiles, args.workers))
    lines += bench_overlay(cells, (width, height), args.tiles)
    print(f"\nslide {slide.name} ({width}x{height}), {args.cells} cells\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
