"""The RunSubmitter's folder picker: navigate down and up; unreadable folders list nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from aignostics_jupyter.widgets._run_folder import FolderPicker

pytestmark = pytest.mark.unit


def test_navigate_down_and_up(tmp_path: Path) -> None:
    (tmp_path / "a" / "inner").mkdir(parents=True)
    (tmp_path / "b").mkdir()
    (tmp_path / ".hidden").mkdir()
    (tmp_path / "file.txt").write_text("x")
    picker = FolderPicker(tmp_path)

    assert picker.folders.options == ("..", "a", "b")
    picker.folders.value = "a"
    assert picker.folder == tmp_path / "a"
    assert picker.folders.options == ("..", "inner")
    assert picker.folders.value is None
    picker.folders.value = ".."
    assert picker.folder == tmp_path


def test_a_missing_folder_lists_nothing(tmp_path: Path) -> None:
    picker = FolderPicker(tmp_path / "absent")

    assert picker.folders.options == ("..",)


def test_the_root_has_no_parent_entry() -> None:
    picker = FolderPicker("/")

    assert ".." not in picker.folders.options
