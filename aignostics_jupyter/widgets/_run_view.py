"""Open a slide in the SlideViewer, with one run item's outputs downloaded and overlaid.

The viewer lives in :mod:`aignostics_jupyter.widgets.slide_viewer`; it is imported only when a slide is opened, so
the run widgets work (and say so) where the viewer cannot be loaded.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aignostics_jupyter.exceptions import AignosticsError, NotFoundError

if TYPE_CHECKING:
    from aignostics_jupyter.client import Client
    from aignostics_jupyter.client.models import ItemResultReadResponse

__all__ = ["ViewerUnavailableError", "download_item", "open_viewer"]


class ViewerUnavailableError(AignosticsError):
    """The slide viewer could not be loaded in this kernel."""


def _viewer_class() -> Any:
    try:
        module = importlib.import_module("aignostics_jupyter.widgets.slide_viewer")
    except ImportError as exc:
        msg = f"The slide viewer is not available in this kernel ({exc})"
        raise ViewerUnavailableError(msg) from exc
    return module.SlideViewer


def _find_item(client: Client, run_id: str, path: Path) -> ItemResultReadResponse:
    wanted = {str(path), str(path.resolve()), path.name}
    items = list(client.runs.items(run_id, nocache=True))
    for item in items:
        if item.external_id in wanted or Path(item.external_id).name == path.name:
            return item
    msg = f"The run {run_id} has no item for {path.name}"
    raise NotFoundError(msg)


def download_item(client: Client, run_id: str, item: ItemResultReadResponse, dest: str | Path) -> Path:
    """Download one item's outputs into ``{dest}/{run_id}/…``; return the run's folder."""
    wanted = {str(a.output_artifact_id) for a in item.output_artifacts}
    result = client.run(run_id).download(dest, artifact_filter=lambda a: str(a.output_artifact_id) in wanted)
    return result.folder


def open_viewer(
    path: str | Path,
    *,
    run_id: str | None = None,
    client: Client | None = None,
    item: ItemResultReadResponse | None = None,
    dest: str | Path = "aignostics-results",
) -> Any:
    """Open ``path`` in a SlideViewer; with ``run_id``, download that slide's outputs and overlay them.

    Args:
        path: The slide file.
        run_id: A run whose item for this slide gives the overlays.
        client: The client (needed with ``run_id``).
        item: The run's item (default: found by the slide's path or name).
        dest: Where results are downloaded.

    Returns:
        The SlideViewer.

    Raises:
        ViewerUnavailableError: When the viewer cannot be loaded.
        NotFoundError: When the slide, or the run's item for it, does not exist.
    """
    viewer_class = _viewer_class()
    slide = Path(path).expanduser()
    if not slide.exists():
        msg = f"The slide {slide} is not on this machine, so it cannot be shown"
        raise NotFoundError(msg)
    viewer = viewer_class(slide)
    if run_id is not None:
        if client is None:
            from aignostics_jupyter.widgets._platform import platform_client

            client = platform_client()
        found = item or _find_item(client, run_id, slide)
        folder = download_item(client, run_id, found, dest)
        try:
            viewer.add_results(folder, item=found.external_id)
        except FileNotFoundError as exc:
            raise NotFoundError(str(exc)) from exc
    return viewer
