"""Slide paths are confined to the server's root: traversal attempts get a JSON 403/404, never file bytes."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from aignostics_jupyter.slides.writers import write_test_pattern_slide

SECRET = b"TOP-SECRET-CONTENT"

# Query values exactly as sent on the wire (already percent-encoded where the attack needs it).
RAW_VARIANTS = [
    "../outside.svs",
    "..%2Foutside.svs",
    "%2e%2e/outside.svs",
    "%2e%2e%2foutside.svs",
    "%252e%252e%252foutside.svs",
    "..%5coutside.svs",
    "..%5C..%5Coutside.svs",
    "slides/../../outside.svs",
    "slides%2F..%2F..%2Foutside.svs",
    "./../outside.svs",
    "....//outside.svs",
    "..;/outside.svs",
    "/etc/passwd",
    "%2Fetc%2Fpasswd",
    "//etc/passwd",
    "{outside_abs}",
    "~/outside.svs",
    "~root/.bashrc",
    "C:/Windows/win.ini",
    "C:%5CWindows%5Cwin.ini",
    "%5C%5Cserver%5Cshare%5Cslide.svs",
    "slides/case.svs%00.txt",
    "slides%00/case.svs",
    "link-out.svs",
    "linkdir/outside.svs",
    "slides/link-upup/outside.svs",
    "slides/link-up/../../outside.svs",
    ".hidden/secret.svs",
    "secret.txt%00",
    "%c0%ae%c0%ae/outside.svs",
    "%EF%BC%8E%EF%BC%8E/outside.svs",
    "slides/%2e%2e/%2e%2e/outside.svs",
    "",
]


@pytest.fixture(scope="module")
def slide_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_test_pattern_slide(tmp_path_factory.mktemp("s") / "x.svs", 600, 400, "svs", 0.5, smallest_level=300)


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    return {**jp_server_config, "AignosticsTileServer": {"mode": "thread", "workers": 1}}


@pytest.fixture
def layout(jp_root_dir: Path, slide_file: Path) -> Path:
    """A root with one slide, and outside it a slide and a secret file reachable only by escaping."""
    outside = jp_root_dir.parent
    shutil.copyfile(slide_file, outside / "outside.svs")
    (outside / "secret.txt").write_bytes(SECRET)
    (jp_root_dir / "slides").mkdir()
    shutil.copyfile(slide_file, jp_root_dir / "slides" / "case.svs")
    (jp_root_dir / "secret.txt").write_bytes(SECRET)
    (jp_root_dir / "link-out.svs").symlink_to(outside / "outside.svs")
    (jp_root_dir / "linkdir").symlink_to(outside, target_is_directory=True)
    (jp_root_dir / "slides" / "link-up").symlink_to("..", target_is_directory=True)
    (jp_root_dir / "slides" / "link-upup").symlink_to("../..", target_is_directory=True)
    (jp_root_dir / ".hidden").mkdir()
    shutil.copyfile(slide_file, jp_root_dir / ".hidden" / "secret.svs")
    return outside


async def _raw(http_server_client: Any, jp_base_url: str, jp_auth_header: dict[str, str], route: str, raw: str) -> Any:
    url = f"{jp_base_url}aignostics-jupyter/{route}?path={raw}"
    return await http_server_client.fetch(url, headers=jp_auth_header, raise_error=False)


@pytest.mark.integration
@pytest.mark.parametrize("route", ["slides/tiles/0/0/0.jpg", "slides/info", "slides/associated/label"])
@pytest.mark.parametrize("raw", RAW_VARIANTS)
async def test_traversal_is_refused_without_bytes(
    jp_serverapp: Any,
    http_server_client: Any,
    jp_base_url: str,
    jp_auth_header: dict[str, str],
    jp_root_dir: Path,
    layout: Path,
    route: str,
    raw: str,
) -> None:
    sent = raw.replace("{outside_abs}", quote(str(layout / "outside.svs"), safe=""))

    response = await _raw(http_server_client, jp_base_url, jp_auth_header, route, sent)

    assert response.code in (403, 404, 422), (raw, response.code)
    assert response.code != 422 or raw == "", raw
    body = response.body
    assert SECRET not in body
    assert not body.startswith(b"\xff\xd8")  # no JPEG
    assert json.loads(body)["error"]["message"]
    if "outside_abs" not in raw:
        assert str(jp_root_dir) not in body.decode()


@pytest.mark.integration
async def test_the_same_server_serves_the_confined_slide(
    jp_serverapp: Any, http_server_client: Any, jp_base_url: str, jp_auth_header: dict[str, str], layout: Path
) -> None:
    ok = await _raw(http_server_client, jp_base_url, jp_auth_header, "slides/tiles/0/0/0.jpg", "slides%2Fcase.svs")
    inside_link = await _raw(
        http_server_client, jp_base_url, jp_auth_header, "slides/info", "slides/link-up/slides/case.svs"
    )

    assert ok.code == 200
    assert ok.body.startswith(b"\xff\xd8")
    # A symlink that stays inside the root is followed.
    assert inside_link.code == 200


@pytest.mark.integration
@pytest.mark.parametrize(
    "path",
    [
        "slides/tiles/0/0/../../../../secret.txt",
        "slides/tiles/0/0/%2e%2e%2f%2e%2e%2fsecret.txt",
        "slides/%2e%2e/%2e%2e/secret.txt",
        "slides/tiles/0/0/0.jpg/..%2f..%2f..%2fsecret.txt",
    ],
)
async def test_traversal_in_the_url_path_gets_no_bytes(
    jp_serverapp: Any,
    http_server_client: Any,
    jp_base_url: str,
    jp_auth_header: dict[str, str],
    layout: Path,
    path: str,
) -> None:
    response = await http_server_client.fetch(
        f"{jp_base_url}aignostics-jupyter/{path}", headers=jp_auth_header, raise_error=False
    )

    assert response.code in (403, 404)
    assert SECRET not in response.body


@pytest.mark.integration
async def test_unauthenticated_tile_request_gets_no_bytes(
    jp_serverapp: Any, http_server_client: Any, jp_base_url: str, layout: Path
) -> None:
    response = await http_server_client.fetch(
        f"{jp_base_url}aignostics-jupyter/slides/tiles/0/0/0.jpg?path=slides%2Fcase.svs", raise_error=False
    )

    assert response.code == 403
    assert not response.body.startswith(b"\xff\xd8")
    assert os.path.exists(Path(jp_serverapp.root_dir) / "slides" / "case.svs")
