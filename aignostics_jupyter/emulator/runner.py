"""The runner: a scheduler thread that feeds PENDING items to worker processes and records what they return.

Items are taken in queue order (runs with a ``due_date`` first, earliest first; then submission order). The API
never waits for it: ``POST /v1/runs`` only stores the run and wakes the scheduler. Each tick the scheduler

1. records finished jobs (artifacts are moved into the platform-internal area, then the item, its artifacts and
   the run change state in one transaction; a job whose item was cancelled meanwhile is discarded);
2. cancels runs whose deadline passed, and runs whose failed items reached the error threshold;
3. starts PENDING items while a worker is free.

On start, items left PROCESSING by a crash are requeued, so a ``kill -9`` loses nothing.
"""

from __future__ import annotations

import functools
import json
import logging
import multiprocessing
import queue
import shutil
import threading
import time
import uuid
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aignostics_jupyter.emulator.identity import INTERNAL_BUCKET
from aignostics_jupyter.emulator.multipart import MultipartUploads
from aignostics_jupyter.emulator.runstore import (
    THRESHOLD_ERROR_CODE,
    cancel_run,
    dumps,
    now_iso,
    recompute_run,
    requeue_interrupted,
)
from aignostics_jupyter.emulator.services import Services
from aignostics_jupyter.emulator.worker import AnalyseFn, Job, JobResult, run_job

__all__ = ["DEADLINE_ERROR_CODE", "Runner"]

DEADLINE_ERROR_CODE = "SCHEDULER.DEADLINE_EXCEEDED"
_EXTENSIONS = {"image/tiff": ".tiff", "text/csv": ".csv", "application/geo+json": ".json", "application/json": ".json"}
_log = logging.getLogger(__name__)


class Runner:
    """Processes the queue of one local platform instance.

    Args:
        services: The instance's services.
        analyse: An analysis callable to use instead of ``config.analyser`` (a seam for tests; in process mode it
            must be importable by the worker processes).
    """

    def __init__(self, services: Services, *, analyse: AnalyseFn | None = None) -> None:
        self.services = services
        self.config = services.config
        self._analyser: str | AnalyseFn = analyse or self.config.analyser
        self._results: queue.Queue[tuple[Job, JobResult | BaseException]] = queue.Queue()
        self._inflight: dict[str, Job] = {}
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._paused = threading.Event()
        self._thread: threading.Thread | None = None
        self._executor: Executor | None = None
        self.work_root = self.config.data_dir / "work"
        self._next_expiry_check = 0.0

    # ------------------------------------------------------------------------------------------------- lifecycle

    def start(self) -> None:
        """Requeue interrupted items and start the scheduler thread."""
        requeued = requeue_interrupted(self.services.db)
        if requeued:
            _log.info("requeued %d items interrupted by a restart", requeued)
        shutil.rmtree(self.work_root, ignore_errors=True)
        self.work_root.mkdir(parents=True, exist_ok=True)
        self._thread = threading.Thread(target=self._loop, name="local-platform-scheduler", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Ask the scheduler to look at the queue now."""
        self._wake.set()

    def pause(self) -> None:
        """Start no new items until :meth:`resume` (items in flight finish); for tests and maintenance."""
        self._paused.set()

    def resume(self) -> None:
        """Start items again after :meth:`pause`."""
        self._paused.clear()
        self._wake.set()

    def stop(self) -> None:
        """Stop scheduling; running jobs are abandoned (their items are requeued at the next start)."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    def _executor_for_jobs(self) -> Executor:
        if self._executor is None:
            if self.config.worker_mode == "process":
                context = multiprocessing.get_context("spawn")
                self._executor = ProcessPoolExecutor(self.config.workers, mp_context=context)
            else:
                self._executor = ThreadPoolExecutor(self.config.workers, thread_name_prefix="local-platform-worker")
        return self._executor

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                self.tick()
            except Exception:  # pragma: no cover - keep scheduling whatever happens
                _log.exception("scheduler tick failed")
            self._wake.wait(self.config.scheduler_interval)
            self._wake.clear()

    def tick(self) -> None:
        """One scheduling round: record results, enforce deadlines, start items."""
        self._collect()
        self._enforce_deadlines()
        self._expire_artifacts()
        self._dispatch()

    # -------------------------------------------------------------------------------------------------- dispatch

    def _next_item(self) -> Any:
        return self.services.db.one(
            "SELECT i.item_id, i.run_id, r.application_id, r.version_number FROM items i "
            "JOIN runs r ON r.run_id = i.run_id WHERE i.state = 'PENDING' AND r.state != 'TERMINATED' "
            "ORDER BY i.queue_key LIMIT 1"
        )

    def _dispatch(self) -> None:
        db = self.services.db
        while len(self._inflight) < self.config.workers and not (self._stopping.is_set() or self._paused.is_set()):
            row = self._next_item()
            if row is None:
                return
            with db.transaction() as conn:
                conn.execute(
                    "UPDATE items SET state = 'PROCESSING', attempt = attempt + 1 WHERE item_id = ?", (row["item_id"],)
                )
                conn.execute(
                    "UPDATE output_artifacts SET state = 'PROCESSING' WHERE item_id = ? AND state = 'PENDING'",
                    (row["item_id"],),
                )
                recompute_run(conn, row["run_id"])
                attempt = conn.execute("SELECT attempt FROM items WHERE item_id = ?", (row["item_id"],)).fetchone()[0]
                artifact = conn.execute(
                    "SELECT * FROM input_artifacts WHERE item_id = ? ORDER BY rowid LIMIT 1", (row["item_id"],)
                ).fetchone()
            job = Job(
                item_id=row["item_id"],
                attempt=int(attempt),
                application_id=row["application_id"],
                version_number=row["version_number"],
                artifact_name=artifact["name"],
                download_url=artifact["download_url"],
                metadata=json.loads(artifact["metadata"]),
                work_dir=str(self.work_root / row["item_id"]),
                analyser=self._analyser,
            )
            self._inflight[job.item_id] = job
            future = self._executor_for_jobs().submit(run_job, job)
            future.add_done_callback(functools.partial(self._done, job))

    def _done(self, job: Job, future: Future[JobResult]) -> None:
        try:
            self._results.put((job, future.result()))
        except BaseException as exc:
            self._results.put((job, exc))
        self._wake.set()

    # --------------------------------------------------------------------------------------------------- results

    def _collect(self) -> None:
        while True:
            try:
                job, outcome = self._results.get_nowait()
            except queue.Empty:
                return
            self._inflight.pop(job.item_id, None)
            if isinstance(outcome, BaseException):
                if self._stopping.is_set():
                    continue
                outcome = JobResult(
                    job.item_id, job.attempt, "SYSTEM_ERROR", "PLATFORM.WORKER_FAILED",
                    f"A system error occurred: the worker failed ({type(outcome).__name__}: {outcome}).",
                )  # fmt: skip
                self._executor = None
            try:
                self._record(outcome)
            except Exception as exc:  # e.g. the analysis named a file it did not write
                _log.warning("recording item %s failed: %s", job.item_id, exc)
                self._record(
                    JobResult(
                        job.item_id, job.attempt, "SYSTEM_ERROR", "PLATFORM.RECORDING_FAILED",
                        f"A system error occurred while storing the item's results: {type(exc).__name__}: {exc}",
                    )
                )  # fmt: skip
            finally:
                shutil.rmtree(job.work_dir, ignore_errors=True)

    def _record(self, result: JobResult) -> None:
        db = self.services.db
        item = db.one("SELECT * FROM items WHERE item_id = ?", (result.item_id,))
        if item is None or item["state"] != "PROCESSING" or item["attempt"] != result.attempt:
            return  # cancelled (or requeued) meanwhile: the work is discarded
        run_id = item["run_id"]
        stored: list[tuple[dict[str, Any], str]] = []
        try:
            for artifact in result.artifacts if result.outcome == "SUCCEEDED" else []:
                media_type = str(artifact["metadata"].get("media_type") or artifact["metadata"].get("mime_type") or "")
                suffix = _EXTENSIONS.get(media_type, Path(artifact["path"]).suffix or ".bin")
                key = f"runs/{run_id}/{result.item_id}/{artifact['name'].replace(':', '_')}{suffix}"
                self.services.blobs.put_file(INTERNAL_BUCKET, key, Path(artifact["path"]), content_type=media_type)
                stored.append((artifact, key))
        except Exception:
            for _artifact, key in stored:
                self.services.blobs.delete(INTERNAL_BUCKET, key)
            raise
        now = now_iso()
        with db.transaction() as conn:
            finished = conn.execute(
                "UPDATE items SET state = 'TERMINATED', termination_reason = ?, error_code = ?, error_message = ?, "
                "terminated_at = ? WHERE item_id = ? AND state = 'PROCESSING' AND attempt = ?",
                (result.outcome, result.error_code, result.error_message, now, result.item_id, result.attempt),
            ).rowcount
            if not finished:  # cancelled while its files were being stored
                for _artifact, key in stored:
                    self.services.blobs.delete(INTERNAL_BUCKET, key)
                return
            for artifact, key in stored:
                changed = conn.execute(
                    "UPDATE output_artifacts SET state = 'TERMINATED', termination_reason = 'SUCCEEDED', "
                    "output = 'AVAILABLE', metadata = ?, storage_key = ? WHERE item_id = ? AND name = ?",
                    (dumps(artifact["metadata"]), key, result.item_id, artifact["name"]),
                ).rowcount
                if not changed:
                    conn.execute(
                        "INSERT INTO output_artifacts (output_artifact_id, item_id, run_id, name, metadata, state, "
                        "termination_reason, output, storage_key) "
                        "VALUES (?, ?, ?, ?, ?, 'TERMINATED', 'SUCCEEDED', 'AVAILABLE', ?)",
                        (str(uuid.uuid4()), result.item_id, run_id, artifact["name"], dumps(artifact["metadata"]), key),
                    )
            reason = "SKIPPED" if result.outcome == "SUCCEEDED" else result.outcome
            conn.execute(
                "UPDATE output_artifacts SET state = 'TERMINATED', termination_reason = ?, output = 'NONE', "
                "error_code = ?, error_message = ? WHERE item_id = ? AND state != 'TERMINATED'",
                (reason, result.error_code, result.error_message, result.item_id),
            )
            errors = conn.execute(
                "SELECT COUNT(*) FROM items WHERE run_id = ? AND termination_reason IN ('USER_ERROR', 'SYSTEM_ERROR')",
                (run_id,),
            ).fetchone()[0]
            recompute_run(conn, run_id)
        threshold = self.config.error_threshold
        if result.outcome != "SUCCEEDED" and errors >= threshold:
            cancel_run(
                db,
                run_id,
                reason="CANCELED_BY_SYSTEM",
                error_code=THRESHOLD_ERROR_CODE,
                error_message=f"Run canceled given errors on {errors} items (threshold {threshold}).",
                item_message=(
                    f"The threshold of {threshold} items finishing in error state for the run was reached "
                    "before the item was processed."
                ),
                item_code=THRESHOLD_ERROR_CODE,
            )

    def _enforce_deadlines(self) -> None:
        rows = self.services.db.all(
            "SELECT run_id, deadline FROM runs WHERE state != 'TERMINATED' AND deadline IS NOT NULL AND deadline < ?",
            (now_iso(),),
        )
        for row in rows:
            cancel_run(
                self.services.db,
                row["run_id"],
                reason="CANCELED_BY_SYSTEM",
                error_code=DEADLINE_ERROR_CODE,
                error_message=f"Run canceled because its deadline {row['deadline']} passed before it finished.",
                item_message="The run's deadline passed before the item was processed.",
                item_code=DEADLINE_ERROR_CODE,
            )

    def _expire_artifacts(self) -> None:
        """Delete the artifacts of runs that terminated longer ago than the retention (DELETED_BY_SYSTEM).

        Unfinished uploads left untouched for longer than ``upload_retention`` go at the same time.
        """
        now = time.time()
        if now < self._next_expiry_check:
            return
        self._next_expiry_check = now + min(60.0, self.config.artifact_retention / 2)
        MultipartUploads(self.services.blobs).expire(self.config.upload_retention, now=now)
        cutoff = datetime.fromtimestamp(now - self.config.artifact_retention, UTC).isoformat(timespec="microseconds")
        rows = self.services.db.all(
            "SELECT o.output_artifact_id, o.storage_key FROM output_artifacts o JOIN runs r ON r.run_id = o.run_id "
            "WHERE r.state = 'TERMINATED' AND r.terminated_at < ? AND o.output = 'AVAILABLE'",
            (cutoff,),
        )
        for row in rows:
            if row["storage_key"]:
                self.services.blobs.delete(INTERNAL_BUCKET, row["storage_key"])
            self.services.db.execute(
                "UPDATE output_artifacts SET output = 'DELETED_BY_SYSTEM', metadata = NULL "
                "WHERE output_artifact_id = ?",
                (row["output_artifact_id"],),
            )
