"""The part endpoint: multipart parts over a second port, with the API port's checks, answers and records."""

from __future__ import annotations

import errno
import http.client
import io
import logging
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from aignostics_jupyter.checksums import crc32c_bytes
from aignostics_jupyter.emulator import LocalPlatform, direct_io, part_endpoint
from aignostics_jupyter.emulator.app import _start_part_endpoint
from aignostics_jupyter.emulator.config import EmulatorConfig
from aignostics_jupyter.emulator.services import Services
from tests.emulator.conftest import Api

pytestmark = [pytest.mark.integration, pytest.mark.timeout(30)]


class Endpoint:
    """Raw HTTP/1.1 to the part endpoint, one keep-alive connection, plus the signed URLs a client would use."""

    def __init__(self, api: Any) -> None:
        self.api = api
        url = api.platform.services.part_endpoint
        assert url is not None
        self.url = url
        parts = urlsplit(url)
        assert parts.hostname is not None
        assert parts.port is not None
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)

    def target(self, key: str, upload_id: str = "upload-0001", offset: int | None = 0, **extra: str) -> str:
        signed = self.api.sign(key, "PUT")
        target = signed[signed.index("/storage/") :] + f"&uploadId={upload_id}"
        if offset is not None:
            target += f"&partOffset={offset}"
        return target + "".join(f"&{k}={v}" for k, v in extra.items())

    def put(self, target: str, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
        self.conn.request("PUT", target, body=body, headers=headers or {})
        response = self.conn.getresponse()
        data = response.read()
        return response.status, {**httpx.Response(200, content=data).json(), "_headers": dict(response.getheaders())}

    def parts(self, key: str, upload_id: str = "upload-0001") -> list[dict[str, Any]]:
        listing = httpx.get(self.api.sign(key, "PUT") + f"&uploadId={upload_id}").json()
        assert listing["part_endpoint"] == self.url
        parts: list[dict[str, Any]] = listing["parts"]
        return parts


@pytest.fixture
def endpoint(api: Any) -> Iterator[Endpoint]:
    client = Endpoint(api)
    yield client
    client.conn.close()


def _wait_for_parts(endpoint: Endpoint, key: str, upload_id: str = "upload-0001") -> list[dict[str, Any]]:
    deadline = time.monotonic() + 5  # the endpoint notices a dropped sender on its own thread
    while time.monotonic() < deadline:
        parts = endpoint.parts(key, upload_id)
        if parts:
            return parts
        time.sleep(0.05)
    return endpoint.parts(key, upload_id)


def test_parts_sent_to_the_endpoint_complete_on_the_api_port(endpoint: Endpoint) -> None:
    first, last = os.urandom(3 * 4096), os.urandom(1000)
    status, body = endpoint.put(endpoint.target("pe/a.bin", offset=0), first)
    assert status == 200
    assert body["_headers"]["x-aig-crc32c"] == crc32c_bytes(first)
    assert {k: v for k, v in body.items() if k != "_headers"} == {
        "offset": 0,
        "size": len(first),
        "crc32c": crc32c_bytes(first),
    }
    # the same connection carries the next part (keep-alive), verified against the checksum it declares
    status, _ = endpoint.put(endpoint.target("pe/a.bin", offset=len(first)), last, {"x-aig-crc32c": crc32c_bytes(last)})
    assert status == 200
    assert [p["offset"] for p in endpoint.parts("pe/a.bin")] == [0, len(first)]

    done = httpx.post(
        endpoint.api.sign("pe/a.bin", "PUT") + "&uploadId=upload-0001",
        json={"size": len(first) + len(last), "crc32c": crc32c_bytes(first + last)},
    )
    assert done.status_code == 200, done.text
    assert httpx.get(endpoint.api.sign("pe/a.bin")).content == first + last


@pytest.mark.parametrize(
    ("change", "status", "detail"),
    [
        ("unsigned", 403, "not signed"),
        ("other-bucket", 404, "no such bucket"),
        ("no-upload-id", 400, "uploadId is missing"),
        ("bad-offset", 400, "integer partOffset"),
        ("unaligned", 400, "multiple of 4096"),
        ("bad-upload-id", 400, "upload_id"),
        ("wrong-crc", 400, "x-aig-crc32c says"),
        ("not-storage", 404, "not a storage object URL"),
    ],
)
def test_refusals_name_the_problem_and_keep_the_connection(
    endpoint: Endpoint, change: str, status: int, detail: str
) -> None:
    body = os.urandom(2 * 1024 * 1024)  # a refused body is read to the end, so the sender sees the answer
    target = endpoint.target("pe/b.bin")
    headers: dict[str, str] = {}
    if change == "unsigned":
        target = "/storage/" + target.split("/storage/", 1)[1].split("?", 1)[0] + "?uploadId=u-0001&partOffset=0"
    elif change == "other-bucket":
        target = target.replace("/storage/", "/storage/no-such-bucket-", 1)
    elif change == "no-upload-id":
        target = endpoint.api.sign("pe/b.bin", "PUT")
        target = target[target.index("/storage/") :]
    elif change == "bad-offset":
        target = endpoint.target("pe/b.bin", offset=None, partOffset="first")
    elif change == "unaligned":
        target = endpoint.target("pe/b.bin", offset=100)
    elif change == "bad-upload-id":
        target = endpoint.target("pe/b.bin", upload_id="../../x")
    elif change == "wrong-crc":
        headers["x-aig-crc32c"] = crc32c_bytes(b"other bytes")
    elif change == "not-storage":
        target = "/api/v1/runs"
    answer, reply = endpoint.put(target, body, headers)
    assert answer == status
    assert detail in reply["detail"]
    assert endpoint.parts("pe/b.bin") == []  # nothing was recorded
    answer, _ = endpoint.put(endpoint.target("pe/b.bin"), b"x" * 4096)  # the connection carries on
    assert answer == 200


def test_requests_it_does_not_serve(endpoint: Endpoint) -> None:
    for method in ("GET", "POST", "DELETE", "HEAD"):
        endpoint.conn.request(method, endpoint.target("pe/c.bin"))
        response = endpoint.conn.getresponse()
        response.read()
        assert response.status == 405
        endpoint.conn.close()  # the endpoint closes after a refused method
    with socket.create_connection(_address(endpoint)) as raw:
        raw.sendall(
            f"PUT {endpoint.target('pe/c.bin')} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
        )
        assert b" 411 " in raw.recv(65536).split(b"\r\n", 1)[0]
    with socket.create_connection(_address(endpoint)) as raw:
        raw.sendall(f"PUT {endpoint.target('pe/c.bin')} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        assert b" 411 " in raw.recv(65536).split(b"\r\n", 1)[0]


def _address(endpoint: Endpoint) -> tuple[str, int]:
    parts = urlsplit(endpoint.url)
    assert parts.hostname is not None
    assert parts.port is not None
    return parts.hostname, parts.port


def test_a_sender_that_hangs_up_mid_part_leaves_no_part(endpoint: Endpoint) -> None:
    with socket.create_connection(_address(endpoint)) as raw:
        head = f"PUT {endpoint.target('pe/d.bin')} HTTP/1.1\r\nHost: x\r\nContent-Length: {1024 * 1024}\r\n\r\n"
        raw.sendall(head.encode() + os.urandom(300_000))
    time.sleep(0.3)
    assert endpoint.parts("pe/d.bin") == []
    answer, _ = endpoint.put(endpoint.target("pe/d.bin"), b"y" * 4096)  # and the endpoint serves on
    assert answer == 200
    assert len(_wait_for_parts(endpoint, "pe/d.bin")) == 1


def test_a_silent_sender_is_dropped(endpoint: Endpoint, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(part_endpoint._Handler, "timeout", 1)
    with socket.create_connection(_address(endpoint)) as raw:
        head = f"PUT {endpoint.target('pe/e.bin')} HTTP/1.1\r\nHost: x\r\nContent-Length: 10000\r\n\r\n"
        raw.sendall(head.encode() + b"z" * 100)
        raw.settimeout(10)
        started = time.monotonic()
        assert raw.recv(100) == b""  # closed by the endpoint, without an answer
        assert time.monotonic() - started < 8
    assert endpoint.parts("pe/e.bin") == []


def test_a_full_disk_is_a_507_the_sender_can_read(endpoint: Endpoint, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_space(fd: int, view: memoryview, position: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(direct_io, "write_all", no_space)
    answer, reply = endpoint.put(endpoint.target("pe/f.bin"), os.urandom(3 * 1024 * 1024))
    assert answer == 507
    assert "disk is full" in reply["detail"]
    assert endpoint.parts("pe/f.bin") == []


def test_receive_part_stops_at_a_short_stream(tmp_path: Path) -> None:
    stream = io.BytesIO(b"abc")
    with pytest.raises(ConnectionError, match="stopped after 3 of 10 bytes"):
        part_endpoint.receive_part(stream.readinto, 10, tmp_path / "part", 0, memoryview(bytearray(2)))


def test_the_endpoint_follows_the_configuration(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    off = Services.open(EmulatorConfig(data_dir=tmp_path / "a", public_url="http://127.0.0.1:1", part_endpoint=False))
    none = Services.open(EmulatorConfig(data_dir=tmp_path / "b"))
    # an address of another machine (TEST-NET-1): nothing can be bound there
    remote = Services.open(EmulatorConfig(data_dir=tmp_path / "c", public_url="http://192.0.2.1:8123"))
    try:
        assert _start_part_endpoint(off) is None
        assert _start_part_endpoint(none) is None
        with caplog.at_level(logging.WARNING):
            assert _start_part_endpoint(remote) is None
        assert "multipart uploads go through the API port" in caplog.text
        assert remote.part_endpoint is None
    finally:
        for services in (off, none, remote):
            services.close()


def test_the_listing_names_the_endpoint_only_while_it_serves(tmp_path: Path) -> None:
    with LocalPlatform(tmp_path / "p", runner_enabled=False) as platform:
        url = platform.services.part_endpoint
        assert url is not None
        assert urlsplit(url).hostname == "127.0.0.1"
        assert urlsplit(url).port != platform.port
    assert platform.services.part_endpoint is None
    with pytest.raises(OSError):  # noqa: PT011 - refused, whatever the errno spelling
        socket.create_connection(("127.0.0.1", urlsplit(url).port or 0), timeout=2).close()


def test_signed_queries_stay_out_of_the_log(endpoint: Endpoint, caplog: pytest.LogCaptureFixture) -> None:
    target = endpoint.target("pe/g.bin")
    with caplog.at_level(logging.DEBUG, logger="aignostics_jupyter.emulator.part_endpoint"):
        assert endpoint.put(target, b"q" * 4096)[0] == 200
        endpoint.conn.request("GET", target)
        endpoint.conn.getresponse().read()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "/storage/" in logged  # requests are logged...
    signature = target.split("?", 1)[1]
    assert signature not in logged  # ...without their signed query
    assert "X-Aig" not in logged


def test_stopping_cuts_parts_in_flight(tmp_path: Path) -> None:
    with LocalPlatform(tmp_path / "p", runner_enabled=False) as platform:
        endpoint = Endpoint(Api(platform))
        raw = socket.create_connection(_address(endpoint))
        head = f"PUT {endpoint.target('pe/h.bin')} HTTP/1.1\r\nHost: x\r\nContent-Length: {1 << 20}\r\n\r\n"
        raw.sendall(head.encode() + b"w" * 1000)
        time.sleep(0.2)
        started = time.monotonic()
    assert time.monotonic() - started < 5  # the half-sent part did not hold the shutdown up
    raw.settimeout(5)
    assert raw.recv(100) == b""
    raw.close()
