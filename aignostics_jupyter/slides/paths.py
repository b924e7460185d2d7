"""Confine user-supplied slide paths to a root directory (the Jupyter server's root_dir).

Tile URLs carry paths chosen by the browser; they must never reach files outside the server's root, neither
through ``..`` nor through symbolic links.

Example:
    >>> confine(Path("/srv/notebooks"), "slides/a.svs")  # doctest: +SKIP
    PosixPath('/srv/notebooks/slides/a.svs')
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from aignostics_jupyter.exceptions import InvalidInputError, PermissionDeniedError

__all__ = ["confine"]


def confine(root: Path, relative: str) -> Path:
    """Resolve ``relative`` (a ``/``-separated path, as in URLs) inside ``root``.

    Args:
        root: The directory paths must stay in.
        relative: The path as the client sent it (leading ``/`` allowed, meaning the root).

    Returns:
        The resolved absolute path (it may not exist; opening it reports that).

    Raises:
        InvalidInputError: For an empty path or one with NUL characters.
        PermissionDeniedError: When the path (after resolving ``..`` and symbolic links) leaves ``root``.
    """
    if not relative.strip("/") or "\x00" in relative:
        msg = "A slide path inside the server's root directory is needed."
        raise InvalidInputError(msg)
    base = Path(root).resolve()
    parts = PurePosixPath(relative.lstrip("/")).parts
    candidate = base.joinpath(*parts).resolve()
    if candidate != base and base not in candidate.parents:
        msg = f"The path {relative!r} is outside the server's root directory."
        raise PermissionDeniedError(msg)
    return candidate
