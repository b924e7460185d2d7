"""The curated public surface of client and storage, and the imports they must never make."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import aignostics_jupyter.client as client_pkg
import aignostics_jupyter.storage as storage_pkg

pytestmark = pytest.mark.unit

PACKAGE_ROOT = Path(client_pkg.__file__).parents[1]
FORBIDDEN = ("tornado", "IPython", "ipywidgets")


def _isort_key(name: str) -> tuple[bool, bool, str]:
    """Constants first, then classes, then functions (the order ruff keeps ``__all__`` in)."""
    return (not name.isupper(), not name[:1].isupper(), name)


@pytest.mark.parametrize("package", [client_pkg, storage_pkg])
def test_all_is_sorted_and_resolvable(package: object) -> None:
    names = package.__all__  # type: ignore[attr-defined]
    assert names == sorted(names, key=_isort_key)
    for name in names:
        assert getattr(package, name) is not None


def test_unknown_names_raise_attribute_error() -> None:
    with pytest.raises(AttributeError):
        client_pkg.NoSuchThing  # type: ignore[attr-defined]  # noqa: B018


@pytest.mark.parametrize("subpackage", ["client", "storage"])
def test_no_module_imports_a_ui_or_web_framework(subpackage: str) -> None:
    offenders = []
    for path in sorted((PACKAGE_ROOT / subpackage).glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in FORBIDDEN]
    assert offenders == []


def test_importing_the_client_pulls_in_no_notebook_stack() -> None:
    # tenacity itself imports tornado when it is installed (for its optional tornado support); that is not ours.
    code = (
        "import sys, aignostics_jupyter.client as c, aignostics_jupyter.storage;"
        "c.Client; c.Authenticator; c.describe_slide;"
        "print(','.join(m for m in ('IPython', 'ipywidgets') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == ""


def test_models_import_without_the_http_stack() -> None:
    code = "import sys, aignostics_jupyter.client.models; print('httpx' in sys.modules, 'tenacity' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "False False"
