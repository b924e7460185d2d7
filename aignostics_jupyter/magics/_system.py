"""``%aignostics system health|info``: component health in one table; the settings with secrets masked.

Health covers the platform (public and authenticated), the server extension and the slide stack.

The server extension is found through the Jupyter runtime files of running servers (``jpserver-*.json``), and
asked for ``{base_url}aignostics-jupyter/api/health`` with that server's token, which is never shown.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
from pathlib import Path
from typing import Any

import httpx

from aignostics_jupyter.exceptions import AignosticsError
from aignostics_jupyter.magics._results import ResultDict, ResultList
from aignostics_jupyter.settings import get_settings
from aignostics_jupyter.widgets._platform import error_text, platform_client
from aignostics_jupyter.widgets._platform_html import badge

__all__ = ["health", "info", "running_servers", "slide_stack"]

_PROBE_TIMEOUT = 3.0


def slide_stack() -> dict[str, Any]:
    """Whether the native slide libraries load, with their versions."""
    try:
        import openslide
        import pydicom
    except (ImportError, OSError) as exc:
        return {"status": "error", "detail": f"the slide libraries could not be loaded: {exc}"}
    detail = f"OpenSlide {openslide.__library_version__}, openslide-python {openslide.__version__}, "
    return {"status": "ok", "detail": detail + f"pydicom {pydicom.__version__}"}


def running_servers() -> list[dict[str, Any]]:
    """The Jupyter servers running on this machine (from their runtime files), live ones only."""
    from jupyter_core.paths import jupyter_runtime_dir

    found = []
    for path in sorted(Path(jupyter_runtime_dir()).glob("jpserver-*.json")):
        with contextlib.suppress(OSError, ValueError):
            data = json.loads(path.read_text(encoding="utf-8"))
            pid = int(data.get("pid", 0))
            if pid:
                os.kill(pid, 0)
            found.append(data)
    return found


def _server_extension() -> dict[str, Any]:
    servers = running_servers()
    if not servers:
        return {"status": "not found", "detail": "no running Jupyter server was found for this kernel"}
    cwd = Path.cwd().resolve()
    servers.sort(key=lambda s: not cwd.is_relative_to(Path(s.get("root_dir") or "/").resolve()))
    server = servers[0]
    url = f"{str(server.get('url', '')).rstrip('/')}/aignostics-jupyter/api/health"
    headers = {"Authorization": f"token {server['token']}"} if server.get("token") else {}
    try:
        response = httpx.get(url, headers=headers, timeout=_PROBE_TIMEOUT)
    except httpx.HTTPError as exc:
        return {"status": "unreachable", "detail": f"{type(exc).__name__} reaching the Jupyter server"}
    if response.status_code != 200:
        return {"status": "error", "detail": f"the extension's health route answered HTTP {response.status_code}"}
    body = response.json()
    return {"status": str(body.get("status", "ok")), "detail": f"aignostics-jupyter {body.get('version', '')}"}


def _platform() -> list[dict[str, Any]]:
    settings = get_settings()
    client = platform_client()
    public = client.health()
    rows = [
        {
            "component": "platform",
            "status": "ok" if public else "unreachable",
            "detail": f"{settings.api_root}{' (local platform)' if settings.is_local else ''}",
        }
    ]
    auth = client.auth
    if not public:
        status, detail = "unknown", "the platform does not answer"
    elif auth is not None and not auth.has_credentials():
        status, detail = "not logged in", "%aignostics login"
    else:
        try:
            me = client.me(nocache=True)
            status, detail = "ok", f"logged in as {me.user.email or me.user.id}"
        except AignosticsError as exc:
            status, detail = "error", error_text(exc)
    rows.append({"component": "platform (authenticated)", "status": status, "detail": detail})
    return rows


def health(args: argparse.Namespace, cell: str | None = None) -> ResultList[dict[str, Any]]:
    """One table: the platform (public and authenticated), the server extension and the slide stack."""
    rows = [
        *_platform(),
        {"component": "server extension", **_server_extension()},
        {"component": "slides", **slide_stack()},
    ]
    return ResultList(
        rows, ["component", "status", "detail"], lambda r: [r["component"], badge(r["status"]), r["detail"]], raw=[1]
    )


def info(args: argparse.Namespace, cell: str | None = None) -> ResultDict:
    """The effective settings, secrets masked."""
    return ResultDict(get_settings(reload=True).masked_dump(), title="Effective settings (secrets masked)")
