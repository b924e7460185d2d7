"""``%aignostics bucket ls|upload|download|rm``: the organization bucket, thin over ``storage.Bucket``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aignostics_jupyter.exceptions import NotFoundError
from aignostics_jupyter.magics._results import ResultList
from aignostics_jupyter.widgets._platform import platform_client
from aignostics_jupyter.widgets._platform_html import utc_text

if TYPE_CHECKING:
    from aignostics_jupyter.storage import ObjectInfo

__all__ = ["bucket"]


def _row(info: ObjectInfo) -> list[Any]:
    return [info.key, f"{info.size:,}", utc_text(info.last_modified), info.crc32c or ""]


def bucket(args: argparse.Namespace, cell: str | None = None) -> Any:
    """Run one bucket action; ``ls`` returns the objects as a table (a list of ObjectInfo)."""
    store = platform_client().bucket()
    if args.action == "ls":
        objects = store.ls(args.prefix)
        title = f"{store.url(args.prefix)}"
        return ResultList(objects, ["key", "bytes", "last modified", "crc32c"], _row, title=title)
    if args.action == "upload":
        source = Path(args.source).expanduser()
        if not source.is_file():
            raise NotFoundError(f"{source} does not exist or is not a file")
        result = store.upload(source, args.key or source.name)
        verb = "already there" if result.skipped else "uploaded"
        print(f"{source.name} {verb}: {store.url(result.key)} ({result.size:,} bytes).")
        return result
    if args.action == "download":
        target = store.download(args.key, Path(args.dest).expanduser())
        print(f"Downloaded {store.url(args.key)} to {target}.")
        return target
    missing = [key for key in args.keys if store.head(key) is None]
    if missing:
        raise NotFoundError(f"Not in the bucket (nothing was deleted): {', '.join(missing)}")
    store.delete(args.keys)
    print(f"Deleted {len(args.keys)} object(s).")
    return None
