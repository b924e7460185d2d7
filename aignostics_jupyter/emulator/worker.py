"""What a worker process does with one item: fetch the input slide over HTTP, check it, run the analysis.

Runs outside the API process (``ProcessPoolExecutor``), so it gets and returns plain picklable data. Outcomes:

- ``USER_ERROR``: the download failed (HTTP error, unreachable URL), the file is empty, its CRC32C differs from
  the metadata's ``checksum_base64_crc32c``, or the analysis raised ``ItemUserError`` (unreadable slide, …);
- ``SYSTEM_ERROR``: the analysis raised ``ItemSystemError`` or failed unexpectedly;
- ``SUCCEEDED``: with the produced artifacts (name, file path, metadata).
"""

from __future__ import annotations

import importlib
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx

from aignostics_jupyter.checksums import Crc32c

__all__ = ["Job", "JobResult", "load_analyser", "run_job"]

_CHUNK = 1024 * 1024
AnalyseFn = Callable[..., Any]


@dataclass(frozen=True)
class Job:
    """One item to process."""

    item_id: str
    attempt: int
    application_id: str
    version_number: str
    artifact_name: str
    download_url: str
    metadata: dict[str, Any]
    work_dir: str
    analyser: str | AnalyseFn


@dataclass
class JobResult:
    """The outcome of one job."""

    item_id: str
    attempt: int
    outcome: str
    error_code: str | None = None
    error_message: str | None = None
    artifacts: list[dict[str, Any]] = field(default_factory=list)


class _ItemFailedError(Exception):
    def __init__(self, outcome: str, code: str, message: str) -> None:
        super().__init__(message)
        self.outcome = outcome
        self.code = code
        self.message = message


def load_analyser(analyser: str | AnalyseFn) -> AnalyseFn:
    """Resolve ``'module:function'`` (or pass a callable through)."""
    if callable(analyser):
        return analyser
    module_name, _, attribute = analyser.partition(":")
    function: AnalyseFn = getattr(importlib.import_module(module_name), attribute or "analyse")
    return function


def _file_name(url: str) -> str:
    name = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    name = re.sub(r"[^A-Za-z0-9._-]", "_", name).strip("._")
    return name or "input.bin"


def _download(url: str, target: Path) -> str:
    crc = Crc32c()
    try:
        with httpx.stream("GET", url, timeout=httpx.Timeout(60.0), follow_redirects=True) as response:
            if response.status_code >= 400:
                msg = f"Downloading the input slide failed: HTTP {response.status_code} from its download_url."
                raise _ItemFailedError("USER_ERROR", "INPUT.DOWNLOAD_FAILED", msg)
            with target.open("wb") as stream:
                for chunk in response.iter_bytes(_CHUNK):
                    crc.update(chunk)
                    stream.write(chunk)
    except httpx.HTTPError as exc:
        msg = f"Downloading the input slide failed: {type(exc).__name__} ({exc})."
        raise _ItemFailedError("USER_ERROR", "INPUT.DOWNLOAD_FAILED", msg) from exc
    return crc.base64()


def _classify(exc: BaseException) -> tuple[str, str, str]:
    kind = type(exc).__name__
    code = str(getattr(exc, "code", "") or "")
    message = str(getattr(exc, "message", "") or exc)
    if kind == "ItemUserError":
        return "USER_ERROR", code or "APPLICATION.USER_ERROR", f"User error raised by the application: {message}"
    if kind == "ItemSystemError":
        return "SYSTEM_ERROR", code or "APPLICATION.SYSTEM_ERROR", f"A system error occurred: {message}"
    return "SYSTEM_ERROR", "APPLICATION.INTERNAL_ERROR", f"A system error occurred: {kind}: {message}"


def run_job(job: Job) -> JobResult:
    """Process one item end to end (never raises).

    Args:
        job: The item, its input and where to work.

    Returns:
        The outcome; on success the artifacts' files are under ``{work_dir}/out``.
    """
    work = Path(job.work_dir)
    shutil.rmtree(work, ignore_errors=True)
    (work / "in").mkdir(parents=True)
    out_dir = work / "out"
    out_dir.mkdir()
    slide = work / "in" / _file_name(job.download_url)
    try:
        checksum = _download(job.download_url, slide)
        if slide.stat().st_size == 0:
            raise _ItemFailedError("USER_ERROR", "INPUT.EMPTY_FILE", "The input slide is an empty (zero-byte) file.")
        declared = job.metadata.get("checksum_base64_crc32c")
        if declared is not None and declared != checksum:
            msg = f"The input slide's CRC32C is {checksum}, but its metadata says {declared}; it may be truncated."
            raise _ItemFailedError("USER_ERROR", "INPUT.CHECKSUM_MISMATCH", msg)
        analyse = load_analyser(job.analyser)
        produced = analyse(job.application_id, job.version_number, slide, job.metadata, out_dir, progress=None)
        artifacts = [{"name": str(a.name), "path": str(a.path), "metadata": dict(a.metadata)} for a in produced]
    except _ItemFailedError as exc:
        return JobResult(job.item_id, job.attempt, exc.outcome, exc.code, exc.message)
    except Exception as exc:
        outcome, code, message = _classify(exc)
        return JobResult(job.item_id, job.attempt, outcome, code, message)
    finally:
        slide.unlink(missing_ok=True)
    return JobResult(job.item_id, job.attempt, "SUCCEEDED", artifacts=artifacts)
