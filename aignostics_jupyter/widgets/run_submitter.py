"""``RunSubmitter``: the submission wizard in one widget.

Pick the application and version; find slides in a folder, by a glob or in the bucket; check the table (one row
per slide: thumbnail, name, size, mpp and CRC32C measured automatically, tissue, disease and staining as
dropdowns from the version's schema; a row turns valid only when the schema validates); add tags, a note, a due
date and a deadline; then "Upload and submit" uploads with a progress bar per file and overall, creates the run and
turns into a :class:`~aignostics_jupyter.widgets.run_monitor.RunMonitor`. Nothing is uploaded unless every
included slide is valid. Scanning and uploading run in the background.

Example:
    >>> from aignostics_jupyter.widgets.run_submitter import RunSubmitter
    >>> wizard = RunSubmitter(application_id="he-tme")  # doctest: +SKIP
    >>> wizard.glob.value = "slides/*.svs"; wizard.source.value = "Glob"; wizard.find_button.click()  # doctest: +SKIP
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ipywidgets as w
import traitlets

from aignostics_jupyter.client import semver_key
from aignostics_jupyter.exceptions import InvalidInputError
from aignostics_jupyter.widgets._background import Background
from aignostics_jupyter.widgets._platform import close_widgets, error_text, platform_client
from aignostics_jupyter.widgets._platform_html import OK_ICON, SPINNER, WARN_ICON, esc
from aignostics_jupyter.widgets._run_folder import FolderPicker
from aignostics_jupyter.widgets._run_slides import ScannedSlide, SlideRow, scan_bucket, scan_local
from aignostics_jupyter.widgets.run_monitor import RunMonitor

if TYPE_CHECKING:
    from aignostics_jupyter.client import Client, Progress, Run
    from aignostics_jupyter.client.models import VersionReadResponse

__all__ = ["RunSubmitter"]


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class RunSubmitter(w.VBox):  # type: ignore[misc]
    """Choose an application, find and check slides, add scheduling and notes, then upload and submit.

    Args:
        client: The client (default: the kernel's shared client).
        application_id: The application chosen first.
        version: The version chosen first (default: the latest).
        folder: The folder the picker starts in (default: the working directory).

    Attributes:
        rows: The slide rows.
        run: The run, once submitted.
        monitor: The RunMonitor this widget became.
        state: ``ready``, ``scanning``, ``uploading`` or ``submitted``.
        message: The latest one-sentence status or error.
    """

    state = traitlets.Unicode("ready")
    message = traitlets.Unicode("")

    def __init__(
        self,
        client: Client | None = None,
        *,
        application_id: str | None = None,
        version: str | None = None,
        folder: str | Path | None = None,
    ) -> None:
        self.client = client or platform_client()
        self.contract: VersionReadResponse | None = None
        self.rows: list[SlideRow] = []
        self.run: Run | None = None
        self.monitor: RunMonitor | None = None
        self._job = Background("submit")

        self.app_picker = w.Dropdown(description="Application", layout=w.Layout(width="30em"))
        self.version_picker = w.Dropdown(description="Version", layout=w.Layout(width="18em"))
        self.source = w.ToggleButtons(options=["Folder", "Glob", "Bucket"], value="Folder")
        self.folder_picker = FolderPicker(folder)
        self.glob = w.Text(description="Glob", placeholder="slides/**/*.svs", layout=w.Layout(width="40em"))
        self.bucket_prefix = w.Text(
            description="Prefix", placeholder="bucket key prefix", layout=w.Layout(width="40em")
        )
        self.source_box = w.VBox([self.folder_picker])
        self.find_button = w.Button(description="Find slides", icon="search")
        self.table = w.VBox()
        self.tags = w.TagsInput(value=[], allow_duplicates=False)
        self.note = w.Textarea(description="Note", placeholder="what this run is for", layout=w.Layout(width="40em"))
        self.due_date = w.DatetimePicker(description="Due date")
        self.deadline = w.DatetimePicker(description="Deadline")
        self.submit_button = w.Button(
            description="Upload and submit", icon="upload", button_style="primary", layout=w.Layout(width="14em")
        )
        self.overall = w.FloatProgress(min=0.0, max=1.0, value=0.0, description="Overall")
        self.overall.layout.display = "none"
        self.status = w.HTML()
        super().__init__(
            [
                w.HBox([self.app_picker, self.version_picker]),
                w.HTML("<b>Slides</b>"),
                self.source,
                self.source_box,
                self.find_button,
                self.table,
                w.HBox([w.Label("Tags"), self.tags]),
                self.note,
                w.HBox([self.due_date, self.deadline]),
                w.HBox([self.submit_button, self.overall]),
                self.status,
            ]
        )
        self.add_class("aignostics-run-submitter")
        self.source.observe(self._on_source, names="value")
        self.find_button.on_click(lambda _: self.find_slides())
        self.submit_button.on_click(lambda _: self.submit())
        for picker in (self.due_date, self.deadline):
            picker.observe(lambda _: self._update(), names="value")
        self._loading = False
        self._load_apps(application_id, version)
        self.version_picker.observe(lambda _: None if self._loading else self._load_contract(), names="value")
        self.app_picker.observe(lambda _: None if self._loading else self._load_versions(None), names="value")
        self._update()

    # ------------------------------------------------------------------------------ application, version

    def _load_apps(self, application_id: str | None, version: str | None) -> None:
        try:
            apps = list(self.client.applications.list())
        except Exception as exc:
            self._say(error_text(exc), error=True)
            return
        ids = [a.application_id for a in apps]
        chosen = application_id if application_id in ids else (ids[0] if ids else None)
        self._loading = True
        try:
            self.app_picker.options = [(f"{a.name} ({a.application_id})", a.application_id) for a in apps]
            self.app_picker.value = chosen
        finally:
            self._loading = False
        if application_id is not None and application_id not in ids:
            self._say(f"No application {application_id!r}; choose one of {', '.join(ids)}.", error=True)
        self._load_versions(version)

    def _load_versions(self, version: str | None) -> None:
        application_id = self.app_picker.value
        if application_id is None:
            return
        try:
            numbers = sorted(self.client.applications.versions(application_id), key=semver_key, reverse=True)
        except Exception as exc:
            self._say(error_text(exc), error=True)
            return
        wanted = version.removeprefix("v") if version else None
        self._loading = True
        try:
            self.version_picker.options = numbers
            self.version_picker.value = wanted if wanted in numbers else (numbers[0] if numbers else None)
        finally:
            self._loading = False
        self._load_contract()

    def _load_contract(self) -> None:
        application_id, number = self.app_picker.value, self.version_picker.value
        if application_id is None or number is None:
            self.contract = None
            self._update()
            return
        try:
            self.contract = self.client.applications.version(application_id, number)
        except Exception as exc:
            self.contract = None
            self._say(error_text(exc), error=True)
            return
        for row in self.rows:
            row.set_schema(self.schema)
        self._update()

    @property
    def schema(self) -> dict[str, Any]:
        """The metadata schema of the chosen version's input slide (empty before one is chosen)."""
        if self.contract is None or not self.contract.input_artifacts:
            return {}
        return dict(self.contract.input_artifacts[0].metadata_schema)

    # ------------------------------------------------------------------------------------------- slides

    def _on_source(self, change: dict[str, Any]) -> None:
        box = {"Folder": self.folder_picker, "Glob": self.glob, "Bucket": self.bucket_prefix}[change["new"]]
        self.source_box.children = [box]

    def find_slides(self) -> None:
        """Scan the chosen folder, glob or bucket prefix in the background and fill the table."""
        if self._job.busy:
            return
        source = self.source.value
        spec = str(self.folder_picker.folder) if source == "Folder" else self.glob.value.strip()
        if source == "Glob" and not spec:
            self._say("Type a glob such as slides/*.svs first.", error=True)
            return

        def work() -> list[ScannedSlide]:
            if source == "Bucket":
                return scan_bucket(self.client.bucket().ls(self.bucket_prefix.value.strip()))
            return scan_local(spec)

        self.state = "scanning"
        self._say(f"{SPINNER} Looking for slides…", raw=True)
        self._update()
        self._job.run(work, on_done=self._show_slides, on_error=self._scan_failed)

    def _scan_failed(self, exc: BaseException) -> None:
        self.state = "ready"
        self._set_rows([])
        self._say(error_text(exc), error=True)

    def _show_slides(self, slides: list[ScannedSlide]) -> None:
        self.state = "ready"
        if not slides:
            self._set_rows([])
            self._say("No slides found there (.tif, .tiff, .svs or DICOM).", error=True)
            return
        rows = [SlideRow(slide, self._update) for slide in slides]
        for row in rows:
            row.set_schema(self.schema)
        self._set_rows(rows)
        self._say(f"Found {len(rows)} slide(s).")

    def _set_rows(self, rows: list[SlideRow]) -> None:
        old = self.rows
        self.rows = rows
        self.table.children = rows
        close_widgets(old)
        self._update()

    def set_choice(self, name: str, value: Any) -> int:
        """Pick ``value`` for a field (e.g. ``"tissue"``) on every row that offers it; return how many rows took it."""
        return sum(row.set_choice(name, value) for row in self.rows)

    # --------------------------------------------------------------------------------------- validation

    @property
    def included(self) -> list[SlideRow]:
        """The rows that will be submitted."""
        return [row for row in self.rows if row.included]

    def problems(self) -> list[str]:
        """Why the submission cannot go yet (empty when it can)."""
        out = []
        if self.contract is None:
            out.append("Choose an application and version.")
        rows = self.included
        if not rows:
            out.append("Find slides and include at least one.")
        bad = [row for row in rows if not row.valid]
        if bad:
            out.append(f"{len(bad)} of {len(rows)} slide(s) need attention: {bad[0].slide.name}: {bad[0].problems[0]}")
        due, deadline = _aware(self.due_date.value), _aware(self.deadline.value)
        now = datetime.now(UTC)
        if due is not None and due <= now:
            out.append("The due date is in the past.")
        if deadline is not None and deadline <= now:
            out.append("The deadline is in the past.")
        if due is not None and deadline is not None and deadline < due:
            out.append("The deadline is before the due date.")
        return out

    def _update(self) -> None:
        problems = self.problems()
        self.submit_button.disabled = bool(problems) or self.state != "ready"
        self.submit_button.tooltip = " ".join(problems) if problems else "Upload the slides and create the run"

    # ------------------------------------------------------------------------------------------- submit

    def submit(self) -> None:
        """Upload and submit in the background (only when every included slide is valid)."""
        problems = self.problems()
        if problems or self.state != "ready" or self.contract is None:
            self._say(" ".join(problems) or "Busy; wait until the current step has finished.", error=True)
            return
        rows = self.included
        by_path = {str(row.slide.description.path): row for row in rows if row.slide.description}
        specs = [row.slide.spec for row in rows]
        per_slide = {row.slide.spec: row.given() for row in rows}
        application_id, number = self.app_picker.value, self.contract.version_number
        tags: list[str] = list(self.tags.value)
        note: str = self.note.value.strip()
        due_date, deadline = _aware(self.due_date.value), _aware(self.deadline.value)
        sizes: dict[str, tuple[int, int]] = {}

        def on_progress(progress: Progress) -> None:
            if progress.stage == "upload":
                sizes[progress.name] = (progress.done, progress.total)
                row = by_path.get(progress.name)
                if row is not None:
                    row.progress.value = progress.done / progress.total if progress.total else 0.0
                done, total = sum(d for d, _ in sizes.values()), sum(t for _, t in sizes.values())
                self.overall.value = done / total if total else 0.0
                self._say(f"{SPINNER} Uploading: {done / 1e6:.1f} of {total / 1e6:.1f} MB…", raw=True)
            elif progress.stage == "submit":
                self._say(f"{SPINNER} Creating the run…", raw=True)

        def work() -> Run:
            if not specs:  # pragma: no cover - guarded by problems()
                raise InvalidInputError("No slides to submit")
            return self.client.runs.submit(
                application_id,
                specs,
                version=number,
                slide_metadata=per_slide,
                tags=tags or None,
                note=note or None,
                due_date=due_date,
                deadline=deadline,
                on_progress=on_progress,
            )

        self.state = "uploading"
        for row in rows:
            row.progress.layout.display = "flex"
        self.overall.layout.display = "flex"
        self._update()
        self._say(f"{SPINNER} Checking and uploading {len(rows)} slide(s)…", raw=True)
        self._job.run(work, on_done=self._submitted, on_error=self._submit_failed)

    def _submit_failed(self, exc: BaseException) -> None:
        self.state = "ready"
        self._update()
        self._say(error_text(exc), error=True)

    def _submitted(self, run: Run) -> None:
        self.run = run
        self.monitor = RunMonitor(run.run_id, client=self.client)
        self.state = "submitted"
        self.message = f"Submitted run {run.run_id}."
        self.children = [w.HTML(f"<p>{OK_ICON} {esc(self.message)}</p>"), self.monitor]

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the background scan or upload (tests, scripts); True when it has finished."""
        return self._job.wait(timeout)

    def _say(self, text: str, *, error: bool = False, raw: bool = False) -> None:
        self.message = text.replace(SPINNER, "").strip() if raw else text
        body = text if raw else esc(text)
        style = ' style="color:#dc3545"' if error else ""
        self.status.value = (
            f'<div class="aignostics-submit-status"{style}>{WARN_ICON + " " if error else ""}{body}</div>'
        )
