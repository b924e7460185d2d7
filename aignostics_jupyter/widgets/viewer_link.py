"""Keep slide viewers in step: the same physical position and scale, even when their mpp differ.

Example:
    >>> left, right = SlideViewer("he.svs"), SlideViewer("ihc.svs")  # doctest: +SKIP
    >>> unlink = link_viewers(left, right)  # doctest: +SKIP
    >>> ipywidgets.HBox([left, right])  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aignostics_jupyter.widgets.units import zoom_for_um_per_px

if TYPE_CHECKING:
    from aignostics_jupyter.widgets.slide_viewer import SlideViewer

__all__ = ["link_viewers"]

_ZOOM_STEP = 0.25
_SAME_UM = 1e-3  # a nanometre: closer than that is the same place


def _follow(source: SlideViewer, target: SlideViewer) -> None:
    view = source.viewport
    if "x_um" not in view:
        return
    um_per_px = float(view["um_per_px"])
    zoom = zoom_for_um_per_px(um_per_px, target.mpp[0] if target.mpp else 1.0, target.z_max)
    zoom = round(zoom / _ZOOM_STEP) * _ZOOM_STEP
    current = target.viewport
    same_place = all(abs(current.get(k, -1.0) - view[k]) < _SAME_UM for k in ("x_um", "y_um"))
    if same_place and abs(current.get("zoom", -1.0) - zoom) < 1e-9:
        return  # already there: stops the echo between linked viewers
    target.goto(view["x_um"], view["y_um"], zoom)


def link_viewers(*viewers: SlideViewer) -> Callable[[], None]:
    """Make every viewer follow the others' position (in µm) and scale (µm per screen pixel).

    Fractional zoom steps of 0.25 are allowed on the followers so that slides scanned at different resolutions
    show the same physical scale.

    Args:
        *viewers: Two or more viewers.

    Returns:
        A function that undoes the link.

    Raises:
        ValueError: With fewer than two viewers.
    """
    if len(viewers) < 2:
        msg = "Link at least two viewers."
        raise ValueError(msg)
    handlers: list[tuple[SlideViewer, Callable[[dict[str, Any]], None]]] = []
    for viewer in viewers:
        viewer.map.zoom_snap = _ZOOM_STEP

        def follow(change: dict[str, Any], source: SlideViewer = viewer) -> None:
            for other in viewers:
                if other is not source:
                    _follow(source, other)

        viewer.observe(follow, names="viewport")
        handlers.append((viewer, follow))
    for other in viewers[1:]:
        _follow(viewers[0], other)

    def unlink() -> None:
        for viewer, handler in handlers:
            viewer.unobserve(handler, names="viewport")

    return unlink
