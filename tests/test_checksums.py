from __future__ import annotations

import base64
import io
import os
import random
from pathlib import Path

import pytest

from aignostics_jupyter.checksums import (
    Crc32c,
    crc32c_base64,
    crc32c_bytes,
    crc32c_combine,
    crc32c_file,
    crc32c_stream,
    crc32c_value,
)

pytestmark = pytest.mark.unit


def test_known_vector() -> None:
    # CRC32C("123456789") = 0xE3069283 (the standard check value), sent as big-endian base64.
    assert crc32c_bytes(b"123456789") == base64.b64encode(bytes.fromhex("e3069283")).decode()
    assert Crc32c().base64() == "AAAAAA=="


def test_streaming_equals_whole(tmp_path: Path) -> None:
    data = bytes(range(256)) * 5000
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    running = Crc32c()
    for start in range(0, len(data), 777):
        running.update(memoryview(data)[start : start + 777])

    assert running.base64() == crc32c_bytes(data)
    assert crc32c_file(path, chunk_size=1000) == crc32c_bytes(data)
    assert crc32c_stream(io.BytesIO(data)) == crc32c_bytes(data)
    assert running.value == int.from_bytes(base64.b64decode(crc32c_bytes(data)), "big")


@pytest.mark.parametrize("second_length", [0, 1, 3, 4096, 100_003, 32 * 1024 * 1024])
def test_checksums_of_parts_combine_into_the_whole(second_length: int) -> None:
    rng = random.Random(second_length)
    first = rng.randbytes(1234)
    second = rng.randbytes(second_length)
    combined = crc32c_combine(crc32c_value(first), crc32c_value(second), len(second))
    assert combined == crc32c_value(first + second)
    assert crc32c_base64(combined) == crc32c_bytes(first + second)


def test_many_parts_combine_in_order() -> None:
    parts = [os.urandom(n) for n in (4096, 4096, 4096, 17)]
    whole = 0
    for part in parts:
        whole = crc32c_combine(whole, crc32c_value(part), len(part))
    assert whole == crc32c_value(b"".join(parts))
    assert whole != crc32c_value(b"".join(reversed(parts)))
