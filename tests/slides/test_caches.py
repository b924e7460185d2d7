from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from aignostics_jupyter.slides.byte_cache import ByteLRUCache
from aignostics_jupyter.slides.handle_cache import HandleCache

pytestmark = pytest.mark.unit


class FakeHandle:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.content = path.read_bytes()
        self.closed = 0

    def close(self) -> None:
        self.closed += 1


@pytest.fixture
def files(tmp_path: Path) -> list[Path]:
    paths = []
    for i in range(4):
        path = tmp_path / f"f{i}.bin"
        path.write_bytes(b"v1")
        paths.append(path)
    return paths


# ----------------------------------------------------------------------------------------------- bytes


def test_byte_cache_is_bounded_in_bytes_and_lru() -> None:
    cache = ByteLRUCache(max_bytes=100)
    cache.put("a", b"a" * 40)
    cache.put("b", b"b" * 40)
    assert cache.get("a") == b"a" * 40  # a is now most recent
    cache.put("c", b"c" * 40)  # evicts b
    assert "b" not in cache
    assert cache.get("b") is None
    assert set(cache._entries) == {"a", "c"}
    assert cache.nbytes == 80
    stats = cache.stats()
    assert (stats.hits, stats.misses, stats.evictions, stats.entries) == (1, 1, 1, 2)


def test_byte_cache_replaces_and_refuses_oversized_values() -> None:
    cache = ByteLRUCache(max_bytes=10)
    cache.put("a", b"12345")
    cache.put("a", b"123")
    assert cache.nbytes == 3
    cache.put("a", b"x" * 11)  # too large: the old value goes too
    assert "a" not in cache
    assert cache.nbytes == 0
    assert cache.pop("missing") is None
    cache.put("b", b"12")
    assert cache.pop("b") == b"12"
    cache.put("c", b"1")
    cache.clear()
    assert len(cache) == 0
    with pytest.raises(ValueError, match="negative"):
        ByteLRUCache(-1)


def test_byte_cache_zero_disables() -> None:
    cache = ByteLRUCache(0)
    cache.put("a", b"1")
    assert cache.get("a") is None


def test_byte_cache_is_thread_safe() -> None:
    cache = ByteLRUCache(max_bytes=5_000)

    def work(offset: int) -> None:
        for i in range(2_000):
            cache.put((offset, i % 300), bytes(10 + i % 7))
            cache.get((offset, (i * 7) % 300))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert cache.nbytes == sum(len(v) for v in cache._entries.values())
    assert cache.nbytes <= 5_000


# ----------------------------------------------------------------------------------------------- handles


def test_handle_cache_reuses_and_evicts_lru(files: list[Path]) -> None:
    cache: HandleCache[FakeHandle] = HandleCache(FakeHandle, max_open=2)
    first = cache.get(files[0])
    assert cache.get(files[0]) is first
    second = cache.get(files[1])
    cache.get(files[0])  # files[0] most recent
    cache.get(files[2])  # evicts files[1]
    assert second.closed == 1
    assert first.closed == 0
    assert files[1] not in cache
    assert files[0] in cache
    assert len(cache) == 2
    assert cache.opens == 3


def test_handle_cache_reopens_changed_files(files: list[Path]) -> None:
    cache: HandleCache[FakeHandle] = HandleCache(FakeHandle, max_open=4)
    old = cache.get(files[0])
    files[0].write_bytes(b"version 2")  # size changes
    new = cache.get(files[0])
    assert new is not old
    assert old.closed == 1
    assert new.content == b"version 2"
    stat = files[0].stat()
    os.utime(files[0], ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))  # only mtime changes
    assert cache.get(files[0]) is not new
    assert new.closed == 1


def test_handle_cache_never_closes_a_leased_handle(files: list[Path]) -> None:
    cache: HandleCache[FakeHandle] = HandleCache(FakeHandle, max_open=1)
    with cache.lease(files[0]) as handle:
        cache.get(files[1])  # evicts files[0] while leased
        assert handle.closed == 0
    assert handle.closed == 1
    with cache.lease(files[1]) as other:
        cache.close_all()
        assert other.closed == 0
    assert other.closed == 1


def test_handle_cache_discard_and_missing(files: list[Path]) -> None:
    cache: HandleCache[FakeHandle] = HandleCache(FakeHandle)
    handle = cache.get(files[0])
    cache.discard(files[0])
    assert handle.closed == 1
    cache.discard(files[0])  # nothing left: no error
    files[1].unlink()
    with pytest.raises(FileNotFoundError):
        cache.get(files[1])
    with pytest.raises(ValueError, match="at least 1"):
        HandleCache(FakeHandle, max_open=0)


def test_handle_cache_deleted_file_closes_old_handle(files: list[Path]) -> None:
    cache: HandleCache[FakeHandle] = HandleCache(FakeHandle)
    handle = cache.get(files[2])
    files[2].unlink()
    with pytest.raises(FileNotFoundError):
        cache.get(files[2])
    assert handle.closed == 1


def test_handle_cache_threads(files: list[Path]) -> None:
    cache: HandleCache[FakeHandle] = HandleCache(FakeHandle, max_open=2)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for i in range(300):
                with cache.lease(files[i % 4]) as handle:
                    assert handle.closed == 0
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(cache) <= 2
