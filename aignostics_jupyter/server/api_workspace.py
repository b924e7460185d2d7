"""Workspace paths of the sidebar's REST API: files to upload and folders to download into, all inside the root.

Files must exist and are confined by :func:`~aignostics_jupyter.server.paths.confine` (``..``, absolute paths,
escapes and symlinks out are refused with 403; a missing file is 404). Destination folders may not exist yet:
the deepest existing ancestor is confined the same way, and the remaining segments must be plain names.

Example:
    >>> confine_folder(Path("/srv/nb"), "aignostics-results")  # doctest: +SKIP
    PosixPath('/srv/nb/aignostics-results')
"""

from __future__ import annotations

from pathlib import Path

from aignostics_jupyter.exceptions import InvalidInputError, NotFoundError, PermissionDeniedError
from aignostics_jupyter.server.paths import confine, relative_to_root

__all__ = ["confine_file", "confine_folder", "workspace_relative"]


def confine_file(root: Path, relative: str, *, allow_hidden: bool = False) -> Path:
    """Resolve an existing regular file inside ``root``.

    Raises:
        PermissionDeniedError: When the path leaves the root or breaks a rule.
        NotFoundError: When there is no such file (or it is a folder).
    """
    path = confine(root, relative, allow_hidden=allow_hidden)
    if not path.is_file():
        raise NotFoundError(f"{relative!r} is not a file under the server's root directory.")
    return path


def confine_folder(root: Path, relative: str, *, allow_hidden: bool = False, create: bool = True) -> Path:
    """Resolve a destination folder inside ``root`` (``""`` is the root itself), creating it when asked.

    Raises:
        PermissionDeniedError: When the path leaves the root or breaks a rule.
        InvalidInputError: When the path names an existing file.
    """
    relative = relative.strip().rstrip("/")
    if not relative:
        return root
    # Let ``confine`` judge the syntax of the whole path before anything is created.
    try:
        resolved = confine(root, relative, allow_hidden=allow_hidden)
    except NotFoundError:
        resolved = _confine_missing(root, relative, allow_hidden=allow_hidden)
    if resolved.exists() and not resolved.is_dir():
        raise InvalidInputError(f"{relative!r} is a file, not a folder.")
    if create:
        resolved.mkdir(parents=True, exist_ok=True)
    return resolved


def _confine_missing(root: Path, relative: str, *, allow_hidden: bool) -> Path:
    segments = relative.split("/")
    for cut in range(len(segments) - 1, 0, -1):
        parent = "/".join(segments[:cut])
        try:
            base = confine(root, parent, allow_hidden=allow_hidden)
        except NotFoundError:
            continue
        return _plain(base, segments[cut:], relative)
    return _plain(root, segments, relative)


def _plain(base: Path, rest: list[str], relative: str) -> Path:
    """``base`` joined with segments that do not exist yet; a dangling symlink among them is refused."""
    path = base
    for segment in rest:
        path = path / segment
        if path.is_symlink():
            raise PermissionDeniedError(f"The path {relative!r} is not allowed: it leads through a broken symlink.")
    return path


def workspace_relative(root: Path, path: Path) -> str:
    """``path`` relative to ``root`` with ``/`` separators (refused when it lies outside)."""
    relative = relative_to_root(root, path)
    if relative is None:
        raise PermissionDeniedError("The path leads outside the server's root directory.")
    return relative
