"""Counter-based random numbers and value noise, the same for any region asked for.

A sample slide is never held in memory: every pixel and every nucleus is computed from its integer
coordinates and the slide's seed. These helpers turn ``(i, j, salt)`` lattice coordinates into uniform
numbers (a splitmix64 hash, vectorised with numpy) and build smooth value noise from them, so a tile
rendered on its own equals the same pixels rendered as part of a bigger region.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["hash_uniform", "value_noise", "value_noise_at"]

_K1 = np.uint64(0x9E3779B97F4A7C15)
_K2 = np.uint64(0xC2B2AE3D27D4EB4F)
_K3 = np.uint64(0x165667B19E3779F9)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_TO_UNIT = 1.0 / float(1 << 53)


def _mix(h: NDArray[np.uint64]) -> NDArray[np.uint64]:
    h = h ^ (h >> _S30)
    h = h * _M1
    h = h ^ (h >> _S27)
    h = h * _M2
    return h ^ (h >> _S31)


def hash_uniform(i: NDArray[np.int64], j: NDArray[np.int64], salt: int) -> NDArray[np.float64]:
    """Uniform numbers in ``[0, 1)`` from integer lattice coordinates (broadcast together) and a salt.

    Args:
        i: First coordinate (e.g. row index), any integer array.
        j: Second coordinate, broadcastable with ``i``.
        salt: Distinguishes independent streams (seed and purpose combined).

    Returns:
        Float64 array of the broadcast shape; equal inputs always give equal outputs.
    """
    with np.errstate(over="ignore"):
        h = (
            np.asarray(i, dtype=np.int64).astype(np.uint64) * _K1
            + np.asarray(j, dtype=np.int64).astype(np.uint64) * _K2
            + np.uint64(salt & 0xFFFFFFFFFFFFFFFF) * _K3
        )
        h = _mix(_mix(h))
    return (h >> _S11).astype(np.float64) * _TO_UNIT


def _smooth(t: NDArray[np.float64]) -> NDArray[np.float64]:
    return t * t * (3.0 - 2.0 * t)


def value_noise(
    l0_x: NDArray[np.float64], l0_y: NDArray[np.float64], scale_x: float, scale_y: float, salt: int
) -> NDArray[np.float32]:
    """Smooth value noise in ``[0, 1]`` on the grid spanned by pixel-centre coordinates.

    Args:
        l0_x: Base-level x of each output column (1-D, increasing).
        l0_y: Base-level y of each output row (1-D, increasing).
        scale_x: Lattice spacing along x in base pixels.
        scale_y: Lattice spacing along y in base pixels.
        salt: Stream id.

    Returns:
        Float32 array ``(len(l0_y), len(l0_x))``.
    """
    gx = l0_x / scale_x
    gy = l0_y / scale_y
    ix = np.floor(gx).astype(np.int64)
    iy = np.floor(gy).astype(np.int64)
    fx = _smooth(gx - ix).astype(np.float32)
    fy = _smooth(gy - iy).astype(np.float32)
    x0, y0 = int(ix.min()), int(iy.min())
    lattice = hash_uniform(
        np.arange(y0, int(iy.max()) + 2, dtype=np.int64)[:, None],
        np.arange(x0, int(ix.max()) + 2, dtype=np.int64)[None, :],
        salt,
    ).astype(np.float32)
    cx, cy = ix - x0, iy - y0
    # Separable: interpolate every lattice row along x (few rows), then pick and blend rows along y.
    along_x = lattice[:, cx] * (1 - fx) + lattice[:, cx + 1] * fx
    fy_col = fy[:, None]
    result = along_x[cy] * (1 - fy_col) + along_x[cy + 1] * fy_col
    return result.astype(np.float32, copy=False)


def value_noise_at(
    l0_x: NDArray[np.float64], l0_y: NDArray[np.float64], scale: float, salt: int
) -> NDArray[np.float32]:
    """Smooth value noise in ``[0, 1]`` at scattered points (same lattice as :func:`value_noise`).

    Args:
        l0_x: Base-level x of each point.
        l0_y: Base-level y of each point (same shape).
        scale: Lattice spacing in base pixels (both axes).
        salt: Stream id.

    Returns:
        Float32 array of the points' shape.
    """
    gx, gy = l0_x / scale, l0_y / scale
    ix, iy = np.floor(gx).astype(np.int64), np.floor(gy).astype(np.int64)
    fx, fy = _smooth(gx - ix), _smooth(gy - iy)
    top = hash_uniform(iy, ix, salt) * (1 - fx) + hash_uniform(iy, ix + 1, salt) * fx
    bottom = hash_uniform(iy + 1, ix, salt) * (1 - fx) + hash_uniform(iy + 1, ix + 1, salt) * fx
    return (top * (1 - fy) + bottom * fy).astype(np.float32)
