"""Who may do what to a bucket: the checks every storage request passes, whichever port it arrives on.

Both adapters use these: the API port's routes (:mod:`.storage_routes`) and the part endpoint
(:mod:`.part_endpoint`). A refusal is a :class:`StorageDeniedError` carrying the HTTP status and the sentence to show.
"""

from __future__ import annotations

import errno
from collections.abc import Mapping
from typing import TYPE_CHECKING

from aignostics_jupyter.emulator.blobstore import BadKeyError
from aignostics_jupyter.storage.signing import SignatureError, verify

if TYPE_CHECKING:
    from aignostics_jupyter.emulator.services import Services

__all__ = ["StorageDeniedError", "check_signed", "storage_full"]


class StorageDeniedError(Exception):
    """A storage request refused: ``status`` is the HTTP status, ``detail`` the reason."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def check_signed(services: Services, params: Mapping[str, str], *, method: str, bucket: str, key: str) -> None:
    """Check that a request's signed query allows ``method`` on ``bucket``/``key`` (``LIST``: ``key`` is a prefix).

    Raises:
        StorageDeniedError: 400 for a key escaping its bucket, 404 for an unknown bucket, 403 for a bad, expired or
            foreign signature.
    """
    if method != "LIST":
        try:
            services.blobs.path_for(bucket, key)
        except BadKeyError as exc:
            raise StorageDeniedError(400, str(exc)) from exc
    secrets = services.bucket_secrets(bucket)
    if secrets is None:
        raise StorageDeniedError(404, f"no such bucket {bucket!r}")
    try:
        verify(dict(params), method=method, bucket=bucket, key=key, secrets=secrets)
    except SignatureError as exc:
        raise StorageDeniedError(403, str(exc)) from exc


def storage_full(exc: OSError) -> StorageDeniedError | None:
    """507 for a full disk (the upload or part is not recorded), None for other OS errors."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return StorageDeniedError(507, "the local platform's disk is full; free space and upload again")
    return None
