"""Throughput of the local he-tme analysis on a generated slide, beside plain tiled reading of the same slide.

Usage: ``python benchmarks/bench_analysis.py [--size 20000] [--dir DIR] [--app he-tme] [--version 1.3.0]``

Prints a table: seconds and megapixels per second (slide pixels / wall time) for
  * generating the slide (procedural rendering + JPEG pyramid),
  * the baseline: reading every base-level pixel through OpenSlide in 1024 px tiles,
  * the baseline restricted to tissue tiles (what the nucleus detection actually reads),
  * the analysis (all artifacts written),
and the analysis' accuracy against the slide's ground truth (nuclei recall/precision, tissue area error).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import openslide
from scipy.spatial import cKDTree

from aignostics_jupyter.emulator.apps import analyse
from aignostics_jupyter.emulator.apps.reader import open_analysis_slide
from aignostics_jupyter.emulator.apps.tissue import detect_tissue
from aignostics_jupyter.samples import generate_sample_slide

TILE = 1024


def read_all(path: Path, tiles: list[tuple[int, int]] | None = None) -> tuple[float, int]:
    """Read base-level tiles through OpenSlide; returns (seconds, pixels read)."""
    slide = openslide.OpenSlide(path)
    width, height = slide.dimensions
    if tiles is None:
        tiles = [(x, y) for y in range(0, height, TILE) for x in range(0, width, TILE)]
    started = time.perf_counter()
    pixels = 0
    for x, y in tiles:
        w, h = min(TILE, width - x), min(TILE, height - y)
        region = np.asarray(slide.read_region((x, y), 0, (w, h)))
        pixels += region.shape[0] * region.shape[1]
    elapsed = time.perf_counter() - started
    slide.close()
    return elapsed, pixels


def accuracy(truth_path: Path, cells_path: Path, mpp: float) -> tuple[float, float, int, int]:
    """Recall and precision of detected nuclei (greedy one-to-one within 4 µm)."""
    truth = np.array(
        [f["geometry"]["coordinates"] for f in json.loads(truth_path.read_text())["features"]], dtype=np.float64
    )
    found = np.array(
        [
            np.asarray(f["geometry"]["coordinates"][0], dtype=np.float64)[:-1].mean(axis=0)
            for f in json.loads(cells_path.read_text())["features"]
        ]
    )
    distance, index = cKDTree(found).query(truth)
    used: set[int] = set()
    matched = 0
    for i in np.argsort(distance):
        if distance[i] < 4.0 / mpp and int(index[i]) not in used:
            used.add(int(index[i]))
            matched += 1
    return matched / len(truth), matched / len(found), len(truth), len(found)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=20000)
    parser.add_argument("--mpp", type=float, default=0.25)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--dir", type=Path, default=None, help="keep the slide and outputs here")
    parser.add_argument("--app", default="he-tme")
    parser.add_argument("--version", default="1.3.0")
    args = parser.parse_args(argv)
    workdir = args.dir or Path(tempfile.mkdtemp(prefix="bench-analysis-"))
    workdir.mkdir(parents=True, exist_ok=True)
    megapixels = args.size * args.size / 1e6
    rows: list[tuple[str, float, float]] = []

    slide_path = workdir / f"bench-{args.size}.svs"
    started = time.perf_counter()
    sample = generate_sample_slide(
        slide_path,
        size=args.size,
        seed=args.seed,
        mpp=args.mpp,
        progress=lambda f: print(f"\rgenerating {f:6.1%}", end="", file=sys.stderr, flush=True),
    )
    print(file=sys.stderr)
    rows.append(("generate slide (render + JPEG pyramid)", time.perf_counter() - started, megapixels))

    seconds, pixels = read_all(slide_path)
    rows.append(("baseline: read all base tiles (OpenSlide)", seconds, pixels / 1e6))

    slide = open_analysis_slide(slide_path, {"resolution_mpp": args.mpp}, workdir)
    tissue = detect_tissue(slide)
    slide.close()
    tissue_tiles = [
        (x, y)
        for y in range(0, args.size, TILE)
        for x in range(0, args.size, TILE)
        if tissue.any_in(x, y, min(x + TILE, args.size), min(y + TILE, args.size))
    ]
    seconds, pixels = read_all(slide_path, tissue_tiles)
    rows.append((f"baseline: read tissue tiles only ({len(tissue_tiles)})", seconds, pixels / 1e6))

    out_dir = workdir / "out"
    started = time.perf_counter()
    artifacts = analyse(
        args.app,
        args.version,
        slide_path,
        {"resolution_mpp": args.mpp},
        out_dir,
        progress=lambda f: print(f"\ranalysing {f:6.1%}", end="", file=sys.stderr, flush=True),
    )
    print(file=sys.stderr)
    analysis_seconds = time.perf_counter() - started
    rows.append((f"analysis: {args.app} {args.version} (all artifacts)", analysis_seconds, megapixels))

    print(
        f"\nslide {args.size}x{args.size} px @ {args.mpp} µm/px = {megapixels:.0f} MP, tissue {tissue.area_mm2:.1f} mm²"
    )
    print(f"{'stage':<48} {'seconds':>9} {'MP':>8} {'MP/s':>8}")
    for name, secs, mp in rows:
        print(f"{name:<48} {secs:9.1f} {mp:8.0f} {mp / secs:8.1f}")

    by_name = {a.name: a for a in artifacts}
    if "cell_classification:geojson_polygons" in by_name:
        recall, precision, n_truth, n_found = accuracy(
            sample.nuclei_geojson, by_name["cell_classification:geojson_polygons"].path, args.mpp
        )
        print(f"\nnuclei: truth {n_truth}, found {n_found}, recall {recall:.3f}, precision {precision:.3f}")
    error = (tissue.area_mm2 - sample.tissue_area_mm2) / sample.tissue_area_mm2
    print(f"tissue area: truth {sample.tissue_area_mm2:.3f} mm², measured {tissue.area_mm2:.3f} mm² ({error:+.1%})")
    print(f"files in {workdir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
