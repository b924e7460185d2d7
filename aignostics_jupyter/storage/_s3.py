"""S3-compatible buckets through s3fs: the real platform's GCS bucket (S3 interoperability, HMAC keys) or any S3.

Large files go up as parallel multipart uploads that resume after an interruption (see
:mod:`~aignostics_jupyter.storage._multipart`); the file's CRC32C travels as object metadata (``x-amz-meta-crc32c``)
so a later upload of the same content is skipped and downloads are verified. Every
s3fs/botocore error is translated into :mod:`aignostics_jupyter.exceptions` here and nowhere else.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from aignostics_jupyter.checksums import crc32c_file
from aignostics_jupyter.exceptions import (
    AignosticsError,
    NotFoundError,
    PermissionDeniedError,
    TransportError,
)
from aignostics_jupyter.storage._multipart import MultipartUploader
from aignostics_jupyter.storage._types import ObjectInfo, ProgressCallback

__all__ = ["S3StorageBackend"]

T = TypeVar("T")
_MULTIPART_CHUNK = 8 * 1024 * 1024
_CRC_META = "crc32c"


@contextlib.contextmanager
def _translated(what: str) -> Iterator[None]:
    """Translate s3fs/botocore/OS errors into ours (the one boundary of this backend)."""
    try:
        yield
    except AignosticsError:
        raise
    except FileNotFoundError as exc:
        raise NotFoundError(f"{what}: no such object") from exc
    except PermissionError as exc:
        raise PermissionDeniedError(f"{what}: access denied ({exc})") from exc
    except Exception as exc:  # botocore, aiohttp and OSError subclasses
        name = type(exc).__name__
        if "Credential" in name or "Signature" in name or "AccessDenied" in str(exc):
            raise PermissionDeniedError(f"{what}: {name}: {exc}") from exc
        raise TransportError(f"{what} failed: {name}: {exc}") from exc


class _Progress:
    """An fsspec callback forwarding to ``(done, total)``."""

    def __init__(self, on_progress: ProgressCallback | None) -> None:
        from fsspec.callbacks import Callback

        outer = on_progress

        class _Cb(Callback):  # type: ignore[misc]
            def call(self, *args: Any, **kwargs: Any) -> None:
                if outer is not None and self.size is not None:
                    outer(int(self.value), int(self.size))

        self.callback = _Cb()


class S3StorageBackend:
    """A bucket on an S3-compatible endpoint.

    Args:
        bucket: The bucket name.
        access_key_id: HMAC access key id.
        secret: HMAC secret (never shown).
        endpoint_url: The S3 endpoint (``https://storage.googleapis.com`` for the platform's GCS bucket).
        region_name: The signing region.
        max_concurrency: Parallel parts per multipart upload.
        filesystem_factory: Builds the s3fs filesystem (tests may inject one).
        state_dir: Where interrupted multipart uploads are remembered (default: the user's cache directory).
        part_size: Bytes per part of a multipart upload; smaller files go up in one request.
    """

    def __init__(
        self,
        bucket: str,
        *,
        access_key_id: str,
        secret: str,
        endpoint_url: str,
        region_name: str = "EUROPE-WEST3",
        max_concurrency: int = 4,
        filesystem_factory: Callable[..., Any] | None = None,
        state_dir: Path | None = None,
        part_size: int = 16 * 1024 * 1024,
    ) -> None:
        self.bucket = bucket
        self.endpoint_url = endpoint_url
        self._max_concurrency = max_concurrency
        if filesystem_factory is None:
            import s3fs

            filesystem_factory = s3fs.S3FileSystem
        with _translated("Connecting to the bucket"):
            self._fs = filesystem_factory(
                key=access_key_id,
                secret=secret,
                endpoint_url=endpoint_url,
                client_kwargs={"region_name": region_name},
                config_kwargs={"signature_version": "s3v4"},
                max_concurrency=max_concurrency,
                skip_instance_cache=True,
                use_listings_cache=False,
            )
        if state_dir is None:
            import platformdirs

            state_dir = Path(platformdirs.user_cache_dir("aignostics")) / "aignostics-jupyter" / "uploads"
        self._multipart = MultipartUploader(
            self._fs.call_s3, state_dir=state_dir, max_concurrency=max_concurrency, part_size=part_size
        )

    def __repr__(self) -> str:
        return f"S3StorageBackend(bucket={self.bucket!r}, endpoint_url={self.endpoint_url!r})"

    def _path(self, key: str) -> str:
        return f"{self.bucket}/{key}"

    def _info(self, entry: dict[str, Any], crc32c: str | None = None) -> ObjectInfo:
        name = str(entry.get("name") or entry.get("Key") or "")
        key = name.split("/", 1)[1] if name.startswith(self.bucket + "/") else name
        modified = entry.get("LastModified") or entry.get("last_modified")
        return ObjectInfo(
            key=key,
            size=int(entry.get("size") or entry.get("Size") or 0),
            last_modified=modified if isinstance(modified, datetime) else None,
            crc32c=crc32c,
        )

    def ls(self, prefix: str) -> list[ObjectInfo]:
        """List objects under ``prefix`` (CRC32Cs are not listed by S3; see :meth:`head`)."""
        with _translated(f"Listing {self.bucket}/{prefix}"):
            found = self._fs.find(self._path(prefix), detail=True, withdirs=False, prefix="")
        entries = found.values() if isinstance(found, dict) else []
        out = [self._info(e) for e in entries if e.get("type", "file") == "file"]
        return sorted((o for o in out if o.key.startswith(prefix)), key=lambda o: o.key)

    def head(self, key: str) -> ObjectInfo | None:
        """Return one object's info with the CRC32C from its metadata, or None."""
        try:
            with _translated(f"Reading {self.bucket}/{key}"):
                info = self._fs.info(self._path(key), refresh=True)
                meta = self._fs.metadata(self._path(key), refresh=True) or {}
        except NotFoundError:
            return None
        crc = meta.get(_CRC_META) or meta.get(f"x-amz-meta-{_CRC_META}")
        return self._info({**info, "name": self._path(key)}, crc32c=crc)

    def upload(self, path: Path, key: str, *, crc32c: str | None, on_progress: ProgressCallback | None) -> ObjectInfo:
        """Upload a file, storing its CRC32C as metadata.

        Files larger than one part go up as a parallel multipart upload; when it is interrupted (network, Ctrl-C),
        uploading the same file to the same key again sends only the parts the store does not hold yet.
        """
        crc32c = crc32c or crc32c_file(path)
        size = path.stat().st_size
        if size > self._multipart.part_size:
            what = f"Uploading {path.name} (run the same upload again to resume it)"
            with _translated(what):
                self._multipart.upload(
                    path, self.bucket, key, crc32c=crc32c, metadata={_CRC_META: crc32c}, on_progress=on_progress
                )
            return ObjectInfo(key=key, size=size, crc32c=crc32c)
        progress = _Progress(on_progress)
        with _translated(f"Uploading {path.name}"):
            self._fs.put_file(
                str(path),
                self._path(key),
                callback=progress.callback,
                chunksize=_MULTIPART_CHUNK,
                max_concurrency=self._max_concurrency,
                Metadata={_CRC_META: crc32c},
                ContentType="application/octet-stream",
            )
        return ObjectInfo(key=key, size=path.stat().st_size, crc32c=crc32c)

    def download(self, key: str, dest: Path, *, on_progress: ProgressCallback | None) -> None:
        """Download an object into ``dest``; a partial ``dest`` is continued with ranged reads."""
        offset = dest.stat().st_size if dest.exists() else 0
        with _translated(f"Downloading {self.bucket}/{key}"):
            if offset == 0:
                self._fs.get_file(self._path(key), str(dest), callback=_Progress(on_progress).callback)
                return
            with self._fs.open(self._path(key), "rb", block_size=_MULTIPART_CHUNK) as remote, dest.open("ab") as out:
                size = int(remote.size)
                if offset >= size:
                    return
                remote.seek(offset)
                done = offset
                while chunk := remote.read(_MULTIPART_CHUNK):
                    out.write(chunk)
                    done += len(chunk)
                    if on_progress is not None:
                        on_progress(done, size)

    def delete(self, keys: Iterable[str]) -> None:
        """Delete objects; missing ones are ignored."""
        paths = [self._path(k) for k in keys]
        if not paths:
            return
        with _translated(f"Deleting from {self.bucket}"):
            for path in paths:
                with contextlib.suppress(FileNotFoundError):
                    self._fs.rm_file(path)

    def sign(self, key: str, method: str, expires_in: int) -> str:
        """Return a SigV4 presigned URL (at most 7 days) for GET or PUT."""
        client_method = {"GET": "get_object", "HEAD": "head_object", "PUT": "put_object"}.get(method.upper())
        if client_method is None:
            raise AignosticsError(f"Cannot presign {method} for an S3 bucket; use GET or PUT")
        with _translated(f"Signing {self.bucket}/{key}"):
            return str(self._fs.url(self._path(key), expires=min(int(expires_in), 604800), client_method=client_method))
