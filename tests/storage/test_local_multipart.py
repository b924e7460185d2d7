"""Parallel, resumable multipart uploads to the local platform over real HTTP."""

from __future__ import annotations

import errno
import os
import socket
import struct
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from aignostics_jupyter.checksums import crc32c_bytes, crc32c_file
from aignostics_jupyter.client import Client
from aignostics_jupyter.emulator import LocalPlatform
from aignostics_jupyter.exceptions import IntegrityError, ServerError, TransportError
from aignostics_jupyter.storage import Bucket, LocalStorageBackend, _part_sender
from aignostics_jupyter.storage._local_multipart import LocalMultipartUpload, upload_id_for
from aignostics_jupyter.storage._part_sender import PartSender
from tests.client.local import local_settings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

PART = 1024 * 1024


class InterruptedUploadError(Exception):
    """Stands in for a dropped connection or Ctrl-C in the middle of an upload."""


@pytest.fixture(params=["part-endpoint", "api-port"])
def route(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Parts travel to the platform's part endpoint (as it advertises), or through the API port."""
    if request.param == "api-port":
        monkeypatch.setattr(LocalMultipartUpload, "_part_sender", lambda self, endpoint: None)
    else:
        monkeypatch.setattr(_part_sender, "CHUNK_SIZE", 1024 * 1024)  # progress per MiB, as on the API port
    return str(request.param)


@pytest.fixture
def sends(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The offsets of the parts sent to the part endpoint."""
    sent: list[int] = []
    original = PartSender.send

    def counting(self: PartSender, target: str, offset: int, *args: Any, **kwargs: Any) -> Any:
        sent.append(offset)
        return original(self, target, offset, *args, **kwargs)

    monkeypatch.setattr(PartSender, "send", counting)
    return sent


@pytest.fixture
def backend(platform: LocalPlatform, tmp_path: Path, route: str) -> Iterator[LocalStorageBackend]:
    client = Client(local_settings(platform, tmp_path / "cache"), token_provider=platform.access_token)
    local = client.bucket().backend
    assert isinstance(local, LocalStorageBackend)
    local.part_size = PART
    local.concurrency = 3
    yield local
    local.delete([o.key for o in local.ls("mp/")])  # the other route's run of the test starts afresh


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


def test_a_large_file_goes_up_in_parallel_parts(
    backend: LocalStorageBackend, big_file: Path, route: str, sends: list[int]
) -> None:
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
    assert sorted(sends) == ([i * PART for i in range(10)] if route == "part-endpoint" else [])


def test_an_interrupted_upload_sends_only_the_missing_parts(
    backend: LocalStorageBackend, tmp_path: Path, sends: list[int]
) -> None:
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
    sends.clear()
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
    assert sent.count("PUT") + len(sends) == 5 - len(stored)  # only the missing parts travel


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

    monkeypatch.setattr(direct_io, "write_all", no_space)  # both the API port and the part endpoint write with it
    with pytest.raises(ServerError, match="disk is full") as caught:
        backend.upload(big_file, "mp/g.svs", crc32c=None, on_progress=None)
    assert caught.value.status_code == 507
    assert backend.head("mp/g.svs") is None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_unreachable_part_endpoint_leaves_the_parts_to_the_api_port(
    backend: LocalStorageBackend, big_file: Path, monkeypatch: pytest.MonkeyPatch, sends: list[int]
) -> None:
    closed = f"http://127.0.0.1:{_free_port()}"  # nothing listens there (a proxy that hides the second port)
    monkeypatch.setattr(
        LocalMultipartUpload, "_part_sender", lambda self, endpoint: PartSender(closed, self.path, timeout=5)
    )
    info = backend.upload(big_file, "mp/h.svs", crc32c=None, on_progress=None)
    assert info.crc32c == crc32c_file(big_file)
    assert _read(backend, "mp/h.svs") == big_file.read_bytes()
    assert 1 <= len(sends) <= backend.concurrency  # each thread tried once, then the API port took over


def test_an_advertised_endpoint_that_is_not_a_url_is_ignored(big_file: Path) -> None:
    upload = LocalMultipartUpload(
        lambda *a, **k: None, "http://x/storage/b/k?sig", big_file, part_size=PART, concurrency=1
    )  # type: ignore[arg-type,return-value]
    assert upload._part_sender("ftp://127.0.0.1:21") is None
    assert upload._part_sender("http://127.0.0.1") is None  # no port
    assert upload._part_sender(None) is None
    assert isinstance(upload._part_sender("http://127.0.0.1:1"), PartSender)


def test_files_refusing_direct_io_are_read_the_ordinary_way(
    backend: LocalStorageBackend, big_file: Path, monkeypatch: pytest.MonkeyPatch, route: str, sends: list[int]
) -> None:
    real_open = os.open
    refused: list[str] = []

    def no_direct(path: Any, flags: int, *args: Any) -> int:
        if flags & getattr(os, "O_DIRECT", 0) and Path(path) == big_file:
            refused.append(str(path))
            raise OSError(errno.EINVAL, "Invalid argument")  # as tmpfs and some network file systems answer
        return real_open(path, flags, *args)

    monkeypatch.setattr(_part_sender.os, "open", no_direct)
    info = backend.upload(big_file, "mp/i.svs", crc32c=None, on_progress=None)
    assert info.crc32c == crc32c_file(big_file)
    assert _read(backend, "mp/i.svs") == big_file.read_bytes()
    assert len(refused) == (10 if route == "part-endpoint" else 0)


def test_a_file_that_shrinks_during_the_upload_is_reported(
    platform: LocalPlatform, backend: LocalStorageBackend, tmp_path: Path
) -> None:
    path = tmp_path / "short.bin"
    path.write_bytes(os.urandom(3 * 4096))
    endpoint = platform.services.part_endpoint
    assert endpoint is not None
    sender = PartSender(endpoint, path, timeout=5)
    signed = backend.sign("mp/j.bin", "PUT", 600)
    target = signed[signed.index("/storage/") :] + "&uploadId=shrinking-file&partOffset=0"
    try:
        with pytest.raises(IntegrityError, match="became shorter"):
            sender.send(target, 0, 5 * 4096, what="Uploading short.bin", on_chunk=lambda n: None)
        headers, _ = sender.send(target, 0, 3 * 4096, what="Uploading short.bin", on_chunk=lambda n: None)
    finally:
        sender.close()
    assert headers["x-aig-crc32c"] == crc32c_bytes(path.read_bytes())  # a fresh connection after the broken one


def test_a_connection_cut_mid_part_is_a_transport_error(tmp_path: Path) -> None:
    path = tmp_path / "part.bin"
    path.write_bytes(os.urandom(8 * 1024 * 1024))
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def hang_up() -> None:  # reads the request head and a little body, then drops the connection
        conn, _ = listener.accept()
        conn.recv(65536)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # reset, not a clean close
        conn.close()

    thread = threading.Thread(target=hang_up, daemon=True)
    thread.start()
    sender = PartSender(f"http://127.0.0.1:{port}", path, timeout=5)
    try:
        with pytest.raises(TransportError, match="failed"):
            sender.send("/storage/b/k?x=1", 0, 8 * 1024 * 1024, what="Uploading part.bin", on_chunk=lambda n: None)
    finally:
        sender.close()
        thread.join(timeout=5)
        listener.close()
