"""Fixtures of the storage tests: an S3 endpoint (moto server) and the local platform, both on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from aignostics_jupyter.emulator import LocalPlatform
from tests.client.local import local_platform


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """A real S3 endpoint process (moto) with the bucket ``org-bucket``."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    s3 = boto3.client("s3", endpoint_url=url, aws_access_key_id="AKID", aws_secret_access_key="SECRET")
    s3.create_bucket(Bucket="org-bucket")
    yield url
    server.stop()


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPlatform]:
    with local_platform(tmp_path_factory.mktemp("platform")) as running:
        yield running


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    path = tmp_path / "slide.bin"
    path.write_bytes(bytes(range(256)) * 4096 * 3)  # 3 MiB
    return path
