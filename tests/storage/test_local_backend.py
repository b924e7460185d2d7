"""The local platform's storage over real HTTP: signed list, PUT, ranged GET, DELETE."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from aignostics_jupyter.client import Client
from aignostics_jupyter.emulator import LocalPlatform
from aignostics_jupyter.exceptions import IntegrityError, PermissionDeniedError
from aignostics_jupyter.storage import Bucket, LocalStorageBackend
from tests.client.local import local_settings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(30)]


@pytest.fixture
def bucket(platform: LocalPlatform, tmp_path: Path) -> Bucket:
    client = Client(local_settings(platform, tmp_path / "cache"), token_provider=platform.access_token)
    return client.bucket()


def test_the_bucket_comes_from_me(bucket: Bucket, platform: LocalPlatform) -> None:
    assert isinstance(bucket.backend, LocalStorageBackend)
    assert bucket.backend.storage_root == f"{platform.api_root}/storage"
    assert bucket.name.startswith("aignostics-local-")


def test_upload_list_download_delete(bucket: Bucket, data_file: Path, tmp_path: Path) -> None:
    progress: list[tuple[int, int]] = []

    uploaded = bucket.upload(data_file, "t1/a.bin", on_progress=lambda d, t: progress.append((d, t)))
    again = bucket.upload(data_file, "t1/a.bin")
    listed = bucket.ls("t1/")
    (tmp_path / "out").mkdir()
    target = bucket.download("t1/a.bin", tmp_path / "out")
    bucket.delete("t1/a.bin")

    size = data_file.stat().st_size
    assert uploaded.skipped is False
    assert again.skipped is True
    assert progress[-1] == (size, size)
    assert len(progress) == 3
    assert [(o.key, o.size, o.crc32c) for o in listed] == [("t1/a.bin", size, uploaded.crc32c)]
    assert target == tmp_path / "out" / "a.bin"
    assert target.read_bytes() == data_file.read_bytes()
    assert bucket.head("t1/a.bin") is None


def test_download_resumes_a_partial_file(bucket: Bucket, data_file: Path, tmp_path: Path) -> None:
    bucket.upload(data_file, "t2/a.bin")
    data = data_file.read_bytes()
    target = tmp_path / "a.bin"
    (tmp_path / "a.bin.part").write_bytes(data[:1000])
    progress: list[tuple[int, int]] = []

    bucket.download("t2/a.bin", target, on_progress=lambda d, t: progress.append((d, t)))

    assert target.read_bytes() == data
    assert progress[0][0] > 1000
    assert progress[-1] == (len(data), len(data))


def test_a_corrupted_object_fails_verification(
    bucket: Bucket, data_file: Path, tmp_path: Path, platform: LocalPlatform
) -> None:
    bucket.upload(data_file, "t3/a.bin")
    stored = platform.services.blobs.path_for(bucket.name, "t3/a.bin")
    stored.write_bytes(b"tampered" + stored.read_bytes()[8:])

    with pytest.raises(IntegrityError, match="CRC32C"):
        bucket.download("t3/a.bin", tmp_path / "a.bin")
    assert not (tmp_path / "a.bin").exists()


def test_signed_urls_need_no_token_and_expire(bucket: Bucket, data_file: Path) -> None:
    bucket.upload(data_file, "t4/a.bin")

    url = bucket.sign("t4/a.bin", "GET", expires=60)
    expired = bucket.sign("t4/a.bin", "GET", expires=-10)

    assert httpx.get(url).content == data_file.read_bytes()
    assert httpx.get(expired).status_code == 403


def test_a_wrong_key_is_permission_denied(platform: LocalPlatform, bucket: Bucket) -> None:
    backend = LocalStorageBackend(
        f"{platform.api_root}/storage", bucket.name, access_key_id="nobody", secret="wrong", http=httpx.Client()
    )

    with pytest.raises(PermissionDeniedError):
        backend.ls("")


def test_upload_many_in_parallel(bucket: Bucket, tmp_path: Path) -> None:
    files = {}
    for i in range(6):
        path = tmp_path / f"f{i}.bin"
        path.write_bytes(bytes([i]) * (100_000 + i))
        files[path] = f"t5/f{i}.bin"
    seen: set[Path] = set()

    results = bucket.upload_many(files, on_progress=lambda p, d, t: seen.add(p), max_workers=3)

    assert set(results) == set(files)
    assert seen == set(files)
    assert [o.key for o in bucket.ls("t5/")] == sorted(files.values())
