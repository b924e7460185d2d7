"""The organization bucket: one interface over the local platform's storage and S3-compatible stores.

Example:
    >>> from aignostics_jupyter.client import Client
    >>> bucket = Client().bucket()  # doctest: +SKIP
    >>> info = bucket.upload("slides/case-1.svs", "me/case-1.svs", on_progress=print)  # doctest: +SKIP
    >>> url = bucket.sign("me/case-1.svs", "GET", expires=7 * 24 * 3600)  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from aignostics_jupyter.checksums import crc32c_file
from aignostics_jupyter.exceptions import ConfigurationError, IntegrityError, NotFoundError
from aignostics_jupyter.storage._local import LocalStorageBackend
from aignostics_jupyter.storage._s3 import S3StorageBackend
from aignostics_jupyter.storage._types import ObjectInfo, ProgressCallback, StorageBackend

__all__ = ["SEVEN_DAYS", "Bucket", "UploadResult"]

#: The longest presigned URL lifetime SigV4 allows, and what the platform recommends for inputs.
SEVEN_DAYS = 7 * 24 * 3600


class UploadResult(ObjectInfo):
    """An uploaded (or already present) object and whether it was skipped."""

    skipped: bool = False


class Bucket:
    """The organization's bucket: list, upload (with progress), download (verified), delete, sign.

    Build it with :meth:`from_organization` from ``client.me().organization``, or through
    :meth:`aignostics_jupyter.client.Client.bucket`.
    """

    def __init__(self, backend: StorageBackend, *, protocol: str) -> None:
        self.backend = backend
        self.protocol = protocol

    @property
    def name(self) -> str:
        """The bucket name."""
        return self.backend.bucket

    def __repr__(self) -> str:
        return f"Bucket({self.scheme}://{self.name})"

    @classmethod
    def from_organization(
        cls,
        organization: Any,
        *,
        api_root: str,
        storage_endpoint_url: str = "https://storage.googleapis.com",
        region_name: str = "EUROPE-WEST3",
        http: httpx.Client | None = None,
        overrides: Mapping[str, str | None] | None = None,
        clock: Callable[[], float] = time.time,
        timeout: float = 60.0,
        state_dir: Path | None = None,
    ) -> Bucket:
        """Build the bucket named in ``GET /v1/me`` (an ``OrganizationReadResponse``).

        Args:
            organization: The organization, with ``aignostics_bucket_*`` fields.
            api_root: The platform root; the local platform serves its buckets at ``{api_root}/storage``.
            storage_endpoint_url: The S3-compatible endpoint for ``gs``/``s3`` buckets.
            region_name: The S3 signing region.
            http: The httpx client for the local platform's storage.
            overrides: Settings that replace the organization's values (``bucket_name``, ``bucket_protocol``,
                ``access_key_id``, ``secret``).
            clock: Unix time source for local signatures.
            timeout: Seconds per storage request.
            state_dir: Where interrupted multipart uploads to S3-compatible stores are remembered.
        """
        over = {k: v for k, v in (overrides or {}).items() if v}
        name = over.get("bucket_name") or organization.aignostics_bucket_name
        protocol = (over.get("bucket_protocol") or organization.aignostics_bucket_protocol or "gs").lower()
        key_id = over.get("access_key_id") or organization.aignostics_bucket_hmac_access_key_id
        secret = over.get("secret") or organization.aignostics_bucket_hmac_secret_access_key
        if protocol in ("http", "https", "local"):
            backend: StorageBackend = LocalStorageBackend(
                f"{api_root.rstrip('/')}/storage",
                name,
                access_key_id=key_id,
                secret=secret,
                http=http or httpx.Client(),
                timeout=timeout,
                clock=clock,
            )
        elif protocol in ("gs", "s3"):
            backend = S3StorageBackend(
                name,
                access_key_id=key_id,
                secret=secret,
                endpoint_url=storage_endpoint_url,
                region_name=region_name,
                state_dir=state_dir,
            )
        else:
            raise ConfigurationError(f"Unknown bucket protocol {protocol!r}; expected gs, s3, http or https")
        return cls(backend, protocol=protocol)

    # ------------------------------------------------------------------------------------- operations

    @property
    def scheme(self) -> str:
        """The scheme of bucket URLs: ``gs`` or ``s3``, and ``local`` for the local platform's storage."""
        return self.protocol if self.protocol in ("gs", "s3") else "local"

    def url(self, key: str) -> str:
        """Return the object's bucket URL, e.g. ``gs://bucket/key`` (``local://bucket/key`` on the local platform)."""
        return f"{self.scheme}://{self.name}/{key}"

    def ls(self, prefix: str = "") -> list[ObjectInfo]:
        """List objects whose keys start with ``prefix``."""
        return self.backend.ls(prefix)

    def head(self, key: str) -> ObjectInfo | None:
        """Return one object's info, or None when it does not exist."""
        return self.backend.head(key)

    def upload(
        self,
        path: str | Path,
        key: str,
        *,
        crc32c: str | None = None,
        on_progress: ProgressCallback | None = None,
        skip_existing: bool = True,
    ) -> UploadResult:
        """Upload a file; an object already there with the same CRC32C is not uploaded again.

        Args:
            path: The local file.
            key: The object key.
            crc32c: The file's CRC32C when already known (else computed).
            on_progress: Called with ``(bytes_done, bytes_total)``.
            skip_existing: Skip when an object with the same key and CRC32C exists.
        """
        source = Path(path)
        if not source.is_file():
            raise NotFoundError(f"{source} does not exist or is not a file")
        size = source.stat().st_size
        checksum = crc32c
        if skip_existing:
            existing = self.backend.head(key)
            if existing is not None and existing.size == size:
                # Only an object that may be the same file costs a checksum pass before the upload.
                checksum = checksum or crc32c_file(source)
                if existing.crc32c == checksum:
                    if on_progress is not None:
                        on_progress(size, size)
                    return UploadResult(**existing.model_dump(), skipped=True)
        info = self.backend.upload(source, key, crc32c=checksum, on_progress=on_progress)
        return UploadResult(**info.model_dump(), skipped=False)

    def upload_many(
        self,
        files: Mapping[str | Path, str],
        *,
        crc32cs: Mapping[str | Path, str] | None = None,
        on_progress: Callable[[Path, int, int], None] | None = None,
        max_workers: int = 4,
    ) -> dict[Path, UploadResult]:
        """Upload several files in parallel (path → key); progress is reported per file."""
        checks = {Path(k): v for k, v in (crc32cs or {}).items()}

        def one(item: tuple[str | Path, str]) -> tuple[Path, UploadResult]:
            path = Path(item[0])

            def progress(done: int, total: int) -> None:
                if on_progress is not None:
                    on_progress(path, done, total)

            return path, self.upload(path, item[1], crc32c=checks.get(path), on_progress=progress)

        with ThreadPoolExecutor(max_workers=max(1, max_workers), thread_name_prefix="aignostics-upload") as pool:
            return dict(pool.map(one, list(files.items())))

    def download(
        self, key: str, dest: str | Path, *, on_progress: ProgressCallback | None = None, verify: bool = True
    ) -> Path:
        """Download an object to ``dest`` (a file path, or an existing directory), verified by CRC32C.

        A finished file with the right checksum is skipped; a partial one (``.part``) is resumed.

        Raises:
            IntegrityError: The downloaded data did not match the object's CRC32C (the file was removed).
        """
        target = Path(dest)
        if target.is_dir():
            target = target / Path(key).name
        info = self.backend.head(key) if verify else None
        if info is None and verify:
            raise NotFoundError(f"{self.url(key)} does not exist")
        expected = info.crc32c if info else None
        if expected and target.is_file() and crc32c_file(target) == expected:
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        part = target.with_name(target.name + ".part")
        self.backend.download(key, part, on_progress=on_progress)
        got = part.stat().st_size
        if info is not None and got != info.size:
            with contextlib.suppress(FileNotFoundError):
                part.unlink()
            raise IntegrityError(f"{target.name} has {got} bytes, not {info.size}; the file was removed")
        if expected:
            actual = crc32c_file(part)
            if actual != expected:
                with contextlib.suppress(FileNotFoundError):
                    part.unlink()
                msg = f"{target.name} failed its CRC32C check (expected {expected}, got {actual}); it was removed"
                raise IntegrityError(msg)
        os.replace(part, target)
        return target

    def delete(self, keys: str | Iterable[str]) -> None:
        """Delete one or more objects (missing ones are ignored)."""
        self.backend.delete([keys] if isinstance(keys, str) else list(keys))

    def sign(self, key: str, method: str = "GET", expires: int = SEVEN_DAYS) -> str:
        """Return a presigned URL for ``method`` (GET or PUT) valid for ``expires`` seconds (≤ 7 days)."""
        return self.backend.sign(key, method.upper(), min(int(expires), SEVEN_DAYS))
