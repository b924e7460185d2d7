"""Colour deconvolution of H&E: optical density, then haematoxylin and eosin concentrations per pixel.

Uses Ruifrok & Johnston's stain vectors (as ``skimage.color.rgb2hed`` does) with a residual third vector,
in float32 and decimal optical density, so concentrations are directly comparable across slides.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["eosin", "eosin_at", "haematoxylin", "max_optical_density", "optical_density", "stain_concentrations"]

_H = np.array([0.65, 0.70, 0.29])
_E = np.array([0.07, 0.99, 0.11])
_R = np.cross(_H / np.linalg.norm(_H), _E / np.linalg.norm(_E))
_STAINS = np.stack([v / np.linalg.norm(v) for v in (_H, _E, _R)])
_UNMIX = np.linalg.inv(_STAINS).astype(np.float32)
_OD_LUT = (-np.log10((np.arange(256, dtype=np.float64) + 1.0) / 256.0)).astype(np.float32)
# Per channel: the channel's contribution to each stain, for every 8-bit value (deconvolution as 3 look-ups).
_H_LUT = [(_OD_LUT * _UNMIX[c, 0]).astype(np.float32) for c in range(3)]
_E_LUT = [(_OD_LUT * _UNMIX[c, 1]).astype(np.float32) for c in range(3)]


def optical_density(rgb: NDArray[np.uint8]) -> NDArray[np.float32]:
    """Decimal optical density ``-log10((I + 1) / 256)`` per channel, shape ``(..., 3)``."""
    od: NDArray[np.float32] = _OD_LUT[rgb]
    return od


def haematoxylin(rgb: NDArray[np.uint8]) -> NDArray[np.float32]:
    """Haematoxylin concentration of RGB pixels ``(..., 3)`` (faster than :func:`stain_concentrations`)."""
    result: NDArray[np.float32] = _H_LUT[0][rgb[..., 0]]
    result += _H_LUT[1][rgb[..., 1]]
    result += _H_LUT[2][rgb[..., 2]]
    return result


def eosin(rgb: NDArray[np.uint8]) -> NDArray[np.float32]:
    """Eosin concentration of RGB pixels ``(..., 3)``."""
    result: NDArray[np.float32] = _E_LUT[0][rgb[..., 0]]
    result += _E_LUT[1][rgb[..., 1]]
    result += _E_LUT[2][rgb[..., 2]]
    return result


def max_optical_density(rgb: NDArray[np.uint8]) -> NDArray[np.float32]:
    """The largest channel optical density per pixel (that of the darkest channel)."""
    result: NDArray[np.float32] = _OD_LUT[rgb.min(axis=-1)]
    return result


def eosin_at(rgb: NDArray[np.uint8], rows: NDArray[np.intp], cols: NDArray[np.intp]) -> NDArray[np.float32]:
    """Eosin concentration at selected pixels of an RGB image."""
    pixels = rgb[rows, cols]
    result: NDArray[np.float32] = _E_LUT[0][pixels[:, 0]] + _E_LUT[1][pixels[:, 1]] + _E_LUT[2][pixels[:, 2]]
    return result


def stain_concentrations(rgb: NDArray[np.uint8]) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Haematoxylin and eosin concentrations (optical density units) of RGB pixels.

    Args:
        rgb: uint8 ``(..., 3)``.

    Returns:
        ``(haematoxylin, eosin)``, each float32 of shape ``rgb.shape[:-1]``.
    """
    od = optical_density(rgb)
    haem = od @ _UNMIX[:, 0]
    eosin = od @ _UNMIX[:, 1]
    return haem.astype(np.float32, copy=False), eosin.astype(np.float32, copy=False)
