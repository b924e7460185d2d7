"""A small folder picker: a path box and the folders below it (pick ``..`` to go up)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ipywidgets as w

__all__ = ["FolderPicker"]

_UP = ".."


class FolderPicker(w.VBox):  # type: ignore[misc]
    """Pick a folder on the kernel's machine.

    Args:
        start: The folder shown first (default: the working directory).

    Example:
        >>> picker = FolderPicker("/")
        >>> picker.path.value
        '/'
    """

    def __init__(self, start: str | Path | None = None) -> None:
        self.path = w.Text(description="Folder", layout=w.Layout(width="40em"))
        self.folders = w.Select(rows=5, layout=w.Layout(width="40em"))
        super().__init__([self.path, self.folders])
        self.add_class("aignostics-folder-picker")
        self.folders.observe(self._on_pick, names="value")
        self.path.observe(lambda _: self._list(), names="value")
        self.path.value = str(Path(start or Path.cwd()).expanduser())

    @property
    def folder(self) -> Path:
        """The folder picked."""
        return Path(self.path.value).expanduser()

    def _list(self) -> None:
        folder = self.folder
        try:
            names = sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
        except OSError:
            names = []
        self.folders.unobserve(self._on_pick, names="value")
        self.folders.options = [_UP, *names] if folder.parent != folder else names
        self.folders.value = None
        self.folders.observe(self._on_pick, names="value")

    def _on_pick(self, change: dict[str, Any]) -> None:
        name = change["new"]
        if not name:
            return
        target = self.folder.parent if name == _UP else self.folder / name
        self.path.value = str(target)
