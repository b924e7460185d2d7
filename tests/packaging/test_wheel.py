"""The built wheel works for a user without Node.js: installed into a fresh venv, both extensions are enabled."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def run(args: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> str:
    result = subprocess.run(args, capture_output=True, text=True, env=env, cwd=cwd, timeout=900, check=False)
    output = ANSI.sub("", result.stdout + result.stderr)
    assert result.returncode == 0, output[-4000:]
    return output


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the wheel the way a release would (isolated build, TypeScript compiled by the build hook)."""
    dist = tmp_path_factory.mktemp("dist")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(dist), str(ROOT)], env=env)
    (built,) = dist.glob("aignostics_jupyter-*.whl")
    return built


@pytest.mark.e2e
@pytest.mark.timeout(900)
def test_wheel_contains_the_prebuilt_lab_extension(wheel: Path) -> None:
    listing = run([sys.executable, "-m", "zipfile", "-l", str(wheel)])

    assert "share/jupyter/labextensions/aignostics-jupyter/package.json" in listing
    assert "share/jupyter/labextensions/aignostics-jupyter/static/style.js" in listing
    assert "share/jupyter/labextensions/aignostics-jupyter/schemas/aignostics-jupyter/plugin.json" in listing
    assert "etc/jupyter/jupyter_server_config.d/aignostics_jupyter.json" in listing
    assert "aignostics_jupyter/py.typed" in listing


@pytest.mark.e2e
@pytest.mark.timeout(900)
def test_wheel_in_fresh_venv_without_node(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", str(venv)])
    bin_dir = venv / "bin"
    run([str(bin_dir / "python"), "-m", "pip", "install", "--quiet", str(wheel)])
    # Only the fresh venv on PATH: no node, no npm, no jlpm of the development environment.
    env = {"PATH": str(bin_dir), "HOME": os.environ["HOME"], "LANG": "C.UTF-8"}
    assert shutil.which("node", path=env["PATH"]) is None

    labs = run([str(bin_dir / "jupyter"), "labextension", "list"], env=env)
    servers = run([str(bin_dir / "jupyter"), "server", "extension", "list"], env=env)

    assert re.search(r"aignostics-jupyter v\S+ enabled OK", labs), labs
    assert re.search(r"aignostics_jupyter enabled", servers), servers
    assert re.search(r"aignostics_jupyter \S+ OK", servers), servers
