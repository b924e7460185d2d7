"""Blocking sockets whose timeouts the kernel keeps: for moving bulk data with as few system calls as possible.

Python implements a socket's timeout by polling before every ``send`` and ``recv``, and a socket with a timeout is
non-blocking underneath, so ``sendall`` of 4 MiB becomes many small sends and ``MSG_WAITALL`` has no effect. A
blocking socket with ``SO_SNDTIMEO``/``SO_RCVTIMEO`` moves a whole buffer per call and still gives up on a silent
peer: the call then fails with :class:`BlockingIOError` (EAGAIN) or, on Windows, :class:`TimeoutError`.
"""

from __future__ import annotations

import socket
import struct
import sys

__all__ = ["WAITALL", "use_kernel_timeouts"]

#: ``recv`` flag to fill the whole buffer (0 where the platform lacks it: the caller then gets partial reads).
WAITALL = getattr(socket, "MSG_WAITALL", 0)


def use_kernel_timeouts(sock: socket.socket, seconds: float) -> None:
    """Make ``sock`` blocking, with send and receive timeouts of ``seconds`` kept by the kernel (0: none)."""
    sock.settimeout(None)
    whole = int(seconds)
    for option in (socket.SO_RCVTIMEO, socket.SO_SNDTIMEO):
        if sys.platform == "win32":  # pragma: no cover - a DWORD of milliseconds there
            sock.setsockopt(socket.SOL_SOCKET, option, int(seconds * 1000))
        else:  # a struct timeval
            sock.setsockopt(socket.SOL_SOCKET, option, struct.pack("@ll", whole, int((seconds - whole) * 1e6)))
