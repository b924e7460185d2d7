"""Background downloads of run results into the workspace, with progress the sidebar polls.

One job per run at a time: asking again while a job runs returns that job; asking after it ended starts a new
one, which skips files already downloaded and verified (the client's download resumes). Blocking work runs in
the executor given; no web framework.

Example:
    >>> jobs = DownloadJobs(executor)  # doctest: +SKIP
    >>> job = jobs.start(client, run_id, folder, "aignostics-results")  # doctest: +SKIP
    >>> jobs.get(run_id).public()["state"]  # doctest: +SKIP
    'running'
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aignostics_jupyter.client import Client, Progress
from aignostics_jupyter.exceptions import AignosticsError, NotFoundError
from aignostics_jupyter.server.api_workspace import workspace_relative

__all__ = ["DownloadJob", "DownloadJobs"]


@dataclass
class DownloadJob:
    """The progress of one run's download.

    Attributes:
        run_id: The run.
        folder: Where the files land, relative to the server's root (``{base}/{run_id}``).
        state: ``running``, ``succeeded`` or ``failed``.
    """

    run_id: str
    folder: str
    job_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    state: str = "running"
    started_at: float = field(default_factory=time.time)
    finished_at: float | None = None
    current_file: str | None = None
    bytes_done: int = 0
    bytes_total: int = 0
    files: list[str] = field(default_factory=list)
    skipped: int = 0
    error: str | None = None
    _file_bytes: dict[str, tuple[int, int]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def on_progress(self, progress: Progress) -> None:
        """Record a progress report of :meth:`Run.download`."""
        with self._lock:
            self.current_file = Path(progress.name).name
            self._file_bytes[progress.name] = (progress.done, progress.total)
            self.bytes_done = sum(done for done, _ in self._file_bytes.values())
            self.bytes_total = sum(total for _, total in self._file_bytes.values())

    def public(self) -> dict[str, Any]:
        """The job as JSON."""
        with self._lock:
            return {
                "job_id": self.job_id,
                "run_id": self.run_id,
                "folder": self.folder,
                "state": self.state,
                "started_at": self.started_at,
                "finished_at": self.finished_at,
                "current_file": self.current_file,
                "bytes_done": self.bytes_done,
                "bytes_total": self.bytes_total,
                "files_downloaded": len(self.files) - self.skipped,
                "files_skipped": self.skipped,
                "files": list(self.files[:200]),
                "error": self.error,
            }


class DownloadJobs:
    """The registry of download jobs, one current job per run."""

    def __init__(self, executor: Executor, *, clock: Callable[[], float] = time.time) -> None:
        self._executor = executor
        self._clock = clock
        self._jobs: dict[str, DownloadJob] = {}
        self._lock = threading.Lock()

    def get(self, run_id: str) -> DownloadJob:
        """The run's latest job.

        Raises:
            NotFoundError: When no download of this run was started since the server started.
        """
        with self._lock:
            job = self._jobs.get(run_id)
        if job is None:
            raise NotFoundError(f"No download of the run {run_id} was started.")
        return job

    def start(self, client: Client, run_id: str, base: Path, root: Path) -> tuple[DownloadJob, bool]:
        """Start downloading a run's results into ``base/{run_id}`` unless a download of it is running.

        Returns:
            The job, and whether it was started now.
        """
        with self._lock:
            current = self._jobs.get(run_id)
            if current is not None and current.state == "running":
                return current, False
            job = DownloadJob(run_id, workspace_relative(root, base / run_id), started_at=self._clock())
            self._jobs[run_id] = job
        self._executor.submit(self._run, client, job, base, root)
        return job, True

    def _run(self, client: Client, job: DownloadJob, base: Path, root: Path) -> None:
        try:
            result = client.run(job.run_id).download(base, on_progress=job.on_progress)
        except AignosticsError as exc:
            job.error = exc.message
            job.state = "failed"
        except Exception as exc:  # a background thread must record, not lose, the failure
            job.error = f"The download failed unexpectedly ({type(exc).__name__})."
            job.state = "failed"
        else:
            with job._lock:
                job.files = [workspace_relative(root, path) for path in result.files]
                job.skipped = len(result.skipped)
            job.state = "succeeded"
        job.finished_at = self._clock()
