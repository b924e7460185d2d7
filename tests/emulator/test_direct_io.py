"""The direct-I/O upload writer: exact bytes for every size and chunking, fallback, and clean failure."""

from __future__ import annotations

import asyncio
import errno
import os
import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from aignostics_jupyter.checksums import crc32c_bytes
from aignostics_jupyter.emulator.blobstore import BlobStore, ChecksumMismatchError
from aignostics_jupyter.emulator.db import Database
from aignostics_jupyter.emulator.direct_io import DirectFileWriter

pytestmark = pytest.mark.integration

SMALL_BUFFER = 64 * 1024  # several buffer turns with small test files


async def _write(path: Path, data: bytes, chunks: list[int], *, direct: bool, buffer_size: int) -> bool:
    writer = DirectFileWriter(path, direct=direct, buffer_size=buffer_size)
    offset = 0
    for size in chunks:
        await writer.write(data[offset : offset + size])
        offset += size
    await writer.close()
    return writer.direct


def _chunks(total: int, rng: random.Random) -> list[int]:
    sizes: list[int] = []
    while total > 0:
        size = min(total, rng.choice([1, 7, 4096, 65536, 100_000, 300_000]))
        sizes.append(size)
        total -= size
    return sizes


@pytest.mark.parametrize(
    "size", [0, 1, 4095, 4096, 4097, SMALL_BUFFER - 1, SMALL_BUFFER, 3 * SMALL_BUFFER + 5, 1 << 20]
)
@pytest.mark.parametrize("direct", [True, False])
def test_the_file_holds_exactly_the_bytes_written(tmp_path: Path, size: int, direct: bool) -> None:
    data = os.urandom(size)
    path = tmp_path / "object"
    asyncio.run(_write(path, data, _chunks(size, random.Random(size)), direct=direct, buffer_size=SMALL_BUFFER))
    assert path.read_bytes() == data


def test_a_file_system_refusing_direct_io_gets_buffered_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_open = os.open

    def refusing(path: str, flags: int, mode: int = 0o777) -> int:
        if flags & getattr(os, "O_DIRECT", 0):
            raise OSError(errno.EINVAL, "Invalid argument")
        return real_open(path, flags, mode)

    data = os.urandom(2 * SMALL_BUFFER + 99)
    monkeypatch.setattr(os, "open", refusing)
    used = asyncio.run(_write(tmp_path / "obj", data, [len(data)], direct=True, buffer_size=SMALL_BUFFER))
    monkeypatch.undo()
    assert used is False
    assert (tmp_path / "obj").read_bytes() == data


def test_other_open_errors_are_not_hidden(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        DirectFileWriter(tmp_path / "missing-dir" / "obj")


def test_a_buffer_size_that_is_not_block_aligned_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="multiple of 4096"):
        DirectFileWriter(tmp_path / "x", buffer_size=5000)


def test_abort_closes_the_file_while_a_write_is_in_flight(tmp_path: Path) -> None:
    async def scenario() -> None:
        writer = DirectFileWriter(tmp_path / "partial", buffer_size=SMALL_BUFFER)
        await writer.write(os.urandom(SMALL_BUFFER * 2 + 10))  # two buffer writes started
        writer.abort()
        writer.abort()  # twice is harmless
        await asyncio.sleep(0.05)  # let the in-flight write finish and release

    asyncio.run(scenario())
    (tmp_path / "partial").unlink()


def _store(tmp_path: Path) -> BlobStore:
    return BlobStore(tmp_path / "buckets", tmp_path / "tmp", Database(tmp_path / "db.sqlite"))


async def _body(data: bytes, fail_after: int | None = None) -> AsyncIterator[bytes]:
    step = 100_000
    for offset in range(0, len(data), step):
        if fail_after is not None and offset >= fail_after:
            raise ConnectionResetError("the client went away")
        yield data[offset : offset + step]


def test_a_dropped_upload_leaves_nothing_behind(tmp_path: Path) -> None:
    store = _store(tmp_path)
    data = os.urandom(3 * 1024 * 1024)
    with pytest.raises(ConnectionResetError):
        asyncio.run(store.put_stream("b", "k.bin", _body(data, fail_after=2_000_000)))
    assert list((tmp_path / "tmp").iterdir()) == []
    assert store.info("b", "k.bin") is None

    info = asyncio.run(store.put_stream("b", "k.bin", _body(data), expected_crc32c=crc32c_bytes(data)))
    assert info.size == len(data)
    assert store.path_for("b", "k.bin").read_bytes() == data
    with pytest.raises(ChecksumMismatchError):
        asyncio.run(store.put_stream("b", "k.bin", _body(data[:-1]), expected_crc32c=crc32c_bytes(data)))
    assert store.path_for("b", "k.bin").read_bytes() == data  # the stored object is untouched
    assert list((tmp_path / "tmp").iterdir()) == []
