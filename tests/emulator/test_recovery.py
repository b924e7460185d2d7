"""kill -9 of the server while a run is PROCESSING, then a restart: nothing is lost and the run completes."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import tifffile

from aignostics_jupyter.checksums import crc32c_bytes
from aignostics_jupyter.emulator import MEMBER_USER_ID, SYNTHETIC_ANALYSER, LocalPlatform
from aignostics_jupyter.storage.signing import sign_url

pytestmark = pytest.mark.integration


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


class Server:
    def __init__(self, data_dir: Path, port: int = 0) -> None:
        env = {**os.environ, "AIGNOSTICS_LOCAL_SYNTHETIC_DELAY": "1.0"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "aignostics_jupyter.emulator", "--port", str(port), "--data-dir", str(data_dir),
             "--auto-approve", "--analyser", "synthetic", "--workers", "1"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
        )  # fmt: skip
        self.api_root = ""
        assert self.process.stdout is not None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if line.startswith("export AIGNOSTICS_API_ROOT="):
                self.api_root = line.strip().split("=", 1)[1]
                break
            assert line, "the server exited before printing its settings"
        assert self.api_root
        while httpx.get(f"{self.api_root}/api/v1/health").status_code != 200:  # pragma: no cover - usually at once
            time.sleep(0.05)

    def kill(self) -> None:
        children = _children(self.process.pid)
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    started: list[Server] = []
    yield started
    for server in started:
        if server.process.poll() is None:
            server.kill()


def _login(root: str) -> dict[str, str]:
    code = httpx.post(f"{root}/oauth/device/code", data={"client_id": "c"}).json()["device_code"]
    token = httpx.post(
        f"{root}/oauth/token", data={"grant_type": "urn:ietf:params:oauth:grant-type:device_code", "device_code": code}
    ).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.timeout(120)
def test_kill_9_while_processing_then_restart_completes_the_run(tmp_path: Path, servers: list[Server]) -> None:
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, np.full((32, 32, 3), 90, np.uint8), photometric="rgb")
    data = buffer.getvalue()

    first = Server(tmp_path)
    servers.append(first)
    root = first.api_root
    headers = _login(root)
    org: dict[str, Any] = httpx.get(f"{root}/api/v1/me", headers=headers).json()["organization"]
    signing = {
        "access_key_id": org["aignostics_bucket_hmac_access_key_id"],
        "secret": org["aignostics_bucket_hmac_secret_access_key"],
    }
    bucket = org["aignostics_bucket_name"]
    assert (
        httpx.put(
            sign_url(f"{root}/storage", bucket, "s.tiff", method="PUT", expires_in=600, **signing), content=data
        ).status_code
        == 200
    )
    url = sign_url(f"{root}/storage", bucket, "s.tiff", method="GET", expires_in=3600, **signing)
    metadata = {"checksum_base64_crc32c": crc32c_bytes(data), "resolution_mpp": 0.5, "width_px": 32, "height_px": 32}
    body = {
        "application_id": "test-app",
        "custom_metadata": {"purpose": "recovery"},
        "items": [
            {
                "external_id": f"s{i}",
                "input_artifacts": [{"name": "whole_slide_image", "download_url": url, "metadata": metadata}],
            }
            for i in range(3)
        ],
    }
    run_id = httpx.post(f"{root}/api/v1/runs", json=body, headers=headers).json()["run_id"]
    deadline = time.monotonic() + 40
    while httpx.get(f"{root}/api/v1/runs/{run_id}", headers=headers).json()["state"] != "PROCESSING":
        assert time.monotonic() < deadline, "the run never started processing"
        time.sleep(0.05)

    first.kill()
    port = int(root.rsplit(":", 1)[1])
    second = Server(tmp_path, port)
    servers.append(second)
    assert second.api_root == root

    run: dict[str, Any] = {}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        run = httpx.get(f"{root}/api/v1/runs/{run_id}", headers=headers).json()
        if run["state"] == "TERMINATED":
            break
        time.sleep(0.2)
    assert (run["state"], run["termination_reason"], run["output"]) == ("TERMINATED", "ALL_ITEMS_PROCESSED", "FULL")
    assert run["statistics"]["item_succeeded_count"] == 3
    assert run["custom_metadata"] == {"purpose": "recovery"}
    runs = httpx.get(f"{root}/api/v1/runs", headers=headers).json()
    assert [r["run_id"] for r in runs] == [run_id]
    items = httpx.get(f"{root}/api/v1/runs/{run_id}/items", headers=headers).json()
    assert len(items) == 3
    for entry in items:
        assert len(entry["output_artifacts"]) == 3
        for artifact in entry["output_artifacts"]:
            assert artifact["output"] == "AVAILABLE"
            location = httpx.get(
                f"{root}/api/v1/runs/{run_id}/artifacts/{artifact['output_artifact_id']}/file", headers=headers
            ).headers["location"]
            assert crc32c_bytes(httpx.get(location).content) == artifact["metadata"]["checksum_base64_crc32c"]


def test_everything_survives_a_clean_restart(make_api: Any) -> None:
    api = make_api()
    data_dir = api.platform.config.data_dir
    run_id = api.submit_slides(1, custom_metadata={"k": "v"})
    api.wait(run_id)
    token = api.http.post("/access/share-tokens", json={}).json()
    grant = api.http.post(
        "/access/grants",
        json={"resource_type": "run", "resource_id": run_id, "subject_type": "share_token",
              "subject_id": token["share_token_id"], "relation": "viewer"},
    ).json()  # fmt: skip
    refresh = api.platform.refresh_token(MEMBER_USER_ID)
    access = api.token
    assert api.platform.services.db.one("PRAGMA journal_mode")[0] == "wal"
    api.http.close()
    api.platform.stop()

    with LocalPlatform(data_dir, worker_mode="thread", analyser=SYNTHETIC_ANALYSER) as again:
        http = httpx.Client(base_url=f"{again.api_root}/api/v1", headers={"Authorization": f"Bearer {access}"})
        run = http.get(f"/runs/{run_id}").json()
        assert (run["state"], run["output"], run["custom_metadata"]) == ("TERMINATED", "FULL", {"k": "v"})
        items = http.get(f"/runs/{run_id}/items").json()
        assert {a["output"] for a in items[0]["output_artifacts"]} == {"AVAILABLE"}
        assert http.get(f"/access/grants/{grant['grant_id']}").json()["revoked"] is False
        shared = httpx.get(f"{again.api_root}/api/v1/runs/{run_id}", params={"share_token": token["share_token"]})
        assert shared.status_code == 200
        exchanged = httpx.post(
            f"{again.api_root}/oauth/token", data={"grant_type": "refresh_token", "refresh_token": refresh}
        )
        assert exchanged.status_code == 200
        http.close()
