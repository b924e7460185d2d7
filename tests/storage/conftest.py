"""Fixtures of the storage tests: an S3 endpoint (moto server) and the local platform, both on 127.0.0.1."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import httpx
import pytest

from aignostics_jupyter.emulator import LocalPlatform
from tests.client.local import local_platform


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real S3 endpoint process (moto's server) on 127.0.0.1 with the bucket ``org-bucket``."""
    log = (tmp_path_factory.mktemp("moto") / "moto.log").open("wb")
    for _attempt in range(3):  # the port is chosen before the server binds it: retry if someone took it
        port = _free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=log
        )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while process.poll() is None and time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                httpx.get(f"{url}/moto-api/", timeout=1)
                break
            time.sleep(0.1)
        if process.poll() is None:
            break
    else:
        pytest.fail("moto's S3 server did not start")
    try:
        s3 = boto3.client("s3", endpoint_url=url, aws_access_key_id="AKID", aws_secret_access_key="SECRET")
        s3.create_bucket(Bucket="org-bucket")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPlatform]:
    with local_platform(tmp_path_factory.mktemp("platform")) as running:
        yield running


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    path = tmp_path / "slide.bin"
    path.write_bytes(bytes(range(256)) * 4096 * 3)  # 3 MiB
    return path
