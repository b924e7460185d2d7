"""Resumable multipart uploads against a real S3 endpoint process (moto's server)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import boto3
import pytest

from aignostics_jupyter.checksums import crc32c_file
from aignostics_jupyter.exceptions import TransportError
from aignostics_jupyter.storage import Bucket, S3StorageBackend
from aignostics_jupyter.storage._multipart import MIN_PART_SIZE

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

PART = MIN_PART_SIZE  # 5 MiB parts keep the files small


class InterruptedUploadError(Exception):
    """Stands in for a dropped connection or Ctrl-C in the middle of an upload."""


def _backend(endpoint: str, state_dir: Path) -> S3StorageBackend:
    return S3StorageBackend(
        "org-bucket",
        access_key_id="AKID",
        secret="SECRET",
        endpoint_url=endpoint,
        state_dir=state_dir,
        part_size=PART,
        max_concurrency=1,  # parts go in order, so "interrupt after two parts" means exactly that
    )


def _s3(endpoint: str) -> Any:
    return boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="AKID", aws_secret_access_key="SECRET")


@pytest.fixture
def big_file(tmp_path: Path) -> Path:
    path = tmp_path / "slide.svs"
    path.write_bytes(os.urandom(4 * PART + 12345))  # five parts, the last one short
    return path


def _interrupt_after(parts: int) -> Any:
    def on_progress(done: int, total: int) -> None:
        if done >= parts * PART and done < total:
            raise InterruptedUploadError

    return on_progress


def test_an_interrupted_upload_resumes_with_only_the_missing_parts(
    s3_endpoint: str, big_file: Path, tmp_path: Path
) -> None:
    state_dir = tmp_path / "state"
    first = _backend(s3_endpoint, state_dir)
    with pytest.raises(TransportError, match="run the same upload again to resume"):
        first.upload(big_file, "resume/a.svs", crc32c=None, on_progress=_interrupt_after(2))
    sent_before = first._multipart.parts_sent
    assert 2 <= sent_before < 5  # the part already in flight when it stopped may have arrived too
    assert len(list(state_dir.glob("*.json"))) == 1
    assert first.head("resume/a.svs") is None  # nothing visible until the upload completes

    second = _backend(s3_endpoint, state_dir)
    progress: list[tuple[int, int]] = []
    info = second.upload(big_file, "resume/a.svs", crc32c=None, on_progress=lambda d, t: progress.append((d, t)))

    size = big_file.stat().st_size
    assert second._multipart.parts_sent == 5 - sent_before  # only the missing parts
    assert progress[0] == (sent_before * PART, size)  # the stored parts count as done from the start
    assert progress[-1] == (size, size)
    assert info.crc32c == crc32c_file(big_file)
    body = _s3(s3_endpoint).get_object(Bucket="org-bucket", Key="resume/a.svs")
    assert body["Body"].read() == big_file.read_bytes()
    assert body["Metadata"]["crc32c"] == info.crc32c
    assert list(state_dir.glob("*.json")) == []


def test_an_upload_the_store_forgot_starts_over(s3_endpoint: str, big_file: Path, tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    first = _backend(s3_endpoint, state_dir)
    with pytest.raises(TransportError):
        first.upload(big_file, "resume/b.svs", crc32c=None, on_progress=_interrupt_after(1))
    s3 = _s3(s3_endpoint)
    for upload in s3.list_multipart_uploads(Bucket="org-bucket", Prefix="resume/b.svs").get("Uploads", []):
        s3.abort_multipart_upload(Bucket="org-bucket", Key="resume/b.svs", UploadId=upload["UploadId"])

    second = _backend(s3_endpoint, state_dir)
    second.upload(big_file, "resume/b.svs", crc32c=None, on_progress=None)

    assert second._multipart.parts_sent == 5
    assert s3.get_object(Bucket="org-bucket", Key="resume/b.svs")["Body"].read() == big_file.read_bytes()


def test_a_changed_file_does_not_reuse_stored_parts(s3_endpoint: str, big_file: Path, tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    with pytest.raises(TransportError):
        _backend(s3_endpoint, state_dir).upload(big_file, "resume/c.svs", crc32c=None, on_progress=_interrupt_after(2))
    changed = bytearray(big_file.read_bytes())
    changed[:16] = os.urandom(16)  # same size, different content (and modification time)
    big_file.write_bytes(bytes(changed))

    again = _backend(s3_endpoint, state_dir)
    again.upload(big_file, "resume/c.svs", crc32c=None, on_progress=None)

    assert again._multipart.parts_sent == 5
    got = _s3(s3_endpoint).get_object(Bucket="org-bucket", Key="resume/c.svs")["Body"].read()
    assert got == bytes(changed)


def test_a_stored_part_that_does_not_match_the_file_is_sent_again(
    s3_endpoint: str, big_file: Path, tmp_path: Path
) -> None:
    state_dir = tmp_path / "state"
    first = _backend(s3_endpoint, state_dir)
    with pytest.raises(TransportError):
        first.upload(big_file, "resume/d.svs", crc32c=None, on_progress=_interrupt_after(2))
    sent_before = first._multipart.parts_sent
    (state_file,) = state_dir.glob("*.json")
    upload_id = json.loads(state_file.read_text())["upload_id"]
    # Someone else's bytes in part 1 (same size): its ETag no longer matches the local part.
    _s3(s3_endpoint).upload_part(
        Bucket="org-bucket", Key="resume/d.svs", UploadId=upload_id, PartNumber=1, Body=os.urandom(PART)
    )

    second = _backend(s3_endpoint, state_dir)
    second.upload(big_file, "resume/d.svs", crc32c=None, on_progress=None)

    assert second._multipart.parts_sent == 5 - sent_before + 1  # part 1 again, then the missing ones
    got = _s3(s3_endpoint).get_object(Bucket="org-bucket", Key="resume/d.svs")["Body"].read()
    assert got == big_file.read_bytes()


def test_parallel_parts_through_the_bucket(s3_endpoint: str, big_file: Path, tmp_path: Path) -> None:
    backend = S3StorageBackend(
        "org-bucket",
        access_key_id="AKID",
        secret="SECRET",
        endpoint_url=s3_endpoint,
        state_dir=tmp_path / "state",
        part_size=PART,
        max_concurrency=4,
    )
    result = Bucket(backend, protocol="gs").upload(big_file, "resume/e.svs")
    assert result.skipped is False
    assert backend._multipart.parts_sent == 5
    again = Bucket(backend, protocol="gs").upload(big_file, "resume/e.svs")
    assert again.skipped is True  # same key, same CRC32C: not sent again
