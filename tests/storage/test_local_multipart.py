"""Parallel, resumable multipart uploads to the local platform over real HTTP."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

import httpx
import pytest

from aignostics_jupyter.checksums import crc32c_bytes, crc32c_file
from aignostics_jupyter.client import Client
from aignostics_jupyter.emulator import LocalPlatform
from aignostics_jupyter.exceptions import IntegrityError, ServerError
from aignostics_jupyter.storage import Bucket, LocalStorageBackend
from aignostics_jupyter.storage._local_multipart import upload_id_for
from tests.client.local import local_settings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

PART = 1024 * 1024


class InterruptedUploadError(Exception):
    """Stands in for a dropped connection or Ctrl-C in the middle of an upload."""


@pytest.fixture
def backend(platform: LocalPlatform, tmp_path: Path) -> LocalStorageBackend:
    client = Client(local_settings(platform, tmp_path / "cache"), token_provider=platform.access_token)
    local = client.bucket().backend
    assert isinstance(local, LocalStorageBackend)
    local.part_size = PART
    local.concurrency = 3
    return local


@pytest.fixture
def big_file(tmp_path: Path) -> Path:
    path = tmp_path / "slide.svs"
    path.write_bytes(os.urandom(9 * PART + 777))  # ten parts, the last one short
    return path


def _parts(backend: LocalStorageBackend, path: Path, key: str) -> list[dict[str, Any]]:
    url = backend.sign(key, "PUT", 600) + f"&uploadId={upload_id_for(path, key)}"
    response = httpx.get(url)
    assert response.status_code == 200, response.text
    parts: list[dict[str, Any]] = response.json()["parts"]
    return parts


def _read(backend: LocalStorageBackend, key: str) -> bytes:
    return httpx.get(backend.sign(key, "GET", 600)).content


def test_a_large_file_goes_up_in_parallel_parts(backend: LocalStorageBackend, big_file: Path) -> None:
    progress: list[tuple[int, int]] = []
    info = Bucket(backend, protocol="http").upload(
        big_file, "mp/a.svs", on_progress=lambda d, t: progress.append((d, t))
    )
    size = big_file.stat().st_size
    assert info.crc32c == crc32c_file(big_file)
    assert info.size == size
    assert _read(backend, "mp/a.svs") == big_file.read_bytes()
    assert progress[-1] == (size, size)
    assert [d for d, _ in progress] == sorted(d for d, _ in progress)
    assert _parts(backend, big_file, "mp/a.svs") == []  # completed uploads leave nothing behind
    head = backend.head("mp/a.svs")
    assert head is not None
    assert head.crc32c == info.crc32c


def test_an_interrupted_upload_sends_only_the_missing_parts(backend: LocalStorageBackend, tmp_path: Path) -> None:
    path = tmp_path / "two-chunk-parts.svs"
    path.write_bytes(os.urandom(8 * PART + 777))
    backend.part_size = 2 * PART  # parts of two 1 MiB chunks: the interruption lands inside parts

    def interrupt(done: int, total: int) -> None:
        if done >= 5 * PART:
            raise InterruptedUploadError

    with pytest.raises(InterruptedUploadError):
        backend.upload(path, "mp/b.svs", crc32c=None, on_progress=interrupt)
    stored = _parts(backend, path, "mp/b.svs")
    assert 1 <= len(stored) < 5
    assert backend.head("mp/b.svs") is None

    resumed: list[tuple[int, int]] = []
    sent: list[str] = []
    again = LocalStorageBackend(
        backend.storage_root,
        backend.bucket,
        access_key_id=backend._key_id,
        secret=backend._secret,
        http=httpx.Client(event_hooks={"request": [lambda request: sent.append(request.method)]}),
        part_size=2 * PART,
        concurrency=2,
    )
    info = again.upload(path, "mp/b.svs", crc32c=None, on_progress=lambda d, t: resumed.append((d, t)))

    assert info.crc32c == crc32c_file(path)
    assert _read(backend, "mp/b.svs") == path.read_bytes()
    assert resumed[0][0] == sum(p["size"] for p in stored)  # stored parts count as done from the start
    assert sent.count("PUT") == 5 - len(stored)  # only the missing parts travel


def test_a_stored_part_with_other_bytes_is_sent_again(backend: LocalStorageBackend, big_file: Path) -> None:
    key = "mp/c.svs"
    url = backend.sign(key, "PUT", 600) + f"&uploadId={upload_id_for(big_file, key)}"
    foreign = os.urandom(PART)
    put = httpx.put(f"{url}&partOffset={PART}", content=foreign, headers={"x-aig-crc32c": crc32c_bytes(foreign)})
    assert put.status_code == 200, put.text

    backend.upload(big_file, key, crc32c=None, on_progress=None)

    assert _read(backend, key) == big_file.read_bytes()


def test_a_file_that_changed_since_its_checksum_is_refused(backend: LocalStorageBackend, big_file: Path) -> None:
    with pytest.raises(IntegrityError, match="changed since its CRC32C was taken"):
        backend.upload(big_file, "mp/d.svs", crc32c=crc32c_bytes(b"something else"), on_progress=None)
    assert backend.head("mp/d.svs") is None
    assert _parts(backend, big_file, "mp/d.svs") == []  # the abandoned upload was dropped


def test_the_server_checks_parts_and_completion(backend: LocalStorageBackend, tmp_path: Path) -> None:
    key = "mp/e.bin"
    base = backend.sign(key, "PUT", 600) + "&uploadId=test-upload-1"
    one, two = os.urandom(8192), os.urandom(100)

    def put(offset: int, body: bytes, crc: str | None = None) -> httpx.Response:
        headers = {"x-aig-crc32c": crc} if crc else {}
        return httpx.put(f"{base}&partOffset={offset}", content=body, headers=headers)

    def complete(size: int, crc: str) -> httpx.Response:
        return httpx.post(base, json={"size": size, "crc32c": crc})

    assert put(1000, one).status_code == 400  # not block-aligned
    assert put(0, one, crc32c_bytes(two)).status_code == 400  # body does not match its checksum
    assert httpx.put(base, content=one).status_code == 400  # no partOffset
    bad_id = backend.sign(key, "PUT", 600) + "&uploadId=../x"
    assert httpx.put(f"{bad_id}&partOffset=0", content=one).status_code == 400
    unsigned = f"{backend.storage_root}/{backend.bucket}/{key}?uploadId=test-upload-1&partOffset=0"
    assert httpx.put(unsigned, content=one).status_code == 403

    assert put(8192, two).json() == {"offset": 8192, "size": 100, "crc32c": crc32c_bytes(two)}
    whole = crc32c_bytes(one + two)
    missing = complete(8292, whole)
    assert missing.status_code == 409
    assert "at offset 0" in missing.json()["detail"]
    assert put(0, one, crc32c_bytes(one)).status_code == 200
    assert complete(8292, crc32c_bytes(two + one)).status_code == 400  # wrong whole checksum
    assert complete(9000, whole).status_code == 409  # wrong size
    assert httpx.post(base, content=b"{not json").status_code == 400
    done = complete(8292, whole)
    assert done.status_code == 200, done.text
    assert done.json()["crc32c"] == whole
    assert _read(backend, key) == one + two
    assert httpx.delete(base).status_code == 404  # nothing left to abort


def test_only_the_last_part_may_end_off_a_block_boundary(backend: LocalStorageBackend) -> None:
    base = backend.sign("mp/f.bin", "PUT", 600) + "&uploadId=test-upload-2"
    first, second = os.urandom(5000), os.urandom(5000)
    assert httpx.put(f"{base}&partOffset=0", content=first).status_code == 200
    assert httpx.put(f"{base}&partOffset=8192", content=second).status_code == 200
    answer = httpx.post(base, json={"size": 13192, "crc32c": crc32c_bytes(first + second)})
    assert answer.status_code == 409
    assert "multiples of 4096" in answer.json()["detail"]
    assert httpx.delete(base).status_code == 204


def test_a_full_disk_is_reported_as_such(
    backend: LocalStorageBackend, big_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aignostics_jupyter.emulator import direct_io

    def no_space(fd: int, view: memoryview, position: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(direct_io, "_write_all", no_space)
    with pytest.raises(ServerError, match="disk is full") as caught:
        backend.upload(big_file, "mp/g.svs", crc32c=None, on_progress=None)
    assert caught.value.status_code == 507
    assert backend.head("mp/g.svs") is None
