from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from aignostics_jupyter.exceptions import InvalidInputError, PermissionDeniedError
from aignostics_jupyter.slides.paths import confine

pytestmark = pytest.mark.unit


def test_paths_inside_the_root(tmp_path: Path) -> None:
    (tmp_path / "slides").mkdir()
    assert confine(tmp_path, "slides/a.svs") == tmp_path.resolve() / "slides" / "a.svs"
    assert confine(tmp_path, "/slides/a.svs") == tmp_path.resolve() / "slides" / "a.svs"
    assert confine(tmp_path, "slides/../b.svs") == tmp_path.resolve() / "b.svs"
    assert confine(tmp_path, "Präparat 標本.svs").name == "Präparat 標本.svs"


@pytest.mark.parametrize("bad", ["../etc/passwd", "slides/../../x", "/../x", "a/../../x"])
def test_escapes_are_refused(tmp_path: Path, bad: str) -> None:
    with pytest.raises(PermissionDeniedError, match="outside the server's root"):
        confine(tmp_path / "root", bad)


def test_symlinks_out_of_the_root_are_refused(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (tmp_path / "secret.svs").write_bytes(b"x")
    os.symlink(tmp_path / "secret.svs", root / "link.svs")
    with pytest.raises(PermissionDeniedError):
        confine(root, "link.svs")


@pytest.mark.parametrize("bad", ["", "/", "a\x00b"])
def test_empty_or_nul(tmp_path: Path, bad: str) -> None:
    with pytest.raises(InvalidInputError):
        confine(tmp_path, bad)


@pytest.mark.timeout(30)
def test_slides_package_imports_no_web_or_notebook_framework() -> None:
    code = (
        "import sys, aignostics_jupyter.slides, aignostics_jupyter.slides.service, aignostics_jupyter.slides.overlays\n"
        "bad = [m for m in ('tornado', 'IPython', 'ipywidgets') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=25)


def test_public_surface_is_sorted_and_importable() -> None:
    import aignostics_jupyter.slides as slides

    assert len(set(slides.__all__)) == len(slides.__all__)
    for name in slides.__all__:
        assert getattr(slides, name) is not None
