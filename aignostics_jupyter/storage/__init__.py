"""Buckets: the organization bucket of the platform, on the local platform or an S3-compatible store.

Example:
    >>> from aignostics_jupyter.storage import Bucket
    >>> bucket = Bucket.from_organization(me.organization, api_root=settings.api_root)  # doctest: +SKIP
    >>> [o.key for o in bucket.ls("me/")]  # doctest: +SKIP

This package never imports tornado, IPython or ipywidgets.
"""

from __future__ import annotations

from aignostics_jupyter.storage._bucket import SEVEN_DAYS, Bucket, UploadResult
from aignostics_jupyter.storage._local import LocalStorageBackend
from aignostics_jupyter.storage._s3 import S3StorageBackend
from aignostics_jupyter.storage._types import ObjectInfo, ProgressCallback, StorageBackend

__all__ = [
    "SEVEN_DAYS",
    "Bucket",
    "LocalStorageBackend",
    "ObjectInfo",
    "ProgressCallback",
    "S3StorageBackend",
    "StorageBackend",
    "UploadResult",
]
