"""The local platform: the Aignostics Platform API v1 served on this machine, for demos, tutorials and tests.

Faithful enough that clients written against the spec work unchanged: the 26 operations under ``/api/v1``,
an identity provider (device flow, PKCE, rotating refresh tokens, RS256 JWTs with JWKS), signed-URL buckets on
disk, and a runner that processes slides with the local applications in worker processes. State lives in SQLite
(WAL) in the data dir and survives restarts, including ``kill -9``.

Example:
    >>> from aignostics_jupyter.emulator import LocalPlatform
    >>> with LocalPlatform(tmp_path) as platform:  # doctest: +SKIP
    ...     platform.api_root, platform.access_token()

Public surface: :func:`create_app` (ASGI app for in-process tests), :class:`LocalPlatform` (real HTTP in a
thread), :class:`EmulatorConfig`, :func:`main` (``local serve``).
"""

from __future__ import annotations

from aignostics_jupyter.emulator.app import create_app
from aignostics_jupyter.emulator.config import DEFAULT_ANALYSER, SYNTHETIC_ANALYSER, EmulatorConfig
from aignostics_jupyter.emulator.identity import (
    ADMIN_USER_ID,
    MEMBER_USER_ID,
    PARTNER_ORG_ID,
    PARTNER_USER_ID,
    PRIMARY_ORG_ID,
)
from aignostics_jupyter.emulator.platform import LocalPlatform
from aignostics_jupyter.emulator.serve import main

__all__ = [
    "ADMIN_USER_ID",
    "DEFAULT_ANALYSER",
    "MEMBER_USER_ID",
    "PARTNER_ORG_ID",
    "PARTNER_USER_ID",
    "PRIMARY_ORG_ID",
    "SYNTHETIC_ANALYSER",
    "EmulatorConfig",
    "LocalPlatform",
    "create_app",
    "main",
]
