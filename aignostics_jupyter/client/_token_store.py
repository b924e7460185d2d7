"""The on-disk token cache, shared with the official SDK for the real platform.

- ``{cache_dir}/.token`` holds ``<access_token>:<exp_epoch_seconds>``: the official SDK's file, so a user
  logged in with ``aignostics user login`` is logged in here too, and the other way round.
- ``{cache_dir}/aignostics-jupyter/refresh_token`` holds our refresh token for production (the SDK keeps none
  on disk); other environments keep theirs in ``{cache_dir}/aignostics-jupyter/{environment}/refresh_token``.
- The local platform (a loopback API root) keeps both files under ``{cache_dir}/aignostics-jupyter/{host_port}/``:
  a demo against it must never replace the user's real platform token in the SDK's file.

Files are written atomically with mode 0600 inside directories created with mode 0700.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

from aignostics_jupyter.settings import PRODUCTION_ROOT, Settings, is_loopback_root

__all__ = ["TokenStore"]

_OURS = "aignostics-jupyter"


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _environment_key(api_root: str) -> str:
    parts = urlsplit(api_root)
    return re.sub(r"[^A-Za-z0-9.-]+", "_", parts.netloc or api_root).strip("_") or "default"


class TokenStore:
    """Reads and writes the access token cache and our refresh token.

    Args:
        cache_dir: ``AIGNOSTICS_CACHE_DIR``.
        environment: None for production; else a folder name keeping this environment's files apart.
        shared_access: Use the official SDK's ``{cache_dir}/.token`` for the access token.
    """

    def __init__(self, cache_dir: Path, *, environment: str | None = None, shared_access: bool = True) -> None:
        self.cache_dir = Path(cache_dir)
        self.environment = environment
        self.shared_access = shared_access

    @classmethod
    def for_settings(cls, settings: Settings) -> TokenStore:
        """The store of the environment ``settings.api_root`` points at."""
        root = settings.api_root
        if root == PRODUCTION_ROOT:
            return cls(settings.cache_dir)
        return cls(settings.cache_dir, environment=_environment_key(root), shared_access=not is_loopback_root(root))

    @property
    def _own_dir(self) -> Path:
        base = self.cache_dir / _OURS
        return base / self.environment if self.environment else base

    @property
    def access_file(self) -> Path:
        """The access token cache: the SDK's ``{cache_dir}/.token``, or ours for the local platform."""
        return self.cache_dir / ".token" if self.shared_access else self._own_dir / ".token"

    @property
    def refresh_file(self) -> Path:
        """Our refresh token, e.g. ``{cache_dir}/aignostics-jupyter/refresh_token``."""
        return self._own_dir / "refresh_token"

    def read_access(self) -> tuple[str, int] | None:
        """Return ``(access_token, exp)`` from the cache, or None when missing or unreadable."""
        try:
            text = self.access_file.read_text(encoding="utf-8").strip()
        except OSError:
            return None
        token, sep, exp = text.rpartition(":")
        if not sep or not token:
            return None
        try:
            return token, int(float(exp))
        except ValueError:
            return None

    def write_access(self, token: str, exp: int) -> None:
        """Store an access token and its expiry (mode 0600)."""
        _write_private(self.access_file, f"{token}:{int(exp)}")

    def read_refresh(self) -> str | None:
        """Return the stored refresh token, or None."""
        try:
            text = self.refresh_file.read_text(encoding="utf-8").strip()
        except OSError:
            return None
        return text or None

    def write_refresh(self, token: str) -> None:
        """Store a refresh token (mode 0600)."""
        _write_private(self.refresh_file, token)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold an exclusive lock across processes (kernel, server extension) while refreshing.

        Rotating refresh tokens work once; two processes refreshing with the same one at the same moment
        would look like a replay and end both sessions.
        """
        try:
            import fcntl
        except ImportError:  # pragma: no cover (Windows: no cross-process lock)
            yield
            return
        self._own_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self._own_dir / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def clear(self) -> None:
        """Delete both files (logout)."""
        for path in (self.access_file, self.refresh_file):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def __repr__(self) -> str:
        return f"TokenStore({str(self.cache_dir)!r}, environment={self.environment!r})"
