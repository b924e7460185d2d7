"""The s3fs backend against a real S3 endpoint process (moto) on 127.0.0.1."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from aignostics_jupyter.checksums import crc32c_file
from aignostics_jupyter.exceptions import AignosticsError, IntegrityError, NotFoundError
from aignostics_jupyter.storage import Bucket, S3StorageBackend

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


@pytest.fixture
def bucket(s3_endpoint: str) -> Bucket:
    backend = S3StorageBackend("org-bucket", access_key_id="AKID", secret="SECRET", endpoint_url=s3_endpoint)
    return Bucket(backend, protocol="gs")


def test_a_large_file_goes_up_in_parallel_parts_with_progress(bucket: Bucket, tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    path.write_bytes(os.urandom(20 * 1024 * 1024))
    progress: list[tuple[int, int]] = []

    result = bucket.upload(path, "big/one.bin", on_progress=lambda done, total: progress.append((done, total)))

    assert result.skipped is False
    assert result.crc32c == crc32c_file(path)
    assert progress[-1] == (path.stat().st_size, path.stat().st_size)
    assert len(progress) >= 3
    head = bucket.head("big/one.bin")
    assert head is not None
    assert head.size == path.stat().st_size
    assert head.crc32c == result.crc32c


def test_upload_list_download_delete(bucket: Bucket, data_file: Path, tmp_path: Path) -> None:
    bucket.upload(data_file, "me/a.bin")
    bucket.upload(data_file, "me/b.bin")
    again = bucket.upload(data_file, "me/a.bin")

    listed = [o.key for o in bucket.ls("me/")]
    target = bucket.download("me/a.bin", tmp_path / "out" / "a.bin")
    bucket.delete(["me/a.bin", "me/b.bin", "me/never-existed"])

    assert again.skipped is True
    assert listed == ["me/a.bin", "me/b.bin"]
    assert target.read_bytes() == data_file.read_bytes()
    assert bucket.ls("me/") == []
    assert bucket.head("me/a.bin") is None


def test_download_verifies_the_crc(bucket: Bucket, data_file: Path, tmp_path: Path, s3_endpoint: str) -> None:
    import boto3

    s3 = boto3.client("s3", endpoint_url=s3_endpoint, aws_access_key_id="AKID", aws_secret_access_key="SECRET")
    s3.put_object(Bucket="org-bucket", Key="bad.bin", Body=b"other bytes", Metadata={"crc32c": "AAAAAA=="})

    with pytest.raises(IntegrityError):
        bucket.download("bad.bin", tmp_path / "bad.bin")
    assert not (tmp_path / "bad.bin").exists()
    assert not (tmp_path / "bad.bin.part").exists()


def test_presigned_urls_work_without_credentials(bucket: Bucket, data_file: Path) -> None:
    bucket.upload(data_file, "signed/a.bin")

    get_url = bucket.sign("signed/a.bin", "GET", expires=600)
    put_url = bucket.sign("signed/b.bin", "PUT", expires=600)
    fetched = httpx.get(get_url)
    stored = httpx.put(put_url, content=b"hello")

    assert "X-Amz-Signature=" in get_url
    assert fetched.status_code == 200
    assert fetched.content == data_file.read_bytes()
    assert stored.status_code == 200
    assert bucket.head("signed/b.bin") is not None


def test_missing_objects_are_not_found(bucket: Bucket, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        bucket.download("nothing/here.bin", tmp_path / "x.bin")
    with pytest.raises(NotFoundError):
        bucket.upload(tmp_path / "missing.bin", "k")


def test_unsupported_sign_method(bucket: Bucket) -> None:
    with pytest.raises(AignosticsError, match="Cannot presign"):
        bucket.sign("k", "DELETE")


def test_repr_hides_the_secret(bucket: Bucket) -> None:
    assert "SECRET" not in repr(bucket)
    assert "SECRET" not in repr(bucket.backend)


def test_a_partial_download_is_continued(bucket: Bucket, tmp_path: Path) -> None:
    source = tmp_path / "src.bin"
    source.write_bytes(os.urandom(3 * 1024 * 1024 + 17))
    bucket.upload(source, "resume/a.bin")
    data = source.read_bytes()
    (tmp_path / "a.bin.part").write_bytes(data[:1_000_000])
    progress: list[tuple[int, int]] = []

    target = bucket.download("resume/a.bin", tmp_path / "a.bin", on_progress=lambda d, t: progress.append((d, t)))

    assert target.read_bytes() == data
    assert progress[0][0] > 1_000_000
    assert progress[-1] == (len(data), len(data))
