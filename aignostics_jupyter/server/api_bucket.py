"""The organization bucket for the sidebar: browse by prefix like folders, upload, download, delete, sign.

Keys are browsed with ``/`` as the folder separator: a listing of ``prefix`` returns the objects directly under
it and the sub-prefixes (folders) with their object counts and total sizes. Workspace files and folders are
confined to the server's root (:mod:`~aignostics_jupyter.server.api_workspace`). Blocking; no web framework.

Example:
    >>> browse(bucket, "me/")  # doctest: +SKIP
    {'bucket': 'org-bucket', 'prefix': 'me/', 'folders': [...], 'objects': [...]}
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from aignostics_jupyter.exceptions import InvalidInputError, NotFoundError
from aignostics_jupyter.server.api_workspace import confine_file, confine_folder, workspace_relative
from aignostics_jupyter.storage import SEVEN_DAYS, Bucket

__all__ = ["DeleteRequest", "DownloadRequest", "SignRequest", "UploadRequest", "browse", "download", "upload"]

_KEY = Field(min_length=1, max_length=1024)


class UploadRequest(BaseModel):
    """``POST api/bucket/upload``: a workspace file, and the key (default: ``prefix`` + the file's name)."""

    model_config = ConfigDict(extra="forbid")
    path: str = Field(min_length=1, max_length=1024)
    key: str | None = Field(None, max_length=1024)
    prefix: str = Field("", max_length=1024)


class DownloadRequest(BaseModel):
    """``POST api/bucket/download``: an object key, and the workspace folder to put it in."""

    model_config = ConfigDict(extra="forbid")
    key: str = _KEY
    folder: str = Field("", max_length=1024)


class DeleteRequest(BaseModel):
    """``POST api/bucket/delete``: the keys to delete."""

    model_config = ConfigDict(extra="forbid")
    keys: list[str] = Field(min_length=1, max_length=1000)


class SignRequest(BaseModel):
    """``POST api/bucket/sign``: a presigned URL for one object."""

    model_config = ConfigDict(extra="forbid")
    key: str = _KEY
    method: Literal["GET", "PUT"] = "GET"
    expires: int = Field(SEVEN_DAYS, ge=60, le=SEVEN_DAYS)


def _check_key(key: str) -> str:
    if key.startswith("/") or any(part in ("", ".", "..") for part in key.split("/")):
        raise InvalidInputError(f"The object key {key[:200]!r} is not valid.")
    return key


def browse(bucket: Bucket, prefix: str) -> dict[str, Any]:
    """The objects directly under ``prefix`` and its sub-prefixes, like a folder listing."""
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    folders: dict[str, dict[str, Any]] = {}
    objects = []
    for info in bucket.ls(prefix):
        rest = info.key[len(prefix) :]
        if "/" in rest:
            name = rest.split("/", 1)[0]
            folder = folders.setdefault(name, {"prefix": f"{prefix}{name}/", "name": name, "objects": 0, "size": 0})
            folder["objects"] += 1
            folder["size"] += info.size
        else:
            objects.append(
                {
                    "key": info.key,
                    "name": rest,
                    "size": info.size,
                    "last_modified": info.last_modified.isoformat() if info.last_modified else None,
                }
            )
    return {
        "bucket": bucket.name,
        "protocol": bucket.protocol,
        "prefix": prefix,
        "folders": sorted(folders.values(), key=lambda f: f["name"]),
        "objects": sorted(objects, key=lambda o: o["name"]),
    }


def upload(bucket: Bucket, root: Path, request: UploadRequest, *, allow_hidden: bool = False) -> dict[str, Any]:
    """Upload a workspace file into the bucket."""
    source = confine_file(root, request.path, allow_hidden=allow_hidden)
    prefix = request.prefix if not request.prefix or request.prefix.endswith("/") else request.prefix + "/"
    key = _check_key(request.key or f"{prefix}{source.name}")
    result = bucket.upload(source, key)
    return {"key": result.key, "size": result.size, "skipped": result.skipped, "url": bucket.url(result.key)}


def download(bucket: Bucket, root: Path, request: DownloadRequest, *, allow_hidden: bool = False) -> dict[str, Any]:
    """Download an object into a workspace folder (created when missing)."""
    key = _check_key(request.key)
    if bucket.head(key) is None:
        raise NotFoundError(f"There is no object {key!r} in the bucket.")
    folder = confine_folder(root, request.folder, allow_hidden=allow_hidden)
    name = key.rsplit("/", 1)[-1]
    if name.startswith(".") and not allow_hidden:
        raise InvalidInputError(f"The object {key!r} would be a hidden file in the workspace.")
    path = bucket.download(key, folder / name)
    return {"key": key, "path": workspace_relative(root, path), "size": path.stat().st_size}
