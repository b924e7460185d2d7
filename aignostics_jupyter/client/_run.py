"""A handle on one run: details, items, wait, cancel, incremental verified download, readouts.

Example:
    >>> run = client.run("3fa85f64-5717-4562-b3fc-2c963f66afa6")  # doctest: +SKIP
    >>> run.wait(poll=30, on_progress=print)  # doctest: +SKIP
    >>> result = run.download("results")  # doctest: +SKIP
    >>> tables = run.readouts("results")  # doctest: +SKIP
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aignostics_jupyter.client._artifacts import (
    Artifacts,
    artifact_file_name,
    artifact_media_type,
    item_dir_names,
)
from aignostics_jupyter.client._pagination import Pages
from aignostics_jupyter.client.models import (
    ArtifactOutput,
    ItemOutput,
    ItemResultReadResponse,
    ItemState,
    OutputArtifactResultReadResponse,
    RunReadResponse,
    RunState,
    ShareTokenCreateResponse,
)
from aignostics_jupyter.exceptions import AignosticsError, ConfigurationError, IntegrityError, RetryableError

if TYPE_CHECKING:
    from aignostics_jupyter.client._client import Client

__all__ = ["DownloadResult", "Progress", "Run", "WaitTimeoutError"]


class WaitTimeoutError(RetryableError, TimeoutError):
    """The run did not terminate within the time given; waiting again later may succeed."""


@dataclass(frozen=True)
class Progress:
    """One progress report of a long operation.

    Attributes:
        stage: ``describe``, ``upload``, ``submit``, ``wait`` or ``download``.
        name: The slide, file or run concerned.
        done: Units done (bytes for transfers, terminated items for waits).
        total: Units in all (0 when unknown).
        run: The run's latest details, while waiting or downloading.
    """

    stage: str
    name: str = ""
    done: int = 0
    total: int = 0
    run: RunReadResponse | None = field(default=None, repr=False)


@dataclass
class DownloadResult:
    """What :meth:`Run.download` did: files downloaded, files already there, files that failed."""

    run_id: str
    folder: Path
    downloaded: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    failed: dict[Path, str] = field(default_factory=dict)

    @property
    def files(self) -> list[Path]:
        """Every verified file of the run in the folder (downloaded now or before)."""
        return sorted(self.downloaded + self.skipped)


ArtifactFilter = Callable[[OutputArtifactResultReadResponse], bool]


class Run:
    """One application run; cheap to create (nothing is fetched until asked)."""

    def __init__(self, client: Client, run_id: str, data: RunReadResponse | None = None) -> None:
        self._client = client
        self.run_id = str(run_id)
        self._data = data

    def __repr__(self) -> str:
        state = f", state={self._data.state.value}" if self._data else ""
        return f"Run({self.run_id!r}{state})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Run) and other.run_id == self.run_id

    def __hash__(self) -> int:
        return hash(self.run_id)

    # --------------------------------------------------------------------------------------------- read

    def details(self, *, nocache: bool = False) -> RunReadResponse:
        """Return the run's state, output and statistics (cached 15 s unless ``nocache``)."""
        self._data = self._client.runs.get(self.run_id, nocache=nocache)
        return self._data

    def items(self, **filters: Any) -> Pages[ItemResultReadResponse]:
        """List the run's items lazily (filters as :meth:`Runs.items`)."""
        return self._client.runs.items(self.run_id, **filters)

    def item(self, external_id: str, *, nocache: bool = False) -> ItemResultReadResponse:
        """Return one item by external id."""
        return self._client.runs.item(self.run_id, external_id, nocache=nocache)

    def artifact_url(self, artifact_id: str) -> str:
        """Return a fresh presigned URL of one output artifact."""
        return self._client.runs.artifact_url(self.run_id, artifact_id)

    # ------------------------------------------------------------------------------------------- mutate

    def cancel(self) -> None:
        """Cancel the run (pending items are skipped; finished ones stay downloadable)."""
        self._client.runs.cancel(self.run_id)

    def delete_artifacts(self) -> None:
        """Delete the run's output artifacts now (only for terminated runs)."""
        self._client.runs.delete_artifacts(self.run_id)

    def share(self, *, expires_at: datetime | None = None) -> ShareTokenCreateResponse:
        """Create a share token with ``viewer`` access to this run; pass its secret as ``share_token=`` to read.

        Example:
            >>> token = run.share()  # doctest: +SKIP
            >>> other_client.runs.get(run.run_id, share_token=token.share_token)  # doctest: +SKIP
        """
        return self._client.access.share_run(self.run_id, expires_at=expires_at)

    def update_metadata(self, custom_metadata: dict[str, Any] | None, *, checksum: str | None = None) -> str | None:
        """Replace the run's custom metadata (see :meth:`Runs.update_metadata`)."""
        return self._client.runs.update_metadata(self.run_id, custom_metadata, checksum=checksum)

    # --------------------------------------------------------------------------------------------- wait

    def wait(
        self,
        *,
        poll: float = 5.0,
        timeout: float | None = None,
        on_progress: Callable[[Progress], None] | None = None,
    ) -> RunReadResponse:
        """Poll until the run terminates and return its final details.

        Cached reads are dropped when the run has terminated, so items read afterwards show their final states
        (a terminated run has changed since any read cached before).

        Args:
            poll: Seconds between checks.
            timeout: Give up after this many seconds.
            on_progress: Called after every check with terminated/total items.

        Raises:
            WaitTimeoutError: When the run did not terminate in time.
        """
        start = self._client.clock()
        while True:
            data = self.details(nocache=True)
            stats = data.statistics
            if on_progress is not None:
                finished = stats.item_count - stats.item_pending_count - stats.item_processing_count
                on_progress(Progress("wait", self.run_id, finished, stats.item_count, data))
            if data.state == RunState.TERMINATED:
                self._client.clear_cache()
                return data
            if timeout is not None and self._client.clock() - start + poll > timeout:
                raise WaitTimeoutError(f"The run {self.run_id} did not terminate within {timeout:g} s")
            self._client.sleep(poll)

    # ----------------------------------------------------------------------------------------- download

    def download(
        self,
        dest: str | Path,
        *,
        wait: bool = False,
        poll: float = 5.0,
        timeout: float | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        item_dirs: bool = True,
        artifact_filter: ArtifactFilter | None = None,
    ) -> DownloadResult:
        """Download the run's results as items finish, each file verified against its CRC32C.

        Files land in ``{dest}/{run_id}/{item_dir}/{artifact_name}{ext}`` (the official SDK's layout); files
        already there with the right checksum are skipped, so calling this again resumes.

        Args:
            dest: The base folder.
            wait: Keep polling and downloading until the run terminates.
            poll: Seconds between polls when waiting.
            timeout: Give up waiting after this many seconds.
            on_progress: Called per file with bytes done/total, and between polls with items finished/total.
            item_dirs: One folder per item (else file names are prefixed with the item's name).
            artifact_filter: Only artifacts for which this returns True.

        Returns:
            What was downloaded, skipped and failed.

        Raises:
            IntegrityError: When a file failed its checksum (it was deleted); ``detail`` holds the result.
            WaitTimeoutError: When waiting timed out.
        """
        folder = Path(dest) / self.run_id
        result = DownloadResult(self.run_id, folder)
        handled: set[str] = set()
        artifacts: Artifacts = self._client.runs.artifacts
        mime_by_name = self._output_mime_types()
        start = self._client.clock()
        while True:
            data = self.details(nocache=True)
            items = list(self.items(nocache=True))
            dirs = item_dir_names(i.external_id for i in items)
            for item in items:
                if item.state != ItemState.TERMINATED or item.output != ItemOutput.FULL:
                    continue
                for artifact in item.output_artifacts:
                    key = str(artifact.output_artifact_id)
                    if key in handled or artifact.output != ArtifactOutput.AVAILABLE:
                        continue
                    if artifact_filter is not None and not artifact_filter(artifact):
                        continue
                    handled.add(key)
                    self._download_one(
                        item,
                        artifact,
                        artifacts=artifacts,
                        folder=folder,
                        item_dir=dirs[item.external_id],
                        item_dirs=item_dirs,
                        mime_by_name=mime_by_name,
                        result=result,
                        on_progress=on_progress,
                    )
            if not wait or data.state == RunState.TERMINATED:
                break
            if on_progress is not None:
                stats = data.statistics
                finished = stats.item_count - stats.item_pending_count - stats.item_processing_count
                on_progress(Progress("wait", self.run_id, finished, stats.item_count, data))
            if timeout is not None and self._client.clock() - start + poll > timeout:
                raise WaitTimeoutError(f"The run {self.run_id} did not terminate within {timeout:g} s")
            self._client.sleep(poll)
        if result.failed:
            names = ", ".join(p.name for p in result.failed)
            raise IntegrityError(f"{len(result.failed)} file(s) failed their CRC32C check and were deleted: {names}")
        return result

    def _download_one(
        self,
        item: ItemResultReadResponse,
        artifact: OutputArtifactResultReadResponse,
        *,
        artifacts: Artifacts,
        folder: Path,
        item_dir: str,
        item_dirs: bool,
        mime_by_name: dict[str, str],
        result: DownloadResult,
        on_progress: Callable[[Progress], None] | None,
    ) -> None:
        media_type = artifact_media_type(artifact, mime_by_name.get(artifact.name))
        file_name = artifact_file_name(artifact.name, media_type)
        target = folder / item_dir / file_name if item_dirs else folder / f"{item_dir}_{file_name}"

        def on_bytes(done: int, total: int | None) -> None:
            if on_progress is not None:
                on_progress(Progress("download", str(target), done, total or 0, self._data))

        try:
            fetched = artifacts.download(self.run_id, artifact, target, on_bytes=on_bytes)
        except IntegrityError as exc:
            result.failed[target] = exc.message
            return
        (result.downloaded if fetched else result.skipped).append(target)
        if not fetched and on_progress is not None:
            size = target.stat().st_size
            on_progress(Progress("download", str(target), size, size, self._data))

    def _output_mime_types(self) -> dict[str, str]:
        """Map output artifact names to media types from the version's contract (a fallback for naming)."""
        try:
            data = self._data or self.details()
            version = self._client.applications.version(data.application_id, data.version_number)
        except AignosticsError:
            return {}
        return {o.name: o.mime_type for o in version.output_artifacts}

    # ----------------------------------------------------------------------------------------- readouts

    def readouts(self, dest: str | Path = "aignostics-results", *, download: bool = True) -> dict[str, Any]:
        """Load the run's CSV outputs into pandas DataFrames, one per artifact name, all items concatenated.

        Each frame gains an ``external_id`` column first. Keys are artifact names such as
        ``readout_generation:slide_readouts``.

        Raises:
            ConfigurationError: When pandas is not installed.
        """
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover (pandas is a test dependency)
            raise ConfigurationError("pandas is not installed; pip install 'aignostics-jupyter[pandas]'") from exc

        def is_csv(artifact: OutputArtifactResultReadResponse) -> bool:
            return artifact_media_type(artifact).startswith("text/csv") or artifact.name.endswith("csv")

        if download:
            self.download(dest, artifact_filter=is_csv)
        folder = Path(dest) / self.run_id
        frames: dict[str, builtins.list[Any]] = {}
        items = list(self.items())
        dirs = item_dir_names(i.external_id for i in items)
        for item in items:
            for artifact in item.output_artifacts:
                if artifact.output != ArtifactOutput.AVAILABLE or not is_csv(artifact):
                    continue
                path = folder / dirs[item.external_id] / artifact_file_name(artifact.name, "text/csv")
                if not path.is_file():
                    continue
                frame = pd.read_csv(path)
                frame.insert(0, "external_id", item.external_id)
                frames.setdefault(artifact.name, []).append(frame)
        return {name: pd.concat(parts, ignore_index=True) for name, parts in frames.items()}
