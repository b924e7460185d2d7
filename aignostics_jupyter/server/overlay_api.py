"""Overlay operations of the tile server: register, describe, tiles and feature queries.

An overlay is addressed by a stateless id (:func:`~aignostics_jupyter.server.urls.encode_overlay_id`) that encodes
the slide path, the overlay file's path and interpretation
(:class:`~aignostics_jupyter.slides.overlays.loader.OverlaySpec`) and the style. Both paths are confined to the root
on **every** request, so an id crafted by hand reaches nothing a plain path could not. Registering
(``POST overlays``) validates, builds the overlay's spatial index in a worker and answers the legend; tiles and
queries also work for an id that was never registered (after a server restart). The browser never receives the
features themselves, only tiles and the few features under a click.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from aignostics_jupyter.exceptions import InvalidInputError
from aignostics_jupyter.server.tile_messages import ApiReply, etag_matches
from aignostics_jupyter.server.urls import OverlayRef, decode_overlay_id
from aignostics_jupyter.slides.overlays.loader import OverlaySpec
from aignostics_jupyter.slides.overlays.models import OverlayStyle

if TYPE_CHECKING:
    from aignostics_jupyter.server.slides_api import SlidesAPI

__all__ = ["MAX_QUERY_RADIUS", "OverlayAPI"]

MAX_QUERY_RADIUS = 4096.0  # base pixels: a click tolerance, not a region query
_OVERLAY_FORMATS = ("png", "webp")


class OverlayAPI:
    """Overlay operations on top of a :class:`~aignostics_jupyter.server.slides_api.SlidesAPI`.

    The API provides path confinement and the tile service.
    """

    def __init__(self, api: SlidesAPI) -> None:
        self.api = api

    def _resolve(self, ref: OverlayRef) -> tuple[Path, OverlaySpec]:
        """The confined slide path and the spec with its confined absolute overlay path."""
        slide = self.api.confine(ref.slide)
        overlay = self.api.confine(ref.spec.path)
        return slide, ref.spec.model_copy(update={"path": str(overlay)})

    @staticmethod
    def parse_registration(body: dict[str, Any]) -> OverlayRef:
        """The :class:`OverlayRef` of a ``POST overlays`` body.

        The body is ``{"slide": "<path>", "overlay": {"path": "<path>", "kind"?, "class_colors"?, "class_names"?,
        "mpp"?}, "style": {...}}``; ``"path": "<path>"`` may stand in for ``overlay``.

        Raises:
            InvalidInputError: When a field is missing or malformed.
        """
        slide = body.get("slide")
        overlay = body.get("overlay", {"path": body.get("path")})
        style = body.get("style") or {}
        if not isinstance(slide, str) or not isinstance(overlay, dict) or not isinstance(style, dict):
            msg = 'The body needs "slide" (a path), "overlay" ({"path": ...}) and optionally "style" (an object).'
            raise InvalidInputError(msg)
        try:
            return OverlayRef(slide, OverlaySpec.model_validate(overlay), OverlayStyle.model_validate(style))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise InvalidInputError(f"The overlay registration is invalid: {where}: {first['msg']}.") from exc

    async def register(self, body: dict[str, Any]) -> dict[str, Any]:
        """Validate an overlay, build its index and answer its description (with its id)."""
        return await self._describe(self.parse_registration(body))

    async def describe(self, overlay_id: str) -> dict[str, Any]:
        """The description of the overlay an id names."""
        return await self._describe(decode_overlay_id(overlay_id))

    async def _describe(self, ref: OverlayRef) -> dict[str, Any]:
        slide, spec = self._resolve(ref)
        info = await self.api.tiles.overlay_info(slide, spec)
        overlay_id = ref.id
        return {
            **info.model_dump(mode="json"),
            "path": ref.spec.path,  # relative, as given: the root directory is never disclosed
            "id": overlay_id,
            "slide": ref.slide,
            "tiles": f"overlays/{overlay_id}/tiles/{{z}}/{{x}}/{{y}}.png",
            "features": f"overlays/{overlay_id}/features",
        }

    async def tile(self, overlay_id: str, tile: tuple[int, int, int], fmt: str, if_none_match: str | None) -> ApiReply:
        """One overlay tile (PNG or WebP, with alpha); 304 when ``If-None-Match`` names its ETag."""
        if fmt not in _OVERLAY_FORMATS:
            raise InvalidInputError(f"Overlay tiles are PNG or WebP (they need transparency), not {fmt}.")
        ref = decode_overlay_id(overlay_id)
        slide, spec = self._resolve(ref)
        z, t_x, t_y = tile
        image = await self.api.tiles.overlay_tile(slide, z, t_x, t_y, overlay=spec, style=ref.style, fmt=fmt)
        if etag_matches(if_none_match, image.etag):
            return ApiReply.not_modified(image.etag)
        return ApiReply.of_image(image)

    async def features(self, overlay_id: str, point: tuple[float, float], radius: float) -> dict[str, Any]:
        """What the overlay holds at ``point`` (base pixels): features within ``radius``, or the raster's class."""
        if not 0 <= radius <= MAX_QUERY_RADIUS:
            raise InvalidInputError(f"The radius must be between 0 and {MAX_QUERY_RADIUS:g} base pixels.")
        ref = decode_overlay_id(overlay_id)
        slide, spec = self._resolve(ref)
        hits = await self.api.tiles.overlay_query(slide, spec, point[0], point[1], radius=radius)
        return hits.model_dump(mode="json")
