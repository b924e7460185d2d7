"""Where the tissue of a sample slide lies: islands of tissue and, inside them, tumour, necrosis and lymphoid zones.

Every outline is a star-shaped blob: a radius that varies with the angle as a short Fourier series. Whether a
point is inside is a closed-form test, so any region of a 64k x 64k slide is classified without rasterising the
whole slide, and the same outline is exported as a ground-truth polygon.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum

import numpy as np
from numpy.typing import NDArray

__all__ = ["Blob", "Region", "SlideLayout", "make_layout"]


class Region(IntEnum):
    """Tissue region codes, in the order zones override each other."""

    BACKGROUND = 0
    STROMA = 1
    LYMPHOID = 2
    TUMOR = 3
    NECROSIS = 4


@dataclass(frozen=True)
class Blob:
    """A star-shaped outline: ``r(θ) = radius · (1 + Σ amp_k · cos(k·θ + phase_k))`` for ``k = 2, 3, …``.

    Coordinates are base-level pixels.
    """

    l0_cx: float
    l0_cy: float
    l0_radius: float
    amps: tuple[float, ...]
    phases: tuple[float, ...]

    @property
    def l0_reach(self) -> float:
        """An upper bound of the outline's distance from the centre."""
        return self.l0_radius * (1.0 + sum(abs(a) for a in self.amps))

    def bbox(self) -> tuple[float, float, float, float]:
        """``(x0, y0, x1, y1)`` bounding the outline."""
        r = self.l0_reach
        return self.l0_cx - r, self.l0_cy - r, self.l0_cx + r, self.l0_cy + r

    def intersects(self, x0: float, y0: float, x1: float, y1: float) -> bool:
        """Whether the bounding box meets the rectangle ``[x0, x1) x [y0, y1)``."""
        bx0, by0, bx1, by1 = self.bbox()
        return bx0 < x1 and bx1 > x0 and by0 < y1 and by1 > y0

    def radius_at(self, theta: NDArray[np.floating]) -> NDArray[np.float32]:
        """The outline's radius at the given angles."""
        r = np.ones_like(theta, dtype=np.float32)
        for k, (amp, phase) in enumerate(zip(self.amps, self.phases, strict=True), start=2):
            r += np.float32(amp) * np.cos(k * theta + phase).astype(np.float32)
        return r * np.float32(self.l0_radius)

    def depth(self, l0_x: NDArray[np.floating], l0_y: NDArray[np.floating]) -> NDArray[np.float32]:
        """Radial distance inside the outline (negative outside), in base pixels; inputs broadcast."""
        dx = (l0_x - self.l0_cx).astype(np.float32)
        dy = (l0_y - self.l0_cy).astype(np.float32)
        depth: NDArray[np.float32] = self.radius_at(np.arctan2(dy, dx)) - np.hypot(dx, dy)
        return depth

    def polygon(self, vertices: int = 360) -> NDArray[np.float64]:
        """The outline as a closed ring ``(vertices + 1, 2)`` of base-pixel ``(x, y)``, counter-clockwise."""
        theta = np.linspace(0.0, 2 * math.pi, vertices, endpoint=False)
        r = self.radius_at(theta).astype(np.float64)
        ring = np.stack([self.l0_cx + r * np.cos(theta), self.l0_cy + r * np.sin(theta)], axis=1)
        return np.vstack([ring, ring[:1]])


@dataclass(frozen=True)
class SlideLayout:
    """All outlines of one sample slide."""

    width: int
    height: int
    mpp: float
    islands: tuple[Blob, ...]
    zones: tuple[tuple[Region, Blob], ...]
    folds: tuple[Blob, ...] = ()
    """Tissue folds: the section lies double there (a QC artifact); only their parts inside islands count."""

    def fold_coverage(
        self, l0_x: NDArray[np.floating], l0_y: NDArray[np.floating], l0_edge: float = 1.0
    ) -> NDArray[np.float32] | None:
        """How much of each point lies in a fold (anti-aliased), or None when no fold is near the points."""
        x0, x1 = float(np.min(l0_x)) - l0_edge, float(np.max(l0_x)) + 1 + l0_edge
        y0, y1 = float(np.min(l0_y)) - l0_edge, float(np.max(l0_y)) + 1 + l0_edge
        result: NDArray[np.float32] | None = None
        for fold in self.folds:
            if fold.intersects(x0, y0, x1, y1):
                inside = np.clip(fold.depth(l0_x, l0_y) / np.float32(l0_edge) + 0.5, 0, 1)
                result = inside if result is None else np.maximum(result, inside)
        return result

    def regions(
        self, l0_x: NDArray[np.floating], l0_y: NDArray[np.floating], l0_edge: float = 1.0
    ) -> tuple[NDArray[np.int8], NDArray[np.float32]]:
        """Region codes and tissue coverage at points (``l0_x`` and ``l0_y`` broadcast together).

        Args:
            l0_x: Base-level x.
            l0_y: Base-level y.
            l0_edge: Width of the soft tissue edge in base pixels (a pixel's footprint).

        Returns:
            ``(codes, coverage)``: :class:`Region` codes (BACKGROUND outside tissue) and tissue coverage in
            ``[0, 1]`` (anti-aliased at island edges).
        """
        shape = np.broadcast_shapes(np.shape(l0_x), np.shape(l0_y))
        x0, x1 = float(np.min(l0_x)), float(np.max(l0_x)) + 1
        y0, y1 = float(np.min(l0_y)), float(np.max(l0_y)) + 1
        coverage = np.zeros(shape, dtype=np.float32)
        codes = np.zeros(shape, dtype=np.int8)
        inside_any = np.zeros(shape, dtype=bool)
        for island in self.islands:
            if island.intersects(x0 - l0_edge, y0 - l0_edge, x1 + l0_edge, y1 + l0_edge):
                depth = island.depth(l0_x, l0_y)
                np.maximum(coverage, np.clip(depth / np.float32(l0_edge) + 0.5, 0, 1), out=coverage)
                inside_any |= depth > 0
        if not inside_any.any():
            return codes, coverage
        codes[inside_any] = Region.STROMA
        for region, zone in self.zones:
            if zone.intersects(x0, y0, x1, y1):
                codes[(zone.depth(l0_x, l0_y) > 0) & inside_any] = region
        return codes, coverage

    def tissue_area_px(self) -> float:
        """Exact-enough tissue area in base pixels² (islands never overlap)."""
        total = 0.0
        for island in self.islands:
            ring = island.polygon(2048)
            x, y = ring[:, 0], ring[:, 1]
            total += 0.5 * abs(float(np.dot(x[:-1], y[1:]) - np.dot(x[1:], y[:-1])))
        return total


def _blob(rng: np.random.Generator, cx: float, cy: float, radius: float, *, roughness: float, harmonics: int) -> Blob:
    amps = [float(rng.uniform(0.3, 1.0)) * roughness / k**0.9 for k in range(2, 2 + harmonics)]
    total = sum(amps)
    if total > 0.55:
        amps = [a * 0.55 / total for a in amps]
    phases = [float(rng.uniform(0, 2 * math.pi)) for _ in amps]
    return Blob(cx, cy, radius, tuple(amps), tuple(phases))


def make_layout(width: int, height: int, mpp: float, seed: int) -> SlideLayout:
    """Draw a slide's tissue islands and zones from its seed.

    Args:
        width: Base width in pixels.
        height: Base height in pixels.
        mpp: Microns per base pixel.
        seed: Any integer; equal seeds give equal layouts.

    Returns:
        The layout: 2-4 non-overlapping islands, each with tumour zones (some with necrosis) and lymphoid
        aggregates, and on most slides one tissue fold.
    """
    rng = np.random.default_rng([seed, width, height])
    short = min(width, height)
    islands: list[Blob] = []
    wanted = int(rng.integers(2, 5))
    for attempt in range(3000):
        if len(islands) == wanted:
            break
        shrink = 0.9 ** (attempt // 150)  # crowded slide: try smaller islands
        low, high = (0.11, 0.18) if islands else (0.18, 0.22)
        radius = short * float(rng.uniform(low, high)) * shrink
        blob = _blob(rng, 0.0, 0.0, radius, roughness=0.5, harmonics=6)
        reach = blob.l0_reach
        margin = reach + 0.02 * short
        if width <= 2 * margin or height <= 2 * margin:
            continue
        cx = float(rng.uniform(margin, width - margin))
        cy = float(rng.uniform(margin, height - margin))
        if all(math.hypot(cx - o.l0_cx, cy - o.l0_cy) > reach + o.l0_reach + 0.02 * short for o in islands):
            islands.append(Blob(cx, cy, blob.l0_radius, blob.amps, blob.phases))
    zones: list[tuple[Region, Blob]] = []
    um = 1.0 / mpp
    for island in islands:
        for _ in range(int(rng.integers(3, 7))):
            angle = rng.uniform(0, 2 * math.pi)
            dist = island.l0_radius * float(rng.uniform(0.0, 0.7))
            radius = min(float(rng.uniform(40, 160)) * um, 0.15 * island.l0_radius)
            zones.append(
                (
                    Region.LYMPHOID,
                    _blob(
                        rng,
                        island.l0_cx + dist * math.cos(angle),
                        island.l0_cy + dist * math.sin(angle),
                        radius,
                        roughness=0.4,
                        harmonics=4,
                    ),
                )
            )
        for _ in range(int(rng.integers(1, 3))):
            angle = rng.uniform(0, 2 * math.pi)
            dist = island.l0_radius * float(rng.uniform(0.0, 0.45))
            radius = island.l0_radius * float(rng.uniform(0.3, 0.55))
            cx, cy = island.l0_cx + dist * math.cos(angle), island.l0_cy + dist * math.sin(angle)
            zones.append((Region.TUMOR, _blob(rng, cx, cy, radius, roughness=0.6, harmonics=6)))
            if rng.uniform() < 0.6:
                zones.append(
                    (
                        Region.NECROSIS,
                        _blob(rng, cx, cy, radius * float(rng.uniform(0.25, 0.45)), roughness=0.5, harmonics=4),
                    )
                )
    order = {Region.LYMPHOID: 0, Region.TUMOR: 1, Region.NECROSIS: 2}
    zones.sort(key=lambda z: order[z[0]])
    return SlideLayout(width, height, mpp, tuple(islands), tuple(zones), _folds(islands, seed, width, height))


def _folds(islands: list[Blob], seed: int, width: int, height: int) -> tuple[Blob, ...]:
    """Most slides get one elongated fold near the edge of their largest island (own random stream)."""
    rng = np.random.default_rng([seed, width, height, 1])
    if not islands or rng.uniform() >= 0.7:
        return ()
    island = max(islands, key=lambda blob: blob.l0_radius)
    angle = float(rng.uniform(0, 2 * math.pi))
    dist = island.l0_radius * float(rng.uniform(0.75, 0.9))
    amps = (0.45, 0.0, 0.06, 0.03)
    phases = (2 * float(rng.uniform(0, math.pi)), 0.0, float(rng.uniform(0, 2 * math.pi)), float(rng.uniform(0, 6.28)))
    radius = island.l0_radius * float(rng.uniform(0.22, 0.3))
    return (Blob(island.l0_cx + dist * math.cos(angle), island.l0_cy + dist * math.sin(angle), radius, amps, phases),)
