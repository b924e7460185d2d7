"""The local platform stays a web server: no notebook or Jupyter server imports."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.unit


def test_the_emulator_imports_no_ui_or_jupyter_server() -> None:
    code = (
        "import sys, aignostics_jupyter.emulator, aignostics_jupyter.emulator.runner, "
        "aignostics_jupyter.emulator.worker, aignostics_jupyter.emulator.synthetic\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'IPython', 'ipywidgets', 'tornado', 'jupyter_server'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60).stdout
    assert out.strip() == "[]"


def test_public_surface_is_importable() -> None:
    import aignostics_jupyter.emulator as emulator

    assert {"LocalPlatform", "create_app", "main", "EmulatorConfig"} <= set(emulator.__all__)
    for name in emulator.__all__:
        assert getattr(emulator, name) is not None
