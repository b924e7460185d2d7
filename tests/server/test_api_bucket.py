"""``api/bucket…``: browse, upload a workspace file, download into the workspace, sign, delete; path confinement."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server.test_api_support import body, call, jp_server_config, logged_in, platform, platform_env

__all__ = ["jp_server_config", "logged_in", "platform", "platform_env"]

pytestmark = pytest.mark.timeout(60)


@pytest.mark.integration
async def test_upload_browse_download_sign_delete(jp_fetch: Any, jp_root_dir: Path, logged_in: Any) -> None:
    (jp_root_dir / "data").mkdir()
    (jp_root_dir / "data" / "notes.csv").write_text("a,b\n1,2\n")

    uploaded = await call(jp_fetch, "bucket/upload", "POST", {"path": "data/notes.csv", "prefix": "sidebar/csv"})
    assert uploaded.code == 201
    assert body(uploaded)["key"] == "sidebar/csv/notes.csv"
    assert body(uploaded)["size"] == 8

    top = body(await call(jp_fetch, "bucket", prefix=""))
    assert top["bucket"]
    assert {"prefix": "sidebar/", "name": "sidebar", "objects": 1, "size": 8} in top["folders"]
    inner = body(await call(jp_fetch, "bucket", prefix="sidebar/csv"))
    assert inner["prefix"] == "sidebar/csv/"
    (entry,) = inner["objects"]
    assert entry["name"] == "notes.csv"
    assert entry["size"] == 8
    assert entry["last_modified"]

    downloaded = await call(jp_fetch, "bucket/download", "POST", {"key": "sidebar/csv/notes.csv", "folder": "back"})
    assert downloaded.code == 200
    assert body(downloaded)["path"] == "back/notes.csv"
    assert (jp_root_dir / "back" / "notes.csv").read_text() == "a,b\n1,2\n"

    signed = body(await call(jp_fetch, "bucket/sign", "POST", {"key": "sidebar/csv/notes.csv", "expires": 600}))
    assert signed["expires"] == 600
    async with httpx.AsyncClient() as http:
        assert (await http.get(signed["url"])).text == "a,b\n1,2\n"

    deleted = await call(jp_fetch, "bucket/delete", "POST", {"keys": ["sidebar/csv/notes.csv"]})
    assert deleted.code == 200
    assert body(await call(jp_fetch, "bucket", prefix="sidebar/csv/"))["objects"] == []
    missing = await call(jp_fetch, "bucket/sign", "POST", {"key": "sidebar/csv/notes.csv"})
    assert missing.code == 404


@pytest.mark.integration
@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("../secret.txt", 403),
        ("/etc/passwd", 403),
        ("data/../../secret.txt", 403),
        ("link/secret.txt", 403),
        ("data%2f..%2fx", 403),
        (".hidden.txt", 403),
        ("nope.txt", 404),
        ("data", 404),
    ],
)
async def test_upload_is_confined_to_the_root(
    jp_fetch: Any, jp_root_dir: Path, tmp_path_factory: pytest.TempPathFactory, logged_in: Any, path: str, status: int
) -> None:
    outside = tmp_path_factory.mktemp("outside")
    (outside / "secret.txt").write_text("secret")
    (jp_root_dir / "data").mkdir()
    (jp_root_dir / ".hidden.txt").write_text("hidden")
    os.symlink(outside, jp_root_dir / "link")

    response = await call(jp_fetch, "bucket/upload", "POST", {"path": path})

    assert response.code == status
    message = body(response)["error"]["message"]
    assert str(jp_root_dir) not in message
    assert "secret" not in message or path.endswith("secret.txt")


@pytest.mark.integration
async def test_download_is_confined_to_the_root(
    jp_fetch: Any, jp_root_dir: Path, tmp_path_factory: pytest.TempPathFactory, logged_in: Any
) -> None:
    (jp_root_dir / "f.txt").write_text("x")
    assert (await call(jp_fetch, "bucket/upload", "POST", {"path": "f.txt", "key": "conf/f.txt"})).code == 201
    outside = tmp_path_factory.mktemp("outside")
    os.symlink(outside, jp_root_dir / "out")

    for folder in ("../escape", "/tmp", "out", "out/deeper"):
        response = await call(jp_fetch, "bucket/download", "POST", {"key": "conf/f.txt", "folder": folder})
        assert response.code == 403, folder
    assert list(outside.iterdir()) == []
    missing = await call(jp_fetch, "bucket/download", "POST", {"key": "conf/none.txt", "folder": "x"})
    assert missing.code == 404


@pytest.mark.integration
@pytest.mark.parametrize(
    ("route", "payload"),
    [
        ("bucket/upload", {}),
        ("bucket/upload", {"path": "f.txt", "key": "../x"}),
        ("bucket/download", {"key": "/abs"}),
        ("bucket/delete", {"keys": []}),
        ("bucket/sign", {"key": "k", "method": "DELETE"}),
        ("bucket/sign", {"key": "k", "expires": 10**9}),
    ],
)
async def test_bucket_refuses_invalid_bodies(
    jp_fetch: Any, jp_root_dir: Path, logged_in: Any, route: str, payload: dict[str, Any]
) -> None:
    (jp_root_dir / "f.txt").write_text("x")

    response = await call(jp_fetch, route, "POST", payload)

    assert response.code == 422
    assert body(response)["error"]["type"] == "InvalidInputError"


@pytest.mark.integration
async def test_bucket_needs_a_login(jp_fetch: Any, platform_env: Any) -> None:
    response = await call(jp_fetch, "bucket")

    assert response.code == 401


@pytest.mark.integration
async def test_invalid_json_body_is_422(jp_fetch: Any, logged_in: Any) -> None:
    response = await jp_fetch(
        "aignostics-jupyter", "api", "bucket", "sign", method="POST", body=b"[1", raise_error=False
    )

    assert response.code == 422
