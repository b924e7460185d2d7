"""Generate sample whole slide images with ground truth, and the ``sample-slides`` command line.

Example:
    >>> slides = generate_sample_slides(Path("slides"), count=2, size=4096, fmt="svs", seed=7)  # doctest: +SKIP
    >>> slides[0].path.name, slides[0].nuclei_counts["tumor_cell"]  # doctest: +SKIP
    ('sample-7000.svs', 1234)

From a shell: ``aignostics-jupyter sample-slides DIR --count 3 --size 8192 --format tiff``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal, cast

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw
from pydantic import BaseModel

from aignostics_jupyter.checksums import crc32c_file
from aignostics_jupyter.samples.layout import make_layout
from aignostics_jupyter.samples.nuclei import NucleusGrid
from aignostics_jupyter.samples.render import SampleRenderer
from aignostics_jupyter.samples.truth import write_nuclei_geojson, write_tissue_geojson

__all__ = ["FORMATS", "SampleSlide", "generate_sample_slide", "generate_sample_slides", "main", "sample_renderer"]

FORMATS = ("svs", "tiff", "dicom")
SUFFIX = {"svs": ".svs", "tiff": ".tiff", "dicom": ""}
_MIN_SIZE, _MAX_SIZE = 512, 200_000
_PROGRESS_FROM_PX = 8192 * 8192  # slides this big print a progress line


class SampleSlide(BaseModel):
    """One generated slide and its ground truth."""

    path: Path
    """The file to open (for DICOM, the directory holding the series)."""
    format: str
    width: int
    height: int
    mpp: float
    seed: int
    tissue_geojson: Path
    """Tissue islands (class ``tissue``) and zones (tumor, necrosis, lymphoid_aggregate), base pixels."""
    nuclei_geojson: Path
    """One Point per nucleus with its class, base pixels."""
    tissue_area_mm2: float
    nuclei_counts: dict[str, int]
    checksum_base64_crc32c: str | None
    """CRC32C of the slide file (None for a DICOM directory)."""


def sample_renderer(width: int, height: int, mpp: float, seed: int) -> SampleRenderer:
    """The procedural renderer of a sample slide, without writing anything (e.g. to render regions in memory)."""
    return SampleRenderer(make_layout(width, height, mpp, seed), seed)


def _label_image(name: str, seed: int) -> NDArray[np.uint8]:
    image = Image.new("RGB", (400, 300), (250, 250, 245))
    draw = ImageDraw.Draw(image)
    draw.rectangle((10, 10, 390, 290), outline=(30, 30, 30), width=4)
    draw.text((30, 40), "AIGNOSTICS SAMPLE", fill=(0, 0, 0))
    draw.text((30, 90), name, fill=(0, 0, 0))
    draw.text((30, 140), f"seed {seed}  H&E", fill=(0, 0, 0))
    rng = np.random.default_rng(seed)
    bars = rng.integers(0, 2, size=60).astype(bool)
    for i, on in enumerate(bars):
        if on:
            draw.rectangle((30 + 5 * i, 200, 33 + 5 * i, 270), fill=(0, 0, 0))
    return np.asarray(image, dtype=np.uint8)


class _Progress:
    """Counts rendered pixels across pyramid levels and reports the fraction done."""

    def __init__(self, render: SampleRenderer, total_px: float, report: Callable[[float], None] | None) -> None:
        self.render, self.total, self.report = render, max(total_px, 1.0), report
        self.done = 0.0
        self.last = -1.0

    def __call__(self, downsample: float, l_x: int, l_y: int, l_w: int, l_h: int) -> NDArray[np.uint8]:
        pixels = self.render(downsample, l_x, l_y, l_w, l_h)
        self.done += l_w * l_h
        fraction = min(self.done / self.total, 1.0)
        if self.report is not None and fraction - self.last >= 0.01:
            self.last = fraction
            self.report(fraction)
        return pixels


def generate_sample_slide(
    path: Path,
    *,
    size: int = 4096,
    fmt: str = "svs",
    seed: int = 0,
    mpp: float = 0.25,
    height: int | None = None,
    progress: Callable[[float], None] | None = None,
) -> SampleSlide:
    """Write one sample slide at ``path`` and its ground truth beside it.

    Args:
        path: The slide file (``.svs``/``.tiff``) or, for ``dicom``, the directory to create.
        size: Base width in pixels (and height, unless ``height`` is given).
        fmt: ``svs``, ``tiff`` or ``dicom``.
        seed: Equal seeds give equal slides.
        mpp: Microns per base pixel.
        height: Base height in pixels, when it differs from ``size``.
        progress: Called with the fraction of pixels rendered so far.

    Returns:
        The slide and its ground truth.

    Raises:
        ValueError: On an unknown format or a size or mpp out of range.
    """
    from aignostics_jupyter.slides.writers import level_plan, write_slide

    width, height = size, height or size
    if fmt not in FORMATS:
        msg = f"Unknown slide format {fmt!r}; use one of {', '.join(FORMATS)}."
        raise ValueError(msg)
    if not (_MIN_SIZE <= width <= _MAX_SIZE and _MIN_SIZE <= height <= _MAX_SIZE):
        msg = f"Slide size {width}x{height} is out of range {_MIN_SIZE}..{_MAX_SIZE} px."
        raise ValueError(msg)
    if not 0.05 <= mpp <= 10:
        msg = f"mpp {mpp} is out of range 0.05..10 µm/px."
        raise ValueError(msg)
    layout = make_layout(width, height, mpp, seed)
    render = SampleRenderer(layout, seed)
    total = sum(w * h for _, w, h in level_plan(width, height)) * 1.02
    counting = _Progress(render, total, progress)
    stem = path.name.removesuffix(path.suffix) if fmt != "dicom" else path.name
    macro = render(
        max(width, height) / 512,
        0,
        0,
        max(1, width * 512 // max(width, height)),
        max(1, height * 512 // max(width, height)),
    )
    written = write_slide(
        path,
        width,
        height,
        counting,
        mpp=mpp,
        fmt=cast("Literal['svs', 'tiff', 'dicom']", fmt),
        label=_label_image(stem, seed),
        macro=macro,
    )
    tissue = write_tissue_geojson(path.with_name(f"{stem}.tissue.geojson"), layout)
    nuclei_path = path.with_name(f"{stem}.nuclei.geojson")
    counts = write_nuclei_geojson(nuclei_path, NucleusGrid(layout, seed))
    if progress is not None:
        progress(1.0)
    return SampleSlide(
        path=written,
        format=fmt,
        width=width,
        height=height,
        mpp=mpp,
        seed=seed,
        tissue_geojson=tissue,
        nuclei_geojson=nuclei_path,
        tissue_area_mm2=layout.tissue_area_px() * (mpp / 1000.0) ** 2,
        nuclei_counts=counts,
        checksum_base64_crc32c=crc32c_file(written) if written.is_file() else None,
    )


def generate_sample_slides(
    dest: Path,
    *,
    count: int = 3,
    size: int = 4096,
    fmt: str = "svs",
    seed: int = 0,
    mpp: float = 0.25,
    progress: Callable[[int, float], None] | None = None,
) -> list[SampleSlide]:
    """Write ``count`` different sample slides (``sample-<n>.<ext>``) with ground truth into ``dest``.

    Args:
        dest: Target directory (created).
        count: How many slides.
        size: Width and height of each slide in base pixels.
        fmt: ``svs`` (Aperio), ``tiff`` (generic pyramidal TIFF) or ``dicom`` (a directory per slide).
        seed: Base seed; slide ``i`` uses seed ``seed * 1000 + i``.
        mpp: Microns per base pixel.
        progress: Called with ``(slide index, fraction of that slide done)``.

    Returns:
        The slides written, in order.
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    slides = []
    for index in range(count):
        slide_seed = seed * 1000 + index
        path = dest / f"sample-{slide_seed:04d}{SUFFIX.get(fmt, '')}"

        def report(fraction: float, index: int = index) -> None:
            if progress is not None:
                progress(index, fraction)

        slides.append(generate_sample_slide(path, size=size, fmt=fmt, seed=slide_seed, mpp=mpp, progress=report))
    return slides


def main(argv: list[str] | None = None) -> int:
    """The ``sample-slides DIR [--count N] [--size PX] [--format svs|tiff|dicom] [--seed S] [--mpp M]`` command.

    Returns:
        The exit status: 0 on success, 2 on bad arguments.
    """
    parser = argparse.ArgumentParser(
        prog="aignostics-jupyter sample-slides",
        description="Write procedural H&E sample slides with ground-truth GeoJSON.",
    )
    parser.add_argument("dir", type=Path, help="target directory")
    parser.add_argument("--count", type=int, default=3, help="number of slides (default 3)")
    parser.add_argument("--size", type=int, default=4096, help="width and height in pixels (default 4096)")
    parser.add_argument("--format", choices=FORMATS, default="svs", help="slide format (default svs)")
    parser.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    parser.add_argument("--mpp", type=float, default=0.25, help="microns per pixel (default 0.25)")
    args = parser.parse_args(argv)
    if args.count < 1:
        parser.error("--count must be at least 1")
    show = args.size * args.size >= _PROGRESS_FROM_PX
    started = time.monotonic()

    def report(index: int, fraction: float) -> None:
        if show:
            elapsed = time.monotonic() - started
            sys.stderr.write(f"\rslide {index + 1}/{args.count}: {fraction:6.1%}  ({elapsed:.0f} s)")
            if fraction >= 1.0:
                sys.stderr.write("\n")
            sys.stderr.flush()

    try:
        slides = generate_sample_slides(
            args.dir, count=args.count, size=args.size, fmt=args.format, seed=args.seed, mpp=args.mpp, progress=report
        )
    except ValueError as exc:
        sys.stderr.write(f"sample-slides: {exc}\n")
        return 2
    for slide in slides:
        counts = ", ".join(f"{k} {v}" for k, v in slide.nuclei_counts.items())
        sys.stdout.write(
            f"{slide.path}  {slide.width}x{slide.height} px @ {slide.mpp} µm/px, "
            f"tissue {slide.tissue_area_mm2:.2f} mm², nuclei: {counts}\n"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
