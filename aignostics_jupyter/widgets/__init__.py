"""Notebook widgets: login, application browser, run submitter and monitor, run browser, slide viewer.

Every widget is imported on first use (ipywidgets and ipyleaflet are heavy)::

    LoginWidget()                device-flow login: link and code, waits in the background, then user and org
    ApplicationBrowser()         applications, versions, changelogs, input schemas and output artifacts
    RunSubmitter()               the submission wizard: slides table validated against the schema, upload, submit
    RunMonitor(run_id)           live state, item progress, cancel, download, "View" per item
    RunBrowser()                 my runs, filterable and paginated
    SlideViewer(path)            deep-zoom viewer with overlays, scale bar, µm readout, ruler/area tools, export
    SlideGallery(paths)          thumbnails with name, size and mpp; "Open" shows one in a SlideViewer
    link_viewers(a, b, ...)      keep viewers at the same physical position and scale

Example:
    >>> from aignostics_jupyter.widgets import RunMonitor  # doctest: +SKIP
    >>> RunMonitor("2f1c…")  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "ApplicationBrowser",
    "LoginWidget",
    "RunBrowser",
    "RunMonitor",
    "RunSubmitter",
    "SlideGallery",
    "SlideViewer",
    "link_viewers",
]

_LAZY = {
    "ApplicationBrowser": "aignostics_jupyter.widgets.app_browser",
    "LoginWidget": "aignostics_jupyter.widgets.login",
    "RunBrowser": "aignostics_jupyter.widgets.run_browser",
    "RunMonitor": "aignostics_jupyter.widgets.run_monitor",
    "RunSubmitter": "aignostics_jupyter.widgets.run_submitter",
    "SlideGallery": "aignostics_jupyter.widgets.slide_gallery",
    "SlideViewer": "aignostics_jupyter.widgets.slide_viewer",
    "link_viewers": "aignostics_jupyter.widgets.viewer_link",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
