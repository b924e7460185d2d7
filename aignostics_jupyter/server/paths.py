"""Confine slide and overlay paths to the server's root directory.

A path in a request is **relative to the root directory** and uses ``/`` as its only separator, e.g.
``slides/case-1.svs``. It is refused before any file is touched when it could address anything else:

* ``..`` or ``.`` segments, an absolute path, a leading ``~``, a drive letter (``C:``), a backslash,
  a NUL or other control character, bytes that are not UTF-8 (overlong ``%c0%ae``), or a percent-escape
  (``%2e``, ``%2f``, ``%5c``: the query string has been decoded once already, so a remaining escape can only be
  an attempt to sneak one past us);
* hidden segments (``.ssh``) unless the server allows hidden files;

then it is resolved (following symlinks) and refused unless the result is still inside the root. Refusals are
:class:`~aignostics_jupyter.exceptions.PermissionDeniedError` (HTTP 403); a confined path that does not exist is
:class:`~aignostics_jupyter.exceptions.NotFoundError` (404). Messages repeat only the relative path, never the
root directory.

Example:
    >>> confine(Path("/srv/notebooks"), "slides/case-1.svs")  # doctest: +SKIP
    PosixPath('/srv/notebooks/slides/case-1.svs')
"""

from __future__ import annotations

import re
from pathlib import Path

from aignostics_jupyter.exceptions import NotFoundError, PermissionDeniedError

__all__ = ["MAX_PATH_LENGTH", "confine", "relative_to_root"]

MAX_PATH_LENGTH = 1024
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
_DRIVE = re.compile(r"^[A-Za-z]:")


def _refuse(relative: str, why: str) -> PermissionDeniedError:
    shown = _CONTROL.sub("?", relative[:200])
    return PermissionDeniedError(f"The path {shown!r} is not allowed: {why}.")


def _check_syntax(relative: str, *, allow_hidden: bool) -> list[str]:
    """The path's segments, or a refusal naming the first rule it breaks."""
    if not relative:
        raise _refuse(relative, "a path relative to the server's root directory is required")
    if len(relative) > MAX_PATH_LENGTH:
        raise _refuse(relative, f"it is longer than {MAX_PATH_LENGTH} characters")
    try:
        relative.encode("utf-8")
    except UnicodeEncodeError:
        raise _refuse(relative.encode("utf-8", "replace").decode(), "it is not valid UTF-8") from None
    if _CONTROL.search(relative):
        raise _refuse(relative, "it contains a control character")
    if "\\" in relative:
        raise _refuse(relative, "use '/' as the separator")
    if _ESCAPE.search(relative):
        raise _refuse(relative, "it contains a percent-escape")
    if relative.startswith(("/", "~")) or _DRIVE.match(relative):
        raise _refuse(relative, "it must be relative to the server's root directory")
    segments = relative.split("/")
    for segment in segments:
        if segment in ("", ".", ".."):
            raise _refuse(relative, "it has an empty, '.' or '..' segment")
        if segment.startswith(".") and not allow_hidden:
            raise _refuse(relative, "hidden files are not served")
    return segments


def confine(root: Path, relative: str, *, allow_hidden: bool = False) -> Path:
    """Resolve a request path inside ``root``, or refuse it.

    Args:
        root: The server's root directory (absolute and resolved).
        relative: The path from the request, relative to ``root``.
        allow_hidden: Whether segments starting with ``.`` are allowed (the server's ``allow_hidden``).

    Returns:
        The resolved absolute path, which exists and lies inside ``root``.

    Raises:
        PermissionDeniedError: When the path breaks a rule or resolves outside ``root`` (symlinks included).
        NotFoundError: When the confined path does not exist.

    Example:
        >>> confine(Path("/srv/nb"), "../etc/passwd")  # doctest: +SKIP
        Traceback (most recent call last):
        PermissionDeniedError: The path '../etc/passwd' is not allowed: it has an empty, '.' or '..' segment.
    """
    segments = _check_syntax(relative, allow_hidden=allow_hidden)
    candidate = root.joinpath(*segments)
    try:
        resolved = candidate.resolve(strict=True)
    except (FileNotFoundError, NotADirectoryError) as exc:
        raise NotFoundError(f"There is no file {relative!r} under the server's root directory.") from exc
    except (OSError, RuntimeError) as exc:  # symlink loops, permission problems
        raise _refuse(relative, "it cannot be resolved") from exc
    if not resolved.is_relative_to(root):
        raise _refuse(relative, "it leads outside the server's root directory")
    return resolved


def relative_to_root(root: Path, path: Path) -> str | None:
    """``path`` as a request path relative to ``root`` (``/``-separated), or ``None`` when it lies outside.

    Example:
        >>> relative_to_root(Path("/srv/nb"), Path("/srv/nb/slides/a.svs"))
        'slides/a.svs'
    """
    try:
        return Path(path).resolve().relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        return None
