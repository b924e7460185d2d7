"""The installed package is what Jupyter sees: lab extension and server extension enabled and OK."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def jupyter(*args: str, env: dict[str, str] | None = None) -> str:
    """Run a jupyter subcommand of this environment; return its combined output without colours."""
    result = subprocess.run(
        [str(BIN / "jupyter"), *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    return ANSI.sub("", result.stdout + result.stderr)


def assert_enabled(env: dict[str, str] | None = None) -> None:
    """Check both extension listings report aignostics-jupyter enabled and OK."""
    labs = jupyter("labextension", "list", env=env)
    assert re.search(r"aignostics-jupyter v\S+ enabled OK", labs), labs
    servers = jupyter("server", "extension", "list", env=env)
    assert re.search(r"aignostics_jupyter enabled", servers), servers
    assert re.search(r"aignostics_jupyter \S+ OK", servers), servers


@pytest.mark.integration
@pytest.mark.timeout(120)
def test_extensions_are_enabled_in_this_environment() -> None:
    assert_enabled({**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"})
