#!/usr/bin/env python3
"""Run a command against a fresh local platform, as if it were the real one.

Starts the local platform on a free loopback port with a temporary data directory, creates a refresh token for its
seeded user, and runs the command with the environment a real user would have: ``AIGNOSTICS_API_ROOT`` and friends,
``AIGNOSTICS_REFRESH_TOKEN``, ``AIGNOSTICS_RUN_E2E=1`` and ``AIGNOSTICS_ALLOW_MUTATION=1``. ``make test`` uses it to
run the live suite and the smoke script, so both are known to work before anyone points them at the real platform.

Usage: ``python scripts/with_local_platform.py -- COMMAND [ARGS...]``
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path


def main(argv: list[str]) -> int:
    if "--" in argv:
        argv = argv[argv.index("--") + 1 :]
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    from aignostics_jupyter.emulator.platform import LocalPlatform

    with (
        tempfile.TemporaryDirectory(prefix="aignostics-local-") as tmp,
        LocalPlatform(Path(tmp) / "platform", auto_approve=True) as platform,
    ):
        env = {
            **os.environ,
            **platform.env(),
            "AIGNOSTICS_REFRESH_TOKEN": platform.refresh_token(),
            "AIGNOSTICS_CACHE_DIR": str(Path(tmp) / "cache"),
            "AIGNOSTICS_RUN_E2E": "1",
            "AIGNOSTICS_ALLOW_MUTATION": "1",
        }
        print(f"local platform at {platform.api_root}; running: {' '.join(argv)}", flush=True)
        return subprocess.run(argv, env=env, check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
