"""How a kernel finds the tile server for a slide, without configuration.

Tiles are fetched by the **browser**, so the viewer uses root-relative URLs under the Jupyter server's base URL
(``/user/demo/aignostics-jupyter/slides/...``), which the browser's login cookie authenticates. The kernel needs
two facts for that: the server's base URL and its root directory (slide paths are relative to it). In order:

1. ``AIGNOSTICS_TILE_SERVER_URL``: a base URL to use as it is (root: the discovered server's, else the cwd);
2. the running Jupyter servers (the ``jpserver-*.json`` files ``list_running_servers()`` reads): the kernel's
   parent process first, else the server with the deepest root directory containing the slide; its base URL is
   ``JUPYTERHUB_SERVICE_PREFIX`` on a hub, else the server's own;
3. otherwise, or when that server does not run this extension, or the slide lies outside its root: the
   kernel-side :class:`~aignostics_jupyter.server.loopback.LoopbackTileServer` (started once per kernel).

The kernel itself also calls the tile server (overlay registration, feature queries on click); for that the
:class:`TileEndpoint` keeps an absolute URL and a credential, which never leave the kernel.

Example:
    >>> endpoint, relative = find_endpoint(Path("slides/case-1.svs"))  # doctest: +SKIP
    >>> endpoint.prefix, relative  # doctest: +SKIP
    ('/user/demo/', 'slides/case-1.svs')
"""

from __future__ import annotations

import http.client
import json
import os
import threading
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx

from aignostics_jupyter.exceptions import AignosticsError, error_for_status
from aignostics_jupyter.server.paths import relative_to_root
from aignostics_jupyter.server.urls import namespace_url
from aignostics_jupyter.settings import get_settings

__all__ = ["TileEndpoint", "find_endpoint", "loopback_endpoint", "running_servers"]

EndpointKind = Literal["server", "loopback", "configured"]
_PROBE_TIMEOUT = 3.0
_lock = threading.Lock()
_loopback: Any = None
_probed: dict[str, bool] = {}


@dataclass(frozen=True)
class TileEndpoint:
    """Where a viewer's tiles come from.

    Attributes:
        prefix: What tile URLs start with, for the browser (``/user/demo/`` or the loopback prefix).
        root: The directory slide paths are relative to.
        kind: ``server`` (the Jupyter server extension), ``loopback`` or ``configured``.
        api_url: Absolute prefix the kernel calls (``http://127.0.0.1:8888/user/demo/``), when known.
        token: The kernel's credential for ``api_url`` (never put in a widget trait).
    """

    prefix: str
    root: Path
    kind: EndpointKind
    api_url: str | None = None
    token: str | None = field(default=None, repr=False)

    def relative(self, path: Path) -> str | None:
        """``path`` relative to :attr:`root`, or None when it lies outside."""
        return relative_to_root(self.root, path)

    def request(self, method: str, path: str, *, body: Any = None, params: Mapping[str, Any] | None = None) -> Any:
        """Call the tile server from the kernel and decode its JSON answer.

        Args:
            method: ``GET`` or ``POST``.
            path: Below ``aignostics-jupyter/``, e.g. ``overlays/ov1.../features``.
            body: The request body (sent as JSON).
            params: Query arguments.

        Raises:
            AignosticsError: When the kernel cannot reach it, or it answers with an error.
        """
        if self.api_url is None:
            msg = "The kernel has no URL to reach the tile server."
            raise AignosticsError(msg)
        headers = {"Authorization": f"token {self.token}"} if self.token else {}
        try:
            response = httpx.request(
                method, namespace_url(self.api_url) + path, json=body, params=params, headers=headers, timeout=60
            )
        except httpx.HTTPError as exc:
            msg = f"The tile server did not answer ({type(exc).__name__})."
            raise AignosticsError(msg) from exc
        if response.status_code >= 400:
            try:
                detail = response.json().get("error", {}).get("message")
            except ValueError:
                detail = None
            raise error_for_status(response.status_code, detail, context=f"{method} {path.split('?', 1)[0]}")
        return response.json()


def _alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    return True


def running_servers(runtime_dir: Path | None = None) -> list[dict[str, Any]]:
    """The info of every running Jupyter server of this user (empty when none can be listed).

    Reads the ``jpserver-*.json`` files that ``jupyter_server.serverapp.list_running_servers()`` reads, and keeps
    those whose process is alive, without importing ``jupyter_server.serverapp`` (two seconds in a kernel).
    """
    if runtime_dir is None:
        from jupyter_core.paths import jupyter_runtime_dir

        runtime_dir = Path(jupyter_runtime_dir())
    servers = []
    for file in sorted(runtime_dir.glob("jpserver-*.json")) if runtime_dir.is_dir() else []:
        try:
            info = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError):  # being written, or not ours
            continue
        if isinstance(info, dict) and _alive(info.get("pid")):
            servers.append(info)
    return servers


def _choose_server(servers: Iterable[Mapping[str, Any]], slide: Path) -> Mapping[str, Any] | None:
    parent = os.getppid()
    candidates = []
    for info in servers:
        root = info.get("root_dir") or info.get("notebook_dir")
        if not root:
            continue
        inside = relative_to_root(Path(root), slide) is not None
        if info.get("pid") == parent:
            return info if inside else None
        if inside:
            candidates.append((len(Path(root).resolve().parts), info))
    return max(candidates, key=lambda pair: pair[0])[1] if candidates else None


def _has_extension(api_url: str, token: str | None) -> bool:
    """Whether the server at ``api_url`` runs this extension; cached per URL.

    Asks ``slides/info`` without a path: the extension answers 422 (or 403 without a usable token) at once, a
    server without it 404. (The health route would be slower: it probes the platform.)
    """
    with _lock:
        if api_url in _probed:
            return _probed[api_url]
    headers = {"Authorization": f"token {token}"} if token else {}
    try:
        status = _probe_status(namespace_url(api_url) + "slides/info", headers)
        # Without a usable token the server refuses (403) but the route exists; only 404 means no extension.
        found = status != 404
    except (OSError, http.client.HTTPException, httpx.HTTPError):
        found = False
    with _lock:
        _probed[api_url] = found
    return found


def _probe_status(url: str, headers: dict[str, str]) -> int:
    """The status code of ``GET url``.

    Plain HTTP (the usual local server) goes through the standard library: this probe runs while the kernel's first
    viewer is being built, and httpx's first request there costs 0.1-0.4 s (importing httpcore, h11 and anyio, and
    loading a certificate store that plain HTTP never uses). HTTPS keeps httpx and its certificate checks. Both honour
    the ``*_proxy`` environment variables.

    Raises:
        OSError: (urllib's ``URLError``, timeouts) when the server cannot be reached.
        http.client.HTTPException: When the answer is not HTTP.
        httpx.HTTPError: The same for HTTPS.
    """
    if url.startswith("http://"):
        request = urllib.request.Request(url, headers=headers)  # noqa: S310 - the scheme is checked above
        try:
            with _PLAIN_HTTP.open(request, timeout=_PROBE_TIMEOUT) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:  # an answer with an error status (or a redirect) is an answer
            error.close()
            return int(error.code)
    return httpx.get(url, headers=headers, timeout=_PROBE_TIMEOUT).status_code


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Answer a redirect as it is (as httpx does by default): the probe wants the route's own status."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_PLAIN_HTTP = urllib.request.build_opener(_NoRedirects)


def loopback_endpoint() -> TileEndpoint:
    """The kernel's own fallback tile server (started on first use, then shared)."""
    global _loopback  # noqa: PLW0603 - one fallback server per kernel is the point
    from aignostics_jupyter.server.loopback import LoopbackTileServer

    with _lock:
        if _loopback is None or not _loopback.running:
            _loopback = LoopbackTileServer().start()
        server = _loopback
    return TileEndpoint(prefix=server.prefix, root=server.root, kind="loopback", api_url=server.prefix)


def find_endpoint(slide: Path, *, probe: bool = True) -> tuple[TileEndpoint, str]:
    """The tile server to use for ``slide``, and the slide's path relative to its root.

    Args:
        slide: The slide (absolute, or relative to the kernel's cwd).
        probe: Check that a discovered server runs this extension (one request, cached).

    Returns:
        ``(endpoint, relative_path)``.
    """
    slide = Path(slide).resolve()
    configured = get_settings().tile_server_url
    server = _choose_server(running_servers(), slide)
    hub_prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX")
    if server is not None:
        root = Path(server.get("root_dir") or server.get("notebook_dir") or ".").resolve()
        token = server.get("token") or os.environ.get("JUPYTERHUB_API_TOKEN") or None
        api_url = str(server.get("url") or "") or None
        if configured:
            endpoint = TileEndpoint(configured, root, "configured", api_url, token)
        else:
            endpoint = TileEndpoint(hub_prefix or server.get("base_url") or "/", root, "server", api_url, token)
        relative = endpoint.relative(slide)
        if relative is not None and (configured or not probe or api_url is None or _has_extension(api_url, token)):
            return endpoint, relative
    elif configured:
        endpoint = TileEndpoint(configured, Path.cwd().resolve(), "configured")
        relative = endpoint.relative(slide)
        if relative is not None:
            return endpoint, relative
    endpoint = loopback_endpoint()
    relative = endpoint.relative(slide)
    if relative is None:  # pragma: no cover - the loopback root is "/"
        msg = f"{slide.name} cannot be served."
        raise AignosticsError(msg)
    return endpoint, relative
