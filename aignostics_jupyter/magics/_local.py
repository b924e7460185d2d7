"""``%aignostics local start|stop|status``: a local platform subprocess owned by this kernel.

``start`` runs ``python -m aignostics_jupyter.emulator`` on a free loopback port, waits until it answers, then
points this kernel at it: it sets the ``AIGNOSTICS_*`` variables of :func:`~aignostics_jupyter.emulator.platform.
client_env` in the kernel's environment (remembering the previous values) and reloads the settings. ``stop``
(also run when the kernel exits) ends the process and restores the previous settings.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from aignostics_jupyter.exceptions import ConflictError, TransportError
from aignostics_jupyter.magics._results import Record
from aignostics_jupyter.settings import get_settings
from aignostics_jupyter.widgets._platform import reset_platform_client

__all__ = ["LocalProcess", "current", "start", "status", "stop"]

_SERVING = re.compile(r"serving at (http://\S+)")
_START_TIMEOUT = 60.0
# Settings that would point a client elsewhere (or log it in elsewhere) while the local platform is in use.
_CLEARED = ("AIGNOSTICS_REFRESH_TOKEN", "AIGNOSTICS_BUCKET_NAME", "AIGNOSTICS_BUCKET_HMAC_ACCESS_KEY_ID")


@dataclass
class LocalProcess:
    """A running local platform started by this kernel."""

    process: subprocess.Popen[bytes]
    api_root: str
    data_dir: Path
    log_path: Path
    previous_env: dict[str, str | None] = field(default_factory=dict)


_current: LocalProcess | None = None


def current() -> LocalProcess | None:
    """The local platform this kernel started, if it still runs."""
    if _current is not None and _current.process.poll() is None:
        return _current
    return None


def _wait_for_root(process: subprocess.Popen[bytes], log_path: Path) -> str:
    deadline = time.monotonic() + _START_TIMEOUT
    while time.monotonic() < deadline:
        text = log_path.read_text(encoding="utf-8", errors="replace") if log_path.exists() else ""
        match = _SERVING.search(text)
        if match:
            return match.group(1)
        if process.poll() is not None:
            last = " ".join(text.strip().splitlines()[-1:]) or f"exit status {process.returncode}"
            msg = f"The local platform did not start: {last}"
            raise TransportError(msg)
        time.sleep(0.1)
    process.terminate()
    raise TransportError(f"The local platform did not start within {_START_TIMEOUT:g} s (log: {log_path})")


def _wait_healthy(api_root: str) -> None:
    deadline = time.monotonic() + _START_TIMEOUT
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{api_root}/api/v1/health", timeout=2).status_code == 200:
                return
        time.sleep(0.1)
    raise TransportError(f"The local platform at {api_root} did not answer its health check")


def _point_at(api_root: str) -> dict[str, str | None]:
    from aignostics_jupyter.emulator.platform import client_env

    values = client_env(api_root)
    previous = {name: os.environ.get(name) for name in (*values, *_CLEARED)}
    for name in _CLEARED:
        os.environ.pop(name, None)
    os.environ.update(values)
    get_settings(reload=True)
    reset_platform_client()
    return previous


def _restore(previous: dict[str, str | None]) -> None:
    for name, value in previous.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    get_settings(reload=True)
    reset_platform_client()


def start(args: argparse.Namespace, cell: str | None = None) -> Record[LocalProcess | None]:
    """Start the local platform in the background and point this kernel at it."""
    global _current  # noqa: PLW0603 - one local platform per kernel
    if current() is not None:
        assert _current is not None
        msg = f"The local platform already runs at {_current.api_root}; %aignostics local stop first"
        raise ConflictError(msg)
    data_dir = Path(args.data_dir).expanduser() if args.data_dir else get_settings().local_data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / "local-platform.log"
    command = [
        sys.executable,
        "-m",
        "aignostics_jupyter.emulator",
        "--port",
        str(args.port),
        "--data-dir",
        str(data_dir),
    ]
    if args.auto_approve:
        command.append("--auto-approve")
    if args.synthetic:
        command += ["--analyser", "synthetic"]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        api_root = _wait_for_root(process, log_path)
        _wait_healthy(api_root)
    except BaseException:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=10)
        raise
    _current = LocalProcess(process, api_root, data_dir, log_path, _point_at(api_root))
    atexit.register(_stop_at_exit)
    print(f"The local platform runs at {api_root}; this kernel now uses it (%aignostics login to log in).")
    return status(args)


def stop(args: argparse.Namespace | None = None, cell: str | None = None) -> None:
    """Stop the local platform this kernel started and restore the previous settings."""
    global _current  # noqa: PLW0603
    running = _current
    if running is None:
        print("No local platform was started by this kernel.")
        return
    _current = None
    if running.process.poll() is None:
        running.process.terminate()
        try:
            running.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            running.process.kill()
            running.process.wait(timeout=10)
    _restore(running.previous_env)
    print(f"Stopped the local platform at {running.api_root}; this kernel uses {get_settings().api_root} again.")


def _stop_at_exit() -> None:
    with contextlib.suppress(Exception), contextlib.redirect_stdout(None):
        stop()


def status(args: argparse.Namespace | None = None, cell: str | None = None) -> Record[LocalProcess | None]:
    """Whether the local platform runs, where, and which API root this kernel uses."""
    running = current()
    fields = {
        "running": running is not None,
        "api root": running.api_root if running else "",
        "pid": running.process.pid if running else "",
        "data dir": str(running.data_dir) if running else "",
        "log": str(running.log_path) if running else "",
        "this kernel uses": get_settings().api_root,
    }
    return Record(running, fields, title="Local platform")
