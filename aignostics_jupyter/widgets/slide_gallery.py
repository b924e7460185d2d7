"""A gallery of slides: thumbnails with name, size and resolution; clicking one opens it in a viewer.

Thumbnails are images the browser loads from the tile server (no pixels pass through the kernel); the size and mpp
come from opening each slide in the kernel.

Example:
    >>> gallery = SlideGallery(sorted(Path("slides").glob("*.svs")))  # doctest: +SKIP
    >>> gallery  # doctest: +SKIP
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from aignostics_jupyter.exceptions import AignosticsError
from aignostics_jupyter.server.discovery import TileEndpoint, find_endpoint
from aignostics_jupyter.server.urls import slide_url
from aignostics_jupyter.slides import open_slide
from aignostics_jupyter.slides.renderer import slide_info
from aignostics_jupyter.widgets.units import format_length

__all__ = ["SlideGallery"]

_THUMBNAIL_PX = 160


def _card_html(url: str, name: str, lines: list[str]) -> str:
    details = "<br>".join(html.escape(line) for line in lines)
    return (
        f'<div style="font:12px sans-serif;width:{_THUMBNAIL_PX + 10}px">'
        f'<img alt="{html.escape(name)}" src="{html.escape(url)}" '
        f'style="max-width:{_THUMBNAIL_PX}px;max-height:{_THUMBNAIL_PX}px;display:block;margin:auto">'
        f"<b>{html.escape(name)}</b><br>{details}</div>"
    )


class SlideGallery(widgets.VBox):  # type: ignore[misc]
    """Thumbnails of slides; a click on "Open" shows the slide in a :class:`SlideViewer` below the gallery.

    Args:
        paths: The slides.
        endpoint: Where thumbnails come from, for every slide (default: discovered per slide).
        viewer_factory: Builds the viewer (default :class:`~aignostics_jupyter.widgets.slide_viewer.SlideViewer`).

    Attributes:
        cards: One entry per slide: ``path``, ``name``, ``width``, ``height``, ``mpp``, ``thumbnail`` URL or
            ``error``.
        viewer: The viewer of the slide opened last.
    """

    def __init__(
        self,
        paths: Iterable[str | Path],
        *,
        endpoint: TileEndpoint | None = None,
        viewer_factory: Callable[..., Any] | None = None,
    ) -> None:
        self.cards: list[dict[str, Any]] = []
        self.viewer: Any = None
        self._endpoint = endpoint
        self._factory = viewer_factory
        self.output = widgets.VBox([])
        boxes = [self._card(Path(p).resolve()) for p in paths]
        grid = widgets.GridBox(
            boxes, layout=widgets.Layout(grid_template_columns=f"repeat(auto-fill, {_THUMBNAIL_PX + 20}px)")
        )
        grid.add_class("aignostics-slide-gallery")
        super().__init__([grid, self.output])

    def _locate(self, path: Path) -> tuple[TileEndpoint, str]:
        if self._endpoint is not None:
            relative = self._endpoint.relative(path)
            if relative is not None:
                return self._endpoint, relative
        return find_endpoint(path)

    def _card(self, path: Path) -> widgets.Widget:
        index = len(self.cards)
        card: dict[str, Any] = {"path": path, "name": path.name}
        self.cards.append(card)
        try:
            with open_slide(path) as source:
                info = slide_info(source)
            endpoint, relative = self._locate(path)
        except AignosticsError as exc:
            card["error"] = exc.message
            name, message = html.escape(path.name), html.escape(exc.message)
            return widgets.HTML(f"<div style='width:{_THUMBNAIL_PX}px'><b>{name}</b><br>{message}</div>")
        card.update(width=info.width, height=info.height, mpp=info.mpp_x, endpoint=endpoint, relative=relative)
        card["thumbnail"] = slide_url(endpoint.prefix, "thumbnail", relative, size=_THUMBNAIL_PX, v=info.signature)
        lines = [f"{info.width:,} x {info.height:,} px"]
        if info.mpp_x:
            lines.append(f"{info.mpp_x:.3g} µm/px · {format_length(info.width * info.mpp_x)} wide")
        button = widgets.Button(description="Open", icon="search-plus", layout={"width": f"{_THUMBNAIL_PX}px"})
        button.on_click(lambda _: self.show(index))
        return widgets.VBox([widgets.HTML(_card_html(card["thumbnail"], path.name, lines)), button])

    def show(self, index: int) -> Any:
        """Open slide ``index`` in a viewer below the gallery and return the viewer."""
        card = self.cards[index]
        if "error" in card:
            raise AignosticsError(card["error"])
        if self._factory is None:
            from aignostics_jupyter.widgets.slide_viewer import SlideViewer

            self.viewer = SlideViewer(card["path"], endpoint=(card["endpoint"], card["relative"]))
        else:
            self.viewer = self._factory(card["path"])
        self.output.children = (self.viewer,)
        return self.viewer
