"""Unfinished uploads expire: staged parts and crashed single uploads go after ``upload_retention``."""

from __future__ import annotations

import os
import time
from pathlib import Path

import httpx
import pytest

from aignostics_jupyter.emulator import LocalPlatform
from aignostics_jupyter.emulator.multipart import MultipartUploads
from tests.emulator.conftest import Api

pytestmark = [pytest.mark.integration, pytest.mark.timeout(30)]


def _put_part(api: Api, key: str, upload_id: str) -> None:
    url = api.sign(key, "PUT") + f"&uploadId={upload_id}&partOffset=0"
    assert httpx.put(url, content=os.urandom(4096)).status_code == 200


def _parts(api: Api, key: str, upload_id: str) -> list[object]:
    listing = httpx.get(api.sign(key, "PUT") + f"&uploadId={upload_id}").json()
    parts: list[object] = listing["parts"]
    return parts


def test_expire_drops_only_what_nobody_touched(api: Api) -> None:
    blobs = api.platform.services.blobs
    uploads = MultipartUploads(blobs)
    _put_part(api, "exp/old.bin", "old-upload")
    _put_part(api, "exp/new.bin", "new-upload")
    crashed = blobs.tmp_dir / "upload-crashed"
    crashed.write_bytes(b"half a slide")
    other = blobs.tmp_dir / "put-unrelated"  # not an upload's file: left alone
    other.write_bytes(b"")
    old = uploads._staging(api.org["aignostics_bucket_name"], "exp/old.bin", "old-upload")
    week_ago = time.time() - 8 * 24 * 3600
    for path in (old, crashed):
        os.utime(path, (week_ago, week_ago))

    assert uploads.expire(7 * 24 * 3600) == 2

    assert not old.exists()
    assert not crashed.exists()
    assert other.exists()
    assert _parts(api, "exp/old.bin", "old-upload") == []
    assert len(_parts(api, "exp/new.bin", "new-upload")) == 1
    remaining = blobs.db.all("SELECT DISTINCT upload_id FROM upload_parts")
    assert [r["upload_id"] for r in remaining] == ["new-upload"]


def test_the_runner_expires_uploads_on_its_own(tmp_path: Path) -> None:
    with LocalPlatform(
        tmp_path / "p", worker_mode="thread", scheduler_interval=0.05, artifact_retention=0.4, upload_retention=0.2
    ) as platform:
        api = Api(platform)
        _put_part(api, "exp/left.bin", "left-behind")
        assert len(_parts(api, "exp/left.bin", "left-behind")) == 1
        deadline = time.monotonic() + 10
        while _parts(api, "exp/left.bin", "left-behind") and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _parts(api, "exp/left.bin", "left-behind") == []
        assert not list(platform.services.blobs.tmp_dir.glob("multipart-*"))
