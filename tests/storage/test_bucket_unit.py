"""Bucket and the local backend against the fake platform's storage (httpx.MockTransport)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from aignostics_jupyter.checksums import crc32c_bytes
from aignostics_jupyter.exceptions import ConfigurationError, IntegrityError, NotFoundError, TransportError
from aignostics_jupyter.storage import Bucket, LocalStorageBackend, S3StorageBackend
from tests.client.fakes import API_ROOT, FakePlatform

pytestmark = pytest.mark.unit


def _org(protocol: str = "http") -> SimpleNamespace:
    return SimpleNamespace(
        aignostics_bucket_name="org-bucket",
        aignostics_bucket_protocol=protocol,
        aignostics_bucket_hmac_access_key_id="AKIDFAKE",
        aignostics_bucket_hmac_secret_access_key="fake-secret-value",
    )


@pytest.fixture
def fake() -> FakePlatform:
    return FakePlatform()


@pytest.fixture
def bucket(fake: FakePlatform) -> Bucket:
    return Bucket.from_organization(_org(), api_root=API_ROOT, http=httpx.Client(transport=fake.transport()))


def test_the_protocol_picks_the_backend(fake: FakePlatform) -> None:
    local = Bucket.from_organization(_org("https"), api_root=API_ROOT)
    s3 = Bucket.from_organization(_org("gs"), api_root=API_ROOT, storage_endpoint_url="http://127.0.0.1:1")
    override = Bucket.from_organization(
        _org("gs"), api_root=API_ROOT, overrides={"bucket_protocol": "local", "bucket_name": "other"}
    )

    assert isinstance(local.backend, LocalStorageBackend)
    assert isinstance(s3.backend, S3StorageBackend)
    assert isinstance(override.backend, LocalStorageBackend)
    assert override.name == "other"
    assert s3.url("a/b.svs") == "gs://org-bucket/a/b.svs"
    assert "fake-secret-value" not in repr(local) + repr(local.backend) + repr(s3.backend)


def test_an_unknown_protocol_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="ftp"):
        Bucket.from_organization(_org("ftp"), api_root=API_ROOT)


def test_round_trip(bucket: Bucket, fake: FakePlatform, tmp_path: Path) -> None:
    source = tmp_path / "a.bin"
    source.write_bytes(b"x" * 3_000_000)

    bucket.upload(source, "k/a.bin")
    target = bucket.download("k/a.bin", tmp_path / "copy.bin")

    assert fake.objects["k/a.bin"] == source.read_bytes()
    assert target.read_bytes() == source.read_bytes()
    assert fake.requests[-1].headers.get("range") is None


def test_a_finished_download_is_skipped(bucket: Bucket, fake: FakePlatform, tmp_path: Path) -> None:
    source = tmp_path / "a.bin"
    source.write_bytes(b"abc")
    bucket.upload(source, "k/a.bin")
    bucket.download("k/a.bin", tmp_path / "copy.bin")
    gets = sum(r.method == "GET" and r.url.path.endswith("/k/a.bin") for r in fake.requests)

    bucket.download("k/a.bin", tmp_path / "copy.bin")

    assert sum(r.method == "GET" and r.url.path.endswith("/k/a.bin") for r in fake.requests) == gets


def test_a_partial_download_is_resumed_with_a_range(bucket: Bucket, fake: FakePlatform, tmp_path: Path) -> None:
    fake.objects["k/b.bin"] = b"0123456789" * 1000
    (tmp_path / "b.bin.part").write_bytes(b"0123456789" * 10)

    bucket.download("k/b.bin", tmp_path / "b.bin")

    assert (tmp_path / "b.bin").read_bytes() == fake.objects["k/b.bin"]
    assert fake.requests[-1].headers["range"] == "bytes=100-"


def test_a_damaged_partial_download_fails_verification(bucket: Bucket, fake: FakePlatform, tmp_path: Path) -> None:
    fake.objects["k/c.bin"] = b"0123456789" * 1000
    (tmp_path / "c.bin.part").write_bytes(b"X" * 100)

    with pytest.raises(IntegrityError):
        bucket.download("k/c.bin", tmp_path / "c.bin")
    assert not (tmp_path / "c.bin").exists()
    assert not (tmp_path / "c.bin.part").exists()


def test_missing_objects(bucket: Bucket, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        bucket.download("nothing", tmp_path / "x")
    bucket.delete(["nothing"])


def test_transport_errors_are_translated(tmp_path: Path) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    broken = Bucket.from_organization(
        _org(), api_root=API_ROOT, http=httpx.Client(transport=httpx.MockTransport(refuse))
    )

    with pytest.raises(TransportError):
        broken.ls()


def test_signed_urls_carry_the_signature(bucket: Bucket) -> None:
    url = bucket.sign("k/a.bin", "PUT", expires=10**9)

    assert url.startswith(f"{API_ROOT}/storage/org-bucket/k/a.bin?")
    assert "X-Aig-Signature=" in url
    assert "X-Aig-Credential=AKIDFAKE" in url


def test_a_complete_partial_download_is_only_verified(bucket: Bucket, fake: FakePlatform, tmp_path: Path) -> None:
    fake.objects["k/d.bin"] = b"abc" * 100
    (tmp_path / "d.bin.part").write_bytes(b"abc" * 100)

    bucket.download("k/d.bin", tmp_path / "d.bin")

    assert (tmp_path / "d.bin").read_bytes() == b"abc" * 100
    assert fake.requests[-1].headers["range"] == "bytes=300-"


def test_an_upload_that_arrives_damaged_is_deleted(tmp_path: Path) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.method)
        if request.method == "GET":
            return httpx.Response(200, json=[])
        if request.method == "PUT":
            request.read()
            return httpx.Response(200, json={"key": "k", "size": 3, "crc32c": "AAAAAA=="})
        return httpx.Response(204)

    bucket = Bucket.from_organization(
        _org(), api_root=API_ROOT, http=httpx.Client(transport=httpx.MockTransport(handler))
    )
    source = tmp_path / "a.bin"
    source.write_bytes(b"abc")

    with pytest.raises(IntegrityError, match="arrived damaged"):
        bucket.upload(source, "k")
    assert seen == ["GET", "PUT", "DELETE"]


def test_an_upload_computes_the_crc_while_streaming(bucket: Bucket, fake: FakePlatform, tmp_path: Path) -> None:
    source = tmp_path / "a.bin"
    source.write_bytes(b"streamed" * 1000)

    result = bucket.upload(source, "k/streamed.bin")

    put = next(r for r in fake.requests if r.method == "PUT")
    assert "x-aig-crc32c" not in put.headers
    assert result.crc32c == crc32c_bytes(b"streamed" * 1000)
