"""Fixtures for the local platform's tests: a running instance over real HTTP and a small API helper."""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import tifffile

from aignostics_jupyter.checksums import crc32c_bytes
from aignostics_jupyter.emulator import ADMIN_USER_ID, SYNTHETIC_ANALYSER, LocalPlatform
from aignostics_jupyter.storage.signing import sign_url


def tiff_bytes(width: int = 64, height: int = 48) -> bytes:
    """A small but valid RGB TIFF."""
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, np.full((height, width, 3), 200, np.uint8), photometric="rgb")
    return buffer.getvalue()


class Api:
    """A thin helper over one platform and one user's token."""

    tiff_bytes = staticmethod(tiff_bytes)

    def __init__(self, platform: LocalPlatform, user_id: str = ADMIN_USER_ID) -> None:
        self.platform = platform
        self.user_id = user_id
        self.token = platform.access_token(user_id)
        self.http = httpx.Client(
            base_url=f"{platform.api_root}/api/v1", headers={"Authorization": f"Bearer {self.token}"}, timeout=20
        )
        self.org = self.http.get("/me").json()["organization"]

    def as_user(self, user_id: str) -> Api:
        return Api(self.platform, user_id)

    def sign(self, key: str, method: str = "GET", expires_in: float = 3600, bucket: str | None = None) -> str:
        return sign_url(
            f"{self.platform.api_root}/storage",
            bucket or self.org["aignostics_bucket_name"],
            key,
            method=method,
            access_key_id=self.org["aignostics_bucket_hmac_access_key_id"],
            secret=self.org["aignostics_bucket_hmac_secret_access_key"],
            expires_in=expires_in,
        )

    def upload(self, data: bytes, key: str = "slides/slide.tiff") -> str:
        """Upload bytes to the org bucket and return a signed GET URL for them."""
        response = httpx.put(self.sign(key, "PUT"), content=data)
        assert response.status_code == 200, response.text
        return self.sign(key)

    def item(
        self, external_id: str, url: str, data: bytes, *, name: str = "whole_slide_image", **extra: Any
    ) -> dict[str, Any]:
        metadata = {
            "checksum_base64_crc32c": crc32c_bytes(data),
            "resolution_mpp": 0.5,
            "width_px": 64,
            "height_px": 48,
        }
        metadata.update(extra.pop("metadata", {}))
        return {
            "external_id": external_id,
            "input_artifacts": [{"name": name, "download_url": url, "metadata": metadata}],
            **extra,
        }

    def submit(self, items: list[dict[str, Any]], *, application_id: str = "test-app", **extra: Any) -> str:
        response = self.http.post("/runs", json={"application_id": application_id, "items": items, **extra})
        assert response.status_code == 201, response.text
        return str(response.json()["run_id"])

    def submit_slides(self, count: int = 1, **extra: Any) -> str:
        data = tiff_bytes()
        url = self.upload(data, f"slides/{time.time_ns()}.tiff")
        return self.submit([self.item(f"slide-{i}", url, data) for i in range(count)], **extra)

    def run(self, run_id: str) -> dict[str, Any]:
        response = self.http.get(f"/runs/{run_id}")
        assert response.status_code == 200, response.text
        return dict(response.json())

    def items(self, run_id: str, **params: Any) -> list[dict[str, Any]]:
        response = self.http.get(f"/runs/{run_id}/items", params=params)
        assert response.status_code == 200, response.text
        return list(response.json())

    def wait(self, run_id: str, timeout: float = 20, state: str = "TERMINATED") -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            run = self.run(run_id)
            if run["state"] == state or time.monotonic() > deadline:
                return run
            time.sleep(0.05)


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[LocalPlatform]:
    """A fresh local platform (thread workers, synthetic analysis) over real HTTP."""
    with LocalPlatform(
        tmp_path / "platform", worker_mode="thread", analyser=SYNTHETIC_ANALYSER, scheduler_interval=0.05
    ) as running:
        yield running


@pytest.fixture
def api(platform: LocalPlatform) -> Iterator[Api]:
    """The seeded admin's API helper."""
    helper = Api(platform)
    yield helper
    helper.http.close()


@pytest.fixture
def make_api(tmp_path: Path) -> Iterator[Callable[..., Api]]:
    """Start platforms with custom options (``analyse=`` callable, config fields); all are stopped afterwards."""
    started: list[LocalPlatform] = []

    def make(analyse: Callable[..., Any] | None = None, **options: Any) -> Api:
        options.setdefault("worker_mode", "thread")
        options.setdefault("analyser", SYNTHETIC_ANALYSER)
        options.setdefault("scheduler_interval", 0.05)
        platform = LocalPlatform(tmp_path / f"lp{len(started)}", analyse=analyse, **options).start()
        started.append(platform)
        return Api(platform)

    yield make
    for platform in started:
        platform.stop()
