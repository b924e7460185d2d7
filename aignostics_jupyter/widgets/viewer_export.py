"""Figures from the slide viewer: a region of the slide with its overlays, a scale bar and a legend burned in.

Runs in the kernel on the files directly (no tile server): the slide is read with
:func:`~aignostics_jupyter.slides.open_slide`, overlays are drawn with the same overlay renderers the tile server
uses, so a figure shows what the viewer shows.

Example:
    >>> image = viewer.export_region(4096, 2048, 1024, 768, level=0)  # doctest: +SKIP
    >>> viewer.save_figure("figure.png")  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PIL import Image, ImageDraw, ImageFont

from aignostics_jupyter.exceptions import InvalidInputError
from aignostics_jupyter.slides import open_slide
from aignostics_jupyter.slides.models import SlideInfo
from aignostics_jupyter.slides.overlays import OverlayStyle, SlideGeometry
from aignostics_jupyter.slides.overlays.loader import open_overlay
from aignostics_jupyter.slides.tiling import TileRegion
from aignostics_jupyter.widgets.units import scale_bar

if TYPE_CHECKING:
    from aignostics_jupyter.widgets.slide_viewer import SlideViewer
    from aignostics_jupyter.widgets.viewer_overlays import OverlayLayer

__all__ = ["MAX_EXPORT_PIXELS", "burn_legend", "burn_scale_bar", "export_region", "save_view"]

MAX_EXPORT_PIXELS = 8192 * 8192
_MARGIN = 12


def _font(size: int) -> tuple[ImageFont.FreeTypeFont | ImageFont.ImageFont, bool]:
    """A font of ``size`` pixels, and whether it has the µ sign (Pillow's built-in font does not)."""
    try:
        return ImageFont.truetype("DejaVuSans.ttf", size), True
    except OSError:
        return ImageFont.load_default(size), False


def burn_scale_bar(image: Image.Image, um_per_px: float, *, unit_known: bool = True) -> Image.Image:
    """Draw a 1-2-5 scale bar (at most a fifth of the width) in the bottom-left corner, in place."""
    bar = scale_bar(um_per_px, max_px=max(20.0, image.width / 5))
    label = bar.label if unit_known else f"{bar.um:g} px"
    draw = ImageDraw.Draw(image)
    font, has_micro = _font(max(12, image.width // 60))
    label = label if has_micro else label.replace("µ", "u")
    text_box = draw.textbbox((0, 0), label, font=font)
    length = round(bar.px)
    height = max(4, image.width // 200)
    box = (
        _MARGIN,
        image.height - _MARGIN - height - (text_box[3] - text_box[1]) - 14,
        _MARGIN + max(length, text_box[2]) + 12,
        image.height - _MARGIN,
    )
    draw.rectangle(box, fill=(255, 255, 255))
    bar_top = box[3] - 6 - height
    draw.rectangle((box[0] + 6, bar_top, box[0] + 6 + length, bar_top + height), fill=(0, 0, 0))
    draw.text((box[0] + 6, box[1] + 4), label, fill=(0, 0, 0), font=font)
    return image


def burn_legend(image: Image.Image, entries: Sequence[tuple[str, tuple[int, int, int]]]) -> Image.Image:
    """Draw ``(class, colour)`` entries in the top-right corner, in place."""
    if not entries:
        return image
    draw = ImageDraw.Draw(image)
    font, _ = _font(max(12, image.width // 70))
    line = max(16, image.width // 50)
    width = max(draw.textbbox((0, 0), name, font=font)[2] for name, _ in entries) + line + 16
    left, top = image.width - width - _MARGIN, _MARGIN
    draw.rectangle((left, top, left + width, top + line * len(entries) + 8), fill=(255, 255, 255))
    for i, (name, color) in enumerate(entries):
        y = top + 4 + i * line
        draw.rectangle((left + 6, y + 2, left + line - 2, y + line - 4), fill=tuple(color), outline=(0, 0, 0))
        draw.text((left + line + 4, y), name, fill=(0, 0, 0), font=font)
    return image


def render_overlay(overlay: OverlayLayer, slide: SlideGeometry, region: TileRegion, style: OverlayStyle) -> Image.Image:
    """The overlay's RGBA image over ``region`` (``z_w`` x ``z_h`` pixels)."""
    source = open_overlay(overlay.ref.spec.model_copy(update={"path": str(overlay.path)}))
    try:
        image = source.render(region, slide, style)
    finally:
        source.close()
    return image.crop((0, 0, region.z_w, region.z_h))


def export_region(
    slide_path: Path,
    info: SlideInfo,
    region: tuple[int, int, int, int],
    level: int,
    overlays: Sequence[OverlayLayer] = (),
    *,
    annotate: bool = True,
) -> Image.Image:
    """Read a region, draw overlays (each at its layer opacity), then the scale bar and legend.

    Args:
        slide_path: The slide.
        info: Its description.
        region: ``(x, y, w, h)``: top-left in base pixels, size in pixels of ``level``.
        level: Pyramid level to read.
        overlays: The overlays to draw, bottom first.
        annotate: Burn in the scale bar and the overlays' legend.

    Raises:
        InvalidInputError: For a level out of range or an empty or oversized region.
    """
    x, y, w, h = region
    if not 0 <= level < info.level_count:
        raise InvalidInputError(f"Level {level} is outside 0-{info.level_count - 1}.")
    if w <= 0 or h <= 0 or w * h > MAX_EXPORT_PIXELS:
        raise InvalidInputError(f"A region of {w} x {h} pixels cannot be exported.")
    downsample = info.level_downsamples[level]
    with open_slide(slide_path) as source:
        image = source.read_region((x, y), level, (w, h)).convert("RGBA")
    mpp = (info.mpp_x, info.mpp_y or info.mpp_x) if info.mpp_x else None
    geometry = SlideGeometry(width=info.width, height=info.height, mpp=mpp)
    l0_w, l0_h = round(w * downsample), round(h * downsample)
    tile = TileRegion(0, 0, 0, downsample, x, y, l0_w, l0_h, w, h, max(w, h))
    legend: list[tuple[str, tuple[int, int, int]]] = []
    for overlay in overlays:
        drawn = render_overlay(overlay, geometry, tile, overlay.ref.style)
        opacity = float(overlay.layer.opacity)
        if opacity < 1:
            alpha = drawn.getchannel("A").point([round(a * opacity) for a in range(256)])
            drawn.putalpha(alpha)
        image.alpha_composite(drawn)
        legend += [entry for entry in overlay.legend() if entry not in legend]
    result = image.convert("RGB")
    if annotate:
        burn_scale_bar(result, (mpp[0] if mpp else 1.0) * downsample, unit_known=mpp is not None)
        burn_legend(result, legend)
    return result


def save_view(viewer: SlideViewer, path: Path, *, max_size: int = 2048, overlays: bool = True) -> Path:
    """Save what the viewer shows (its current bounds, read at a level that gives at most ``max_size`` pixels)."""
    view: dict[str, Any] = viewer.viewport
    mpp = viewer.mpp or (1.0, 1.0)
    if "x0_um" in view:
        x0, y0 = max(0.0, view["x0_um"] / mpp[0]), max(0.0, view["y0_um"] / mpp[1])
        x1, y1 = min(viewer.info.width, view["x1_um"] / mpp[0]), min(viewer.info.height, view["y1_um"] / mpp[1])
    else:
        x0, y0, x1, y1 = 0.0, 0.0, float(viewer.info.width), float(viewer.info.height)
    l0_w, l0_h = max(1.0, x1 - x0), max(1.0, y1 - y0)
    wanted = max(l0_w, l0_h) / max_size
    level = max((i for i, d in enumerate(viewer.info.level_downsamples) if d <= max(1.0, wanted)), default=0)
    downsample = viewer.info.level_downsamples[level]
    size = (max(1, round(l0_w / downsample)), max(1, round(l0_h / downsample)))
    image = viewer.export_region(round(x0), round(y0), *size, level=level, overlays=overlays)
    if max(image.size) > max_size:
        image.thumbnail((max_size, max_size), Image.Resampling.LANCZOS)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
    return path
