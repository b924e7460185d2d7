"""``aignostics-jupyter demo``: the local platform, sample slides and JupyterLab on the tutorials, in one command.

It prepares a demo directory (default ``.demo/``) with a workspace holding the tutorials and generated slides,
starts the local platform with auto-approved logins and JupyterLab pointed at it, prints the one URL to open, and
on Ctrl-C stops both. Everything it made is kept, so a second run reuses the slides and the platform's state and
starts in seconds.

Layout of the demo directory::

    .demo/platform/          the local platform's database, keys and buckets
    .demo/workspace/         JupyterLab's root: notebooks/ (the tutorials) and slides/ (generated)
    .demo/lab-settings/      JupyterLab's user settings for the demo (news and update checks off)
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DemoConfig", "SlideSet", "main", "prepare_workspace", "wait_for_http"]

REPO_NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


@dataclass(frozen=True)
class SlideSet:
    """One batch of sample slides for the demo."""

    name: str
    fmt: str
    count: int
    size: int
    seed: int


DEFAULT_SLIDES = (
    SlideSet("small", "svs", 3, 4096, 1),
    SlideSet("tiff", "tiff", 1, 4096, 2),
    SlideSet("dicom", "dicom", 1, 4096, 3),
    SlideSet("large", "svs", 1, 32768, 4),
)


@dataclass(frozen=True)
class DemoConfig:
    """Where and how the demo runs."""

    directory: Path
    lab_port: int
    platform_port: int
    slides: tuple[SlideSet, ...] = DEFAULT_SLIDES
    notebooks: Path = REPO_NOTEBOOKS

    @property
    def workspace(self) -> Path:
        """JupyterLab's root directory."""
        return self.directory / "workspace"

    @property
    def platform_dir(self) -> Path:
        """The local platform's data directory."""
        return self.directory / "platform"


def free_port(preferred: int) -> int:
    """Return ``preferred`` when it is free on 127.0.0.1, else any free port."""
    for port in (preferred, 0):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    msg = "no free TCP port on 127.0.0.1"
    raise OSError(msg)


def _say(text: str) -> None:
    print(f"[demo] {text}", flush=True)


def prepare_workspace(config: DemoConfig, say: Callable[[str], None] = _say) -> list[Path]:
    """Create the workspace: link the tutorials and generate the sample slides that are missing.

    Args:
        config: The demo configuration.
        say: Where progress lines go.

    Returns:
        The slide folders of the workspace, one per slide set.
    """
    from aignostics_jupyter.samples.generate import generate_sample_slides

    config.workspace.mkdir(parents=True, exist_ok=True)
    notebooks = config.workspace / "notebooks"
    if config.notebooks.is_dir() and not notebooks.exists():
        notebooks.symlink_to(config.notebooks.resolve(), target_is_directory=True)
    folders = []
    for slide_set in config.slides:
        folder = config.workspace / "slides" / slide_set.name
        folders.append(folder)
        done = folder / ".complete"
        if done.exists():
            continue
        started = time.monotonic()
        say(f"generating {slide_set.count} {slide_set.fmt} slide(s) of {slide_set.size} px into {folder} …")
        if folder.exists():
            shutil.rmtree(folder)
        generate_sample_slides(
            folder, count=slide_set.count, size=slide_set.size, fmt=slide_set.fmt, seed=slide_set.seed
        )
        done.write_text("ok\n")
        say(f"  done in {time.monotonic() - started:.0f} s")
    return folders


def quiet_lab_settings(settings_dir: Path) -> Path:
    """Create the demo's JupyterLab settings once: no news or update prompts (the user may change them later).

    Returns:
        The settings directory, for ``JUPYTERLAB_SETTINGS_DIR``.
    """
    notification = settings_dir / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    if not notification.exists():
        notification.parent.mkdir(parents=True, exist_ok=True)
        notification.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    return settings_dir


def wait_for_http(url: str, process: subprocess.Popen[bytes], timeout: float, what: str) -> None:
    """Wait until ``url`` answers 200, failing early when ``process`` exits.

    Raises:
        RuntimeError: When the process exits or the URL does not answer in time.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            msg = f"{what} exited with status {process.returncode}"
            raise RuntimeError(msg)
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310  (a loopback URL we built)
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.25)
    msg = f"{what} did not answer at {url} within {timeout:.0f} s"
    raise RuntimeError(msg)


@contextmanager
def _running(command: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Start a child process with its output in ``log``; stop it (and only it) on exit."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as sink:
        process = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


def run(config: DemoConfig, *, stop_after: float | None = None, say: Callable[[str], None] = _say) -> int:
    """Prepare, start the local platform and JupyterLab, print the URL, and wait for Ctrl-C.

    Args:
        config: The demo configuration.
        stop_after: Stop by itself after this many seconds (tests); None waits for Ctrl-C.
        say: Where progress lines go.

    Returns:
        The exit status.
    """
    from aignostics_jupyter.emulator.platform import client_env

    prepare_workspace(config, say)
    api_root = f"http://127.0.0.1:{config.platform_port}"
    env = {
        **os.environ,
        **client_env(api_root),
        "AIGNOSTICS_LOCAL_DATA_DIR": str(config.platform_dir),
        "JUPYTERLAB_SETTINGS_DIR": str(quiet_lab_settings(config.directory / "lab-settings")),
    }
    logs = config.directory / "logs"
    platform_cmd = [
        sys.executable,
        "-m",
        "aignostics_jupyter.emulator",
        "--host",
        "127.0.0.1",
        "--port",
        str(config.platform_port),
        "--data-dir",
        str(config.platform_dir),
        "--auto-approve",
    ]
    token = secrets.token_hex(16)
    lab_cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={config.lab_port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={config.workspace}",
        "--LabApp.extension_manager=readonly",
        "--ServerApp.default_url=/lab/tree/notebooks",
    ]
    if os.geteuid() == 0:
        lab_cmd.append("--allow-root")
    with _running(platform_cmd, env, logs / "platform.log") as platform:
        wait_for_http(f"{api_root}/api/v1/health", platform, 60, "the local platform")
        say(f"local platform at {api_root} (logins are approved automatically; log: {logs / 'platform.log'})")
        with _running(lab_cmd, env, logs / "lab.log") as lab:
            lab_root = f"http://127.0.0.1:{config.lab_port}/"
            wait_for_http(f"{lab_root}api/status?token={token}", lab, 120, "JupyterLab")
            url = f"{lab_root}lab/tree/notebooks?token={token}"
            say(f"JupyterLab log: {logs / 'lab.log'}")
            print(f"\n    Open {url}\n\n    (Ctrl-C stops the demo)\n", flush=True)
            deadline = None if stop_after is None else time.monotonic() + stop_after
            try:
                while platform.poll() is None and lab.poll() is None:
                    if deadline is not None and time.monotonic() > deadline:
                        break
                    time.sleep(0.5)
            except KeyboardInterrupt:
                say("stopping …")
    say("stopped")
    return 0


def main(argv: list[str] | None = None) -> int:
    """The ``demo`` command line.

    Returns:
        The exit status.
    """
    parser = argparse.ArgumentParser(prog="aignostics-jupyter demo", description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=Path(".demo"), help="the demo directory (default .demo)")
    parser.add_argument("--port", type=int, default=8888, help="JupyterLab's port (default 8888, else any free)")
    parser.add_argument("--platform-port", type=int, default=8123, help="the local platform's port (default 8123)")
    parser.add_argument("--small", action="store_true", help="only small slides (no large one)")
    parser.add_argument("--stop-after", type=float, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    slides = tuple(s for s in DEFAULT_SLIDES if not (args.small and s.name == "large"))
    config = DemoConfig(
        directory=args.dir.resolve(),
        lab_port=free_port(args.port),
        platform_port=free_port(args.platform_port),
        slides=slides,
    )
    try:
        return run(config, stop_after=args.stop_after)
    except KeyboardInterrupt:
        # Ctrl-C during start-up or shutdown: the with-blocks in run() have already stopped what was started.
        print("[demo] stopped", flush=True)
        return 0
    except RuntimeError as exc:
        print(f"[demo] {exc}; see the logs in {config.directory / 'logs'}", file=sys.stderr)
        return 1
