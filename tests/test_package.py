from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import aignostics_jupyter

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.unit
def test_version_comes_from_package_json() -> None:
    assert aignostics_jupyter.__version__ == json.loads((ROOT / "package.json").read_text())["version"]


@pytest.mark.unit
def test_all_is_sorted_and_resolvable() -> None:
    names = aignostics_jupyter.__all__

    assert list(names) == sorted(names)
    for name in names:
        assert getattr(aignostics_jupyter, name) is not None


@pytest.mark.unit
def test_unknown_attribute_raises() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        aignostics_jupyter.nope  # noqa: B018


@pytest.mark.unit
def test_dir_lists_public_names() -> None:
    assert set(aignostics_jupyter.__all__) <= set(dir(aignostics_jupyter))


@pytest.mark.unit
def test_jupyter_entry_points() -> None:
    assert aignostics_jupyter._jupyter_labextension_paths() == [{"src": "labextension", "dest": "aignostics-jupyter"}]
    assert aignostics_jupyter._jupyter_server_extension_points() == [{"module": "aignostics_jupyter"}]
    assert aignostics_jupyter.unload_ipython_extension(object()) is None


@pytest.mark.unit
def test_import_is_light() -> None:
    """Importing the package must not pull in the heavy stacks (measured in benchmarks, checked here)."""
    code = (
        "import sys, aignostics_jupyter; "
        "heavy = [m for m in ('openslide', 'ipyleaflet', 'ipywidgets', 'tornado', 'fastapi', 'numpy', 'httpx',"
        " 'pydantic_settings', 's3fs') if m in sys.modules]; print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()

    assert out == ""


@pytest.mark.unit
def test_widget_exports_resolve() -> None:
    import aignostics_jupyter.widgets as widgets

    assert list(widgets.__all__) == sorted(widgets.__all__)
    for name in widgets.__all__:
        assert callable(getattr(widgets, name))
    assert set(widgets.__all__) <= set(dir(widgets))
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        widgets.Nope  # noqa: B018
