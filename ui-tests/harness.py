"""Real processes for browser tests: a JupyterLab server at a hub-style base URL, and Debian's Chromium."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"


def free_port() -> int:
    """Return a free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _lab_settings(settings_dir: Path, theme: str) -> None:
    """Quiet, reproducible lab settings: no news or update toasts, a fixed theme."""
    notification = settings_dir / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    notification.parent.mkdir(parents=True, exist_ok=True)
    notification.write_text(json.dumps({"checkForUpdates": False, "fetchNews": "false"}))
    themes = settings_dir / "@jupyterlab" / "apputils-extension" / "themes.jupyterlab-settings"
    themes.write_text(json.dumps({"theme": theme}))


@dataclass
class LabServer:
    """A `jupyter lab` subprocess on a loopback port, authentication required, at ``base_url``.

    Attributes:
        root_dir: The server's root directory (the workspace).
        base_url: The hub-style base URL, e.g. ``/user/demo/``.
        env: Extra environment variables for the server (e.g. ``AIGNOSTICS_API_ROOT``).
        theme: The JupyterLab theme name.
    """

    root_dir: Path
    base_url: str = "/user/demo/"
    env: dict[str, str] = field(default_factory=dict)
    theme: str = "JupyterLab Light"
    port: int = field(default_factory=free_port)
    token: str = field(default_factory=lambda: secrets.token_hex(16))
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    @property
    def url(self) -> str:
        """The server's root URL, ending in the base URL."""
        return f"http://127.0.0.1:{self.port}{self.base_url}"

    def lab_url(self, path: str = "lab") -> str:
        """A URL of the lab UI that logs the browser in with the token."""
        return f"{self.url}{path}?token={self.token}"

    def start(self, timeout: float = 90.0) -> LabServer:
        """Start the server and wait until its API answers."""
        state = self.root_dir.parent / f".lab-{self.port}"
        _lab_settings(state / "settings", self.theme)
        (state / "workspaces").mkdir(parents=True, exist_ok=True)
        self.log_path = state / "lab.log"
        env = {
            **os.environ,
            "JUPYTERLAB_SETTINGS_DIR": str(state / "settings"),
            "JUPYTERLAB_WORKSPACES_DIR": str(state / "workspaces"),
            **self.env,
        }
        command = [
            str(Path(sys.executable).parent / "jupyter"),
            "lab",
            "--no-browser",
            "--allow-root",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--ServerApp.base_url={self.base_url}",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root_dir}",
            "--ServerApp.allow_unauthenticated_access=False",
            "--LabApp.extension_manager=readonly",
            "--LabApp.news_url=",
        ]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyter lab exited early:\n{self.log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}api/status?token={self.token}", timeout=2) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise TimeoutError(f"jupyter lab did not answer within {timeout} s")

    def api(self, path: str, method: str = "GET", body: Any = None) -> Any:
        """Call the server's REST API with the token; return the decoded JSON."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.url}{path}",
            data=data,
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read()
        return json.loads(text) if text else None

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 10 s)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
