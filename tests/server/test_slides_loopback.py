"""The kernel-side fallback tile server (token in the URL, loopback only) and how a kernel finds its tile server."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from aignostics_jupyter.exceptions import AignosticsError, NotFoundError
from aignostics_jupyter.server import discovery
from aignostics_jupyter.server.discovery import TileEndpoint, _choose_server, find_endpoint
from aignostics_jupyter.server.loopback import LoopbackTileServer
from aignostics_jupyter.server.urls import slide_tile_url
from aignostics_jupyter.settings import reset_settings
from aignostics_jupyter.slides.service import TileService
from aignostics_jupyter.slides.writers import write_test_pattern_slide

pytestmark = pytest.mark.timeout(30)


@pytest.fixture(scope="module")
def slide_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_test_pattern_slide(tmp_path_factory.mktemp("lb") / "x.svs", 700, 500, "svs", 0.25, smallest_level=300)


@pytest.fixture
def root(tmp_path: Path, slide_file: Path) -> Path:
    (tmp_path / "root" / "slides").mkdir(parents=True)
    shutil.copyfile(slide_file, tmp_path / "root" / "slides" / "x.svs")
    (tmp_path / "secret.txt").write_text("TOP-SECRET")
    return tmp_path / "root"


@pytest.fixture
def server(root: Path) -> Iterator[LoopbackTileServer]:
    with TileService(mode="thread", workers=1) as tiles:
        server = LoopbackTileServer(root, tiles).start()
        try:
            yield server
        finally:
            server.stop()


def _tile(prefix: str, path: str = "slides/x.svs") -> str:
    return slide_tile_url(prefix, path).format(z=0, x=0, y=0)


@pytest.mark.integration
def test_serves_tiles_and_info_behind_its_token(server: LoopbackTileServer) -> None:
    tile = httpx.get(_tile(server.prefix))
    info = httpx.get(f"{server.prefix}aignostics-jupyter/slides/info", params={"path": "slides/x.svs"})

    assert server.prefix.startswith("http://127.0.0.1:")
    assert tile.status_code == 200
    assert tile.headers["content-type"] == "image/jpeg"
    assert tile.content.startswith(b"\xff\xd8")
    assert httpx.get(_tile(server.prefix), headers={"If-None-Match": tile.headers["etag"]}).status_code == 304
    assert info.json()["width"] == 700


@pytest.mark.integration
@pytest.mark.parametrize("token", ["wrong", "", "%2e%2e"])
def test_refuses_a_wrong_token_without_bytes(server: LoopbackTileServer, token: str) -> None:
    response = httpx.get(_tile(f"http://127.0.0.1:{server.port}/{token}/"))

    assert response.status_code in (403, 404)
    assert not response.content.startswith(b"\xff\xd8")


@pytest.mark.integration
@pytest.mark.parametrize("path", ["../secret.txt", "/etc/passwd", "slides/../../secret.txt", "..%2fsecret.txt"])
def test_confines_paths_to_its_root(server: LoopbackTileServer, path: str) -> None:
    response = httpx.get(f"{server.prefix}aignostics-jupyter/slides/info?path={path}")

    assert response.status_code == 403
    assert b"TOP-SECRET" not in response.content
    assert response.json()["error"]["type"] == "PermissionDeniedError"


@pytest.mark.integration
def test_unknown_routes_and_errors_are_json(server: LoopbackTileServer) -> None:
    unknown = httpx.get(f"{server.prefix}aignostics-jupyter/nothing")
    out_of_range = httpx.get(slide_tile_url(server.prefix, "slides/x.svs").format(z=9, x=0, y=0))

    assert unknown.status_code == 404
    assert unknown.json()["error"]["type"] == "HTTPError"
    assert out_of_range.status_code == 404
    assert out_of_range.json()["error"]["type"] == "TileOutOfRangeError"


@pytest.mark.integration
def test_kernel_side_requests_through_an_endpoint(server: LoopbackTileServer) -> None:
    endpoint = TileEndpoint(prefix=server.prefix, root=server.root, kind="loopback", api_url=server.prefix)

    info = endpoint.request("GET", "slides/info", params={"path": "slides/x.svs"})

    assert info["mpp_x"] == 0.25
    with pytest.raises(NotFoundError):
        endpoint.request("GET", "slides/info", params={"path": "slides/none.svs"})


@pytest.mark.integration
def test_stop_closes_the_port(root: Path) -> None:
    server = LoopbackTileServer(root, mode="thread").start()
    prefix = server.prefix

    server.stop()

    assert not server.running
    with pytest.raises(httpx.ConnectError):
        httpx.get(_tile(prefix), timeout=2)


@pytest.mark.unit
def test_choose_server_prefers_the_kernels_parent(tmp_path: Path) -> None:
    slide = tmp_path / "a" / "b" / "x.svs"
    servers = [
        {"pid": -1, "root_dir": str(tmp_path / "a"), "base_url": "/deep/"},
        {"pid": -2, "root_dir": str(tmp_path), "base_url": "/shallow/"},
        {"pid": -3, "root_dir": str(tmp_path / "other"), "base_url": "/other/"},
    ]

    assert _choose_server(servers, slide)["base_url"] == "/deep/"  # the deepest root containing the slide
    parent = {"pid": os.getppid(), "root_dir": str(tmp_path), "base_url": "/parent/"}
    assert _choose_server([*servers, parent], slide)["base_url"] == "/parent/"
    assert _choose_server([{**parent, "root_dir": str(tmp_path / "other")}], slide) is None
    assert _choose_server([], slide) is None


@pytest.mark.integration
def test_find_endpoint_uses_a_running_server_and_the_hub_prefix(
    tmp_path: Path, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    info = {"pid": os.getppid(), "root_dir": str(root), "base_url": "/", "url": "http://127.0.0.1:9/", "token": "t0k"}
    monkeypatch.setattr(discovery, "running_servers", lambda: [info])
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/demo/")

    endpoint, relative = find_endpoint(root / "slides" / "x.svs", probe=False)

    assert (endpoint.kind, endpoint.prefix, relative) == ("server", "/user/demo/", "slides/x.svs")
    assert endpoint.token == "t0k"
    assert "t0k" not in repr(endpoint)


@pytest.mark.integration
def test_find_endpoint_honours_the_configured_url(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(discovery, "running_servers", list)
    monkeypatch.setenv("AIGNOSTICS_TILE_SERVER_URL", "/user/other/")
    monkeypatch.chdir(root)
    reset_settings()

    endpoint, relative = find_endpoint(Path("slides/x.svs"))

    assert (endpoint.kind, endpoint.prefix, relative) == ("configured", "/user/other/", "slides/x.svs")


@pytest.mark.integration
def test_find_endpoint_falls_back_to_the_kernels_loopback_server(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(discovery, "running_servers", list)
    try:
        endpoint, relative = find_endpoint(root / "slides" / "x.svs")
        again, _ = find_endpoint(root / "slides" / "x.svs")
        tile = httpx.get(_tile(endpoint.prefix, relative))
    finally:
        if discovery._loopback is not None:
            discovery._loopback.stop()
            discovery._loopback = None

    assert endpoint.kind == "loopback"
    assert again.prefix == endpoint.prefix  # one server per kernel
    assert relative == str(root / "slides" / "x.svs").lstrip("/")
    assert tile.status_code == 200
    assert json.dumps(endpoint.prefix).count("127.0.0.1") == 1


@pytest.mark.integration
def test_extension_probe_tells_servers_with_and_without_it(server: LoopbackTileServer) -> None:
    discovery._probed.clear()
    try:
        with_it = discovery._has_extension(server.prefix, None)
        without_it = discovery._has_extension(f"http://127.0.0.1:{server.port}/", None)  # no route: plain 404
        unreachable = discovery._has_extension("http://127.0.0.1:9/", None)
    finally:
        discovery._probed.clear()

    assert (with_it, without_it, unreachable) == (True, False, False)


@pytest.mark.unit
def test_endpoint_request_errors_are_ours(root: Path) -> None:
    no_url = TileEndpoint(prefix="/", root=root, kind="server")
    unreachable = TileEndpoint(prefix="/", root=root, kind="server", api_url="http://127.0.0.1:9/", token="t")

    with pytest.raises(AignosticsError, match="no URL"):
        no_url.request("GET", "slides/info")
    with pytest.raises(AignosticsError, match="did not answer"):
        unreachable.request("GET", "slides/info")


@pytest.mark.unit
def test_running_servers_is_empty_in_a_fresh_home(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JUPYTER_RUNTIME_DIR", raising=False)

    assert discovery.running_servers() == []


@pytest.mark.unit
def test_running_servers_reads_live_server_files(tmp_path: Path) -> None:
    live = {"pid": os.getpid(), "root_dir": "/srv", "base_url": "/", "url": "http://127.0.0.1:8888/"}
    (tmp_path / "jpserver-1.json").write_text(json.dumps(live))
    (tmp_path / "jpserver-2.json").write_text(json.dumps({**live, "pid": 2**22 + 12345}))  # no such process
    (tmp_path / "jpserver-3.json").write_text("{half written")
    (tmp_path / "other.json").write_text(json.dumps(live))

    assert discovery.running_servers(tmp_path) == [live]
    assert discovery.running_servers(tmp_path / "missing") == []
