"""Image encoding for tiles: JPEG for slides (no alpha, fast), PNG or WebP where transparency is needed."""

from __future__ import annotations

import io
from typing import Literal

from PIL import Image

from aignostics_jupyter.exceptions import InvalidInputError

__all__ = ["MEDIA_TYPES", "ImageFormat", "encode_image", "parse_format"]

ImageFormat = Literal["jpeg", "png", "webp"]

MEDIA_TYPES: dict[str, str] = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
_ALIASES = {"jpg": "jpeg", "jpeg": "jpeg", "png": "png", "webp": "webp"}


def parse_format(name: str) -> ImageFormat:
    """Normalise a format name or file extension (``jpg``, ``JPEG``, ``png``, ``webp``).

    Raises:
        InvalidInputError: For any other format.
    """
    fmt = _ALIASES.get(name.lower().lstrip("."))
    if fmt is None:
        msg = f"Image format {name!r} is not supported; use jpeg, png or webp."
        raise InvalidInputError(msg)
    return fmt  # type: ignore[return-value]


def encode_image(image: Image.Image, fmt: ImageFormat = "jpeg", quality: int = 80) -> bytes:
    """Encode an image for the browser.

    JPEG drops any alpha (slides are opaque). PNG uses a low compression level, because level 6 costs
    about 20 ms per 256 px tile and the tiles are cached anyway. WebP keeps alpha and uses ``quality``
    (100 means lossless).

    Args:
        image: RGB or RGBA image.
        fmt: ``jpeg``, ``png`` or ``webp``.
        quality: JPEG/WebP quality, 1-100.

    Returns:
        The encoded bytes.
    """
    if not 1 <= quality <= 100:
        msg = f"Quality must be between 1 and 100, not {quality}."
        raise InvalidInputError(msg)
    out = io.BytesIO()
    if fmt == "jpeg":
        rgb = image if image.mode == "RGB" else image.convert("RGB")
        rgb.save(out, "JPEG", quality=quality)
    elif fmt == "png":
        image.save(out, "PNG", compress_level=1)
    elif fmt == "webp":
        image.save(out, "WEBP", quality=quality, lossless=quality == 100, method=0)
    else:
        msg = f"Image format {fmt!r} is not supported; use jpeg, png or webp."
        raise InvalidInputError(msg)
    return out.getvalue()
