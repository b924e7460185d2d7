"""``aignostics-jupyter smoke``: does this release work with the configured platform? Auth, reads and the write path.

It checks, in order: the platform's health route answers; the login works (``/v1/me``); applications can be read
and one (``test-app`` unless pinned) is discovered with its latest version; then, only when
``AIGNOSTICS_ALLOW_MUTATION=1``, the write path: a small generated slide is uploaded to the organization bucket,
submitted, waited for, and its results downloaded and verified against their checksums.

Exit codes: **0** green; **2** reads were fine but writing was not possible (not allowed, or the platform refused
the write), with a notice saying why; **1** red: something that must work did not.

Pinning (optional): ``AIGNOSTICS_E2E_APPLICATION`` and ``AIGNOSTICS_E2E_APPLICATION_VERSION``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from aignostics_jupyter.exceptions import AignosticsError, PermissionDeniedError
from aignostics_jupyter.settings import get_settings

if TYPE_CHECKING:
    from aignostics_jupyter.client import Client

__all__ = ["EXIT_GREEN", "EXIT_NO_WRITE", "EXIT_RED", "SmokeResult", "main", "run_smoke"]

EXIT_GREEN, EXIT_RED, EXIT_NO_WRITE = 0, 1, 2
DEFAULT_APPLICATION = "test-app"


@dataclass
class SmokeResult:
    """What the smoke check found."""

    code: int
    message: str
    application: str | None = None
    version: str | None = None
    run_id: str | None = None


def mutation_allowed() -> bool:
    """Whether the environment allows creating runs and objects (``AIGNOSTICS_ALLOW_MUTATION=1``)."""
    return os.environ.get("AIGNOSTICS_ALLOW_MUTATION") == "1"


def discover(client: Client) -> tuple[str, str]:
    """Pick the application and version to use: pinned by env, else ``test-app`` at its latest version.

    Raises:
        LookupError: Naming what is missing.
    """
    app_id = os.environ.get("AIGNOSTICS_E2E_APPLICATION", DEFAULT_APPLICATION)
    pinned = os.environ.get("AIGNOSTICS_E2E_APPLICATION_VERSION")
    apps = {app.application_id: app for app in client.applications.list()}
    if app_id not in apps:
        msg = f"application {app_id!r} is not available to this user (available: {', '.join(sorted(apps)) or 'none'})"
        raise LookupError(msg)
    if pinned:
        return app_id, pinned
    latest = apps[app_id].latest_version
    if latest is None:
        msg = f"application {app_id!r} has no version available to this user"
        raise LookupError(msg)
    return app_id, latest.number


def _write_path(client: Client, app_id: str, version: str, say: Callable[[str], None], timeout: float) -> str:
    from aignostics_jupyter.samples.generate import generate_sample_slide

    with tempfile.TemporaryDirectory(prefix="aignostics-smoke-") as tmp:
        slide = generate_sample_slide(Path(tmp) / "smoke.tiff", size=1024, fmt="tiff", seed=4242)
        say(f"generated {slide.path.name} ({slide.width}x{slide.height} px)")
        run = client.runs.submit(app_id, [slide.path], version=version, tags=["smoke"], note="aignostics-jupyter smoke")
        say(f"submitted run {run.run_id}")
        details = run.wait(poll=2.0, timeout=timeout)
        say(f"run {run.run_id} {details.state.value} / {details.termination_reason}")
        if details.statistics.item_succeeded_count < 1:
            msg = f"run {run.run_id} terminated without a succeeded item: {details.statistics}"
            raise AssertionError(msg)
        result = run.download(Path(tmp) / "results")
        say(f"downloaded and verified {len(result.files)} file(s)")
        if result.failed:
            msg = f"run {run.run_id}: {len(result.failed)} file(s) failed verification: {result.failed}"
            raise AssertionError(msg)
        if not result.files:
            msg = f"run {run.run_id} produced no downloadable file"
            raise AssertionError(msg)
        return run.run_id


def run_smoke(
    client: Client | None = None, *, say: Callable[[str], None] = print, timeout: float = 600.0
) -> SmokeResult:
    """Run the smoke check.

    Args:
        client: The client to use (default: one from the settings).
        say: Where progress lines go (``--verbose``).
        timeout: Seconds to wait for the submitted run.

    Returns:
        The outcome with its exit code.
    """
    from aignostics_jupyter.client import Client

    settings = get_settings()
    say(f"target {settings.api_root} (mutation {'allowed' if mutation_allowed() else 'not allowed'})")
    own = client is None
    client = Client(settings) if client is None else client
    try:
        if not client.health():
            return SmokeResult(EXIT_RED, f"{settings.api_root}/api/v1/health did not answer 200")
        me = client.me(nocache=True)
        say(f"logged in as {me.user.email or me.user.id} of {me.organization.name or me.organization.id}")
        try:
            app_id, version = discover(client)
        except LookupError as exc:
            return SmokeResult(EXIT_RED, str(exc))
        say(f"application {app_id} {version}")
        if not mutation_allowed():
            return SmokeResult(
                EXIT_NO_WRITE,
                "reads work; the write path was not tried: set AIGNOSTICS_ALLOW_MUTATION=1",
                app_id,
                version,
            )
        started = time.monotonic()
        try:
            run_id = _write_path(client, app_id, version, say, timeout)
        except PermissionDeniedError as exc:
            return SmokeResult(EXIT_NO_WRITE, f"the platform refused the write: {exc.message}", app_id, version)
        say(f"write path done in {time.monotonic() - started:.1f} s")
        return SmokeResult(EXIT_GREEN, "auth, reads and the write path work", app_id, version, run_id)
    except (AignosticsError, AssertionError) as exc:
        return SmokeResult(EXIT_RED, str(exc))
    finally:
        if own:
            client.close()


def main(argv: list[str] | None = None) -> int:
    """The ``smoke [--verbose] [--timeout S]`` command.

    Returns:
        0 green, 2 writing not possible (with a notice), 1 red.
    """
    parser = argparse.ArgumentParser(prog="aignostics-jupyter smoke", description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", "-v", action="store_true", help="print what was discovered and done")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for the run (default 600)")
    args = parser.parse_args(argv)

    def say(text: str) -> None:
        if args.verbose:
            print(f"smoke: {text}", flush=True)

    try:
        result = run_smoke(say=say, timeout=args.timeout)
    except AignosticsError as exc:
        result = SmokeResult(EXIT_RED, exc.message)
    label = {EXIT_GREEN: "GREEN", EXIT_NO_WRITE: "NOTICE", EXIT_RED: "RED"}[result.code]
    stream = sys.stdout if result.code == EXIT_GREEN else sys.stderr
    print(f"smoke {label}: {result.message}", file=stream)
    return result.code
