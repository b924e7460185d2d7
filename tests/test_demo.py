"""`aignostics-jupyter demo`: local platform + slides + JupyterLab, one URL, Ctrl-C stops all, reruns reuse."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from aignostics_jupyter import demo

URL = re.compile(r"Open (http://127\.0\.0\.1:(\d+)/)lab/tree/notebooks\?token=(\w+)")


def start_demo(directory: Path) -> subprocess.Popen[str]:
    command = [
        sys.executable,
        "-m",
        "aignostics_jupyter.cli",
        "demo",
        "--dir",
        str(directory),
        "--small",
        "--port",
        "0",
        "--platform-port",
        "0",
    ]
    return subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def read_until_url(process: subprocess.Popen[str], timeout: float) -> tuple[list[str], re.Match[str]]:
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        found = URL.search(line)
        if found:
            return lines, found
    raise AssertionError("no URL printed:\n" + "".join(lines))


def get_json(url: str) -> object:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def stop(process: subprocess.Popen[str]) -> int:
    process.send_signal(signal.SIGINT)
    return process.wait(timeout=60)


@pytest.mark.e2e
@pytest.mark.timeout(300)
def test_demo_starts_everything_and_reuses_it(tmp_path: Path) -> None:
    directory = tmp_path / "demo"

    first = start_demo(directory)
    try:
        lines, found = read_until_url(first, 240)
        root, token = found.group(1), found.group(3)
        assert get_json(f"{root}api/status?token={token}")
        listing = get_json(f"{root}api/contents/slides/small?token={token}")
        assert isinstance(listing, dict)
        names = sorted(entry["name"] for entry in listing["content"])
        assert [n for n in names if n.endswith(".svs")] == ["sample-1000.svs", "sample-1001.svs", "sample-1002.svs"]
        health = get_json(f"{root}aignostics-jupyter/api/health?token={token}")
        assert isinstance(health, dict)
        platform = health["components"]["platform"]
        assert platform["status"] == "ok", platform
        assert platform["local"] is True
        assert any("generating" in line for line in lines)
    finally:
        assert stop(first) == 0

    started = time.monotonic()
    second = start_demo(directory)
    try:
        lines, _ = read_until_url(second, 120)
        assert not any("generating" in line for line in lines)
        assert time.monotonic() - started < 60
    finally:
        assert stop(second) == 0


@pytest.mark.unit
def test_free_port_falls_back_when_taken() -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        taken.listen()
        assert demo.free_port(port) != port


@pytest.mark.unit
def test_wait_for_http_fails_fast_when_process_exits() -> None:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()

    with pytest.raises(RuntimeError, match="exited with status 0"):
        demo.wait_for_http("http://127.0.0.1:9/", process, 5, "the thing")


@pytest.mark.unit
def test_quiet_lab_settings_are_written_once(tmp_path: Path) -> None:
    settings = demo.quiet_lab_settings(tmp_path / "lab-settings")
    notification = settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"

    assert json.loads(notification.read_text()) == {"fetchNews": "false", "checkForUpdates": False}
    notification.write_text('{"fetchNews": "true"}')
    demo.quiet_lab_settings(tmp_path / "lab-settings")
    assert json.loads(notification.read_text()) == {"fetchNews": "true"}
