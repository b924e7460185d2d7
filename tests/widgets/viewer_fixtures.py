"""Helpers for the slide viewer tests: a slide in a root directory and a fake tile endpoint."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from aignostics_jupyter.exceptions import NotFoundError
from aignostics_jupyter.server.discovery import TileEndpoint
from aignostics_jupyter.slides.writers import write_test_pattern_slide

WIDTH, HEIGHT, MPP = 3000, 2000, 0.5  # z_max = 4 (3000 / 256 -> 12 tiles -> 2**4 = 16 >= 11.7)
TOKEN = "kernel-only-SECRET-token-42"


_SLIDES: dict[str, Path] = {}


def slide_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test slide, written once per session."""
    if "svs" not in _SLIDES:
        folder = tmp_path_factory.mktemp("vs")
        _SLIDES["svs"] = write_test_pattern_slide(folder / "case.svs", WIDTH, HEIGHT, "svs", MPP, smallest_level=400)
    return _SLIDES["svs"]


def make_root(tmp_path: Path, slide: Path) -> Path:
    """A root directory holding ``slides/case.svs``."""
    root = tmp_path / "root"
    (root / "slides").mkdir(parents=True)
    shutil.copyfile(slide, root / "slides" / "case.svs")
    return root


@dataclass(frozen=True)
class FakeEndpoint(TileEndpoint):
    """A tile endpoint whose kernel-side requests get canned answers (and are recorded)."""

    answers: dict[str, Any] = field(default_factory=dict, compare=False)
    calls: list[tuple[str, str, Any]] = field(default_factory=list, compare=False)

    def request(self, method: str, path: str, *, body: Any = None, params: Any = None) -> Any:
        self.calls.append((method, path, body if body is not None else params))
        key = f"{method} {path.split('/', maxsplit=1)[0] if method == 'POST' else path.rsplit('/', 1)[-1]}"
        if key not in self.answers:
            raise NotFoundError(f"no canned answer for {key}")
        answer = self.answers[key]
        return answer(body, params) if callable(answer) else answer


def fake_endpoint(root: Path) -> FakeEndpoint:
    """A server-kind endpoint at ``/user/demo/`` whose kernel-side credential is :data:`TOKEN`."""
    return FakeEndpoint(
        prefix="/user/demo/", root=root, kind="server", api_url="http://127.0.0.1:9/user/demo/", token=TOKEN
    )
