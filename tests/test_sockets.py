"""Blocking sockets with kernel-kept timeouts: whole buffers per call, and a silent peer still ends the wait."""

from __future__ import annotations

import socket
import time

import pytest

from aignostics_jupyter._sockets import WAITALL, use_kernel_timeouts

pytestmark = pytest.mark.unit


def test_a_silent_peer_ends_the_wait() -> None:
    left, right = socket.socketpair()
    with left, right:
        left.settimeout(30)
        use_kernel_timeouts(left, 0.3)
        assert left.gettimeout() is None  # blocking for Python; the kernel keeps the time
        started = time.monotonic()
        with pytest.raises((BlockingIOError, TimeoutError)):
            left.recv(10)
        assert 0.2 < time.monotonic() - started < 5


def test_waitall_fills_the_buffer_from_several_sends() -> None:
    left, right = socket.socketpair()
    with left, right:
        use_kernel_timeouts(left, 5)
        right.sendall(b"abc")
        right.sendall(b"defgh")
        buffer = bytearray(8)
        assert left.recv_into(buffer, 8, WAITALL) == 8
        assert bytes(buffer) == b"abcdefgh"
        use_kernel_timeouts(left, 0)  # no timeout: waits as long as it takes
        right.sendall(b"x")
        assert left.recv(1) == b"x"
