"""The bucket server: signed PUT/GET/HEAD/DELETE/LIST, Range, CRC32C checks, expiry, tampering, escapes."""

from __future__ import annotations

import os
from typing import Any

import httpx
import pytest

from aignostics_jupyter.checksums import crc32c_bytes
from aignostics_jupyter.emulator.identity import INTERNAL_BUCKET

pytestmark = pytest.mark.integration


def test_put_get_range_head_list_delete(api: Any) -> None:
    data = os.urandom(300_000)
    put = httpx.put(api.sign("dir/a.bin", "PUT"), content=data, headers={"x-aig-crc32c": crc32c_bytes(data)})
    assert put.status_code == 200
    assert put.json() == {**put.json(), "key": "dir/a.bin", "size": len(data), "crc32c": crc32c_bytes(data)}

    url = api.sign("dir/a.bin")
    full = httpx.get(url)
    assert full.content == data
    assert full.headers["x-aig-crc32c"] == crc32c_bytes(data)
    part = httpx.get(url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.content == data[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(data)}"
    tail = httpx.get(url, headers={"Range": "bytes=-10"})
    assert tail.content == data[-10:]
    head = httpx.head(url)
    assert head.status_code == 200
    assert int(head.headers["content-length"]) == len(data)
    assert head.content == b""

    httpx.put(api.sign("dir/sub/b.txt", "PUT"), content=b"hello")
    httpx.put(api.sign("other/c.txt", "PUT"), content=b"x")
    listing = httpx.get(api.sign("dir/", "LIST")).json()
    assert [o["key"] for o in listing] == ["dir/a.bin", "dir/sub/b.txt"]
    assert listing[1] == {**listing[1], "size": 5, "crc32c": crc32c_bytes(b"hello")}
    assert len(httpx.get(api.sign("", "LIST")).json()) == 3

    assert httpx.delete(api.sign("dir/a.bin", "DELETE")).status_code == 204
    assert httpx.get(url).status_code == 404
    assert httpx.delete(api.sign("dir/a.bin", "DELETE")).status_code == 404


def test_streamed_upload_of_unknown_length(api: Any) -> None:
    chunks = [os.urandom(1024 * 1024) for _ in range(3)]
    response = httpx.put(api.sign("big.bin", "PUT"), content=iter(chunks))
    assert response.status_code == 200
    assert response.json()["size"] == 3 * 1024 * 1024
    assert httpx.get(api.sign("big.bin")).content == b"".join(chunks)


def test_crc_mismatch_is_rejected_and_nothing_is_kept(api: Any) -> None:
    response = httpx.put(api.sign("bad.bin", "PUT"), content=b"abc", headers={"x-aig-crc32c": crc32c_bytes(b"xyz")})
    assert response.status_code == 400
    assert "CRC32C" in response.json()["detail"]
    assert httpx.get(api.sign("bad.bin")).status_code == 404
    assert httpx.get(api.sign("", "LIST")).json() == []
    assert list((api.platform.config.data_dir / "tmp").iterdir()) == []


def test_expired_tampered_and_wrong_method_urls_are_forbidden(api: Any) -> None:
    httpx.put(api.sign("k.txt", "PUT"), content=b"data")
    expired = httpx.get(api.sign("k.txt", expires_in=-5))
    assert expired.status_code == 403
    assert "expired" in expired.json()["detail"]
    good = api.sign("k.txt")
    tampered = good.replace("X-Aig-Signature=", "X-Aig-Signature=0")
    assert httpx.get(tampered).status_code == 403
    assert httpx.get(good.replace("k.txt", "k2.txt")).status_code == 403
    assert httpx.delete(good).status_code == 403  # signed for GET, not DELETE
    assert httpx.get(good.split("?")[0]).status_code == 403
    assert httpx.put(api.sign("k.txt"), content=b"overwrite").status_code == 403
    assert httpx.get(good).content == b"data"


def test_keys_cannot_escape_the_bucket(api: Any) -> None:
    for key in ("../escape.txt", "a/../../escape.txt", "a/./b"):
        url = api.sign(key, "PUT")
        # Percent-encoded dots survive URL normalisation and reach the server as "..".
        dotted = "/".join({"..": "%2E%2E", ".": "%2E"}.get(part, part) for part in key.split("/"))
        encoded = url.replace(key, dotted, 1)
        response = httpx.put(encoded, content=b"x")
        assert response.status_code == 400, key
        assert "escape" in response.json()["detail"] or "invalid" in response.json()["detail"]
        plain = httpx.put(url, content=b"x")  # normalised by the client: lands elsewhere, never outside
        assert plain.status_code in (403, 405)
    assert not (api.platform.config.data_dir / "buckets" / "escape.txt").exists()
    assert not (api.platform.config.data_dir / "escape.txt").exists()
    assert httpx.get(api.sign("../", "LIST")).status_code == 400


def test_unknown_bucket_and_internal_bucket(api: Any) -> None:
    assert httpx.get(api.sign("a.txt", bucket="no-such-bucket")).status_code == 404
    # The organization's key pair does not open the platform-internal area.
    assert httpx.get(api.sign("documents/x", bucket=INTERNAL_BUCKET)).status_code == 403
