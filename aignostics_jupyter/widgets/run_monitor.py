"""``RunMonitor``: one run, live: state, item progress, one row per item, cancel, download, view.

Polling runs in a background thread with backoff (it slows down while nothing changes) and stops by itself when
the run terminates. Cancel asks for confirmation first. "View" on an item downloads its outputs and opens the
slide in a :class:`~aignostics_jupyter.widgets.slide_viewer.SlideViewer` with the outputs overlaid.

Example:
    >>> from aignostics_jupyter.widgets.run_monitor import RunMonitor
    >>> monitor = RunMonitor("3fa85f64-5717-4562-b3fc-2c963f66afa6")  # doctest: +SKIP
    >>> monitor  # doctest: +SKIP
    >>> monitor.run.wait()  # the underlying Run  # doctest: +SKIP
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ipywidgets as w
import traitlets

from aignostics_jupyter.client.models import ArtifactOutput, ItemResultReadResponse, RunReadResponse, RunState
from aignostics_jupyter.exceptions import AuthenticationError, InvalidInputError, NotFoundError, PermissionDeniedError
from aignostics_jupyter.widgets._background import Background, Poller
from aignostics_jupyter.widgets._platform import error_text, parse_run_id, platform_client, run_error_text
from aignostics_jupyter.widgets._platform_html import WARN_ICON, badge, esc, utc_text
from aignostics_jupyter.widgets._run_view import open_viewer

if TYPE_CHECKING:
    from aignostics_jupyter.client import Client, Progress

__all__ = ["ItemRow", "RunMonitor"]

#: Items shown as rows (the statistics always count all of them).
MAX_ROWS = 200
#: Polling gives up after this many failures in a row (Refresh starts it again).
MAX_POLL_ERRORS = 20


class ItemRow(w.HBox):  # type: ignore[misc]
    """One item of a run: name, state, error, outputs and a View button."""

    def __init__(self, item: ItemResultReadResponse, on_view: Any) -> None:
        self.item = item
        self.name = w.HTML(layout=w.Layout(width="22em"))
        self.state = w.HTML(layout=w.Layout(width="18em"))
        self.outputs = w.HTML(layout=w.Layout(flex="1"))
        self.view_button = w.Button(description="View", icon="eye", layout=w.Layout(width="6em"))
        self.view_button.on_click(lambda _: on_view(self.item))
        super().__init__([self.name, self.state, self.outputs, self.view_button])
        self.add_class("aignostics-item-row")
        self.update(item)

    def update(self, item: ItemResultReadResponse) -> None:
        """Show the item's latest state."""
        self.item = item
        self.name.value = f'<span title="{esc(item.external_id)}">{esc(Path(item.external_id).name)}</span>'
        reason = item.termination_reason.value if item.termination_reason else ""
        error = f'<br><span style="color:#dc3545">{esc(item.error_message)}</span>' if item.error_message else ""
        self.state.value = f"{badge(item.state.value)} {badge(reason)}{error}"
        ready = [a for a in item.output_artifacts if a.output == ArtifactOutput.AVAILABLE]
        names = ", ".join(esc(a.name) for a in ready)  # in a tooltip: he-tme has nine of them
        self.outputs.value = (
            f'<small title="{names}">{len(ready)} output(s) ready</small>' if ready else "<small>no outputs</small>"
        )
        self.view_button.disabled = not ready


class RunMonitor(w.VBox):  # type: ignore[misc]
    """A live view of one run.

    Args:
        run_id: The run.
        client: The client (default: the kernel's shared client).
        poll: The first polling interval in seconds.
        max_poll: The longest polling interval (backoff while nothing changes).
        dest: Where results are downloaded.
        start: Start polling at once.

    Attributes:
        run: The :class:`~aignostics_jupyter.client.Run`.
        details: The latest run details (None until the first poll).
        state: The run's state (``PENDING``, ``PROCESSING``, ``TERMINATED``), empty until known.
        message: The latest one-sentence status or error.
    """

    state = traitlets.Unicode("")
    termination_reason = traitlets.Unicode("")
    message = traitlets.Unicode("")

    def __init__(
        self,
        run_id: str,
        client: Client | None = None,
        *,
        poll: float = 2.0,
        max_poll: float = 30.0,
        dest: str | Path = "aignostics-results",
        start: bool = True,
    ) -> None:
        self.client = client or platform_client()
        problem: InvalidInputError | None = None
        try:
            run_id = parse_run_id(run_id)
        except InvalidInputError as exc:
            problem = exc
        self.run = self.client.run(str(run_id))
        self.details: RunReadResponse | None = None
        self.items: list[ItemResultReadResponse] = []
        self.rows: dict[str, ItemRow] = {}
        self.viewer: Any = None
        self._poll = (poll, max_poll)
        self._poller: Poller | None = None
        self._lock = threading.Lock()
        self._signature: Any = None
        self._errors = 0
        self._job = Background("run-action")

        self.header = w.HTML()
        self.progress = w.IntProgress(min=0, max=1, value=0, description="Items", bar_style="info")
        self.progress_text = w.HTML()
        self.refresh_button = w.Button(description="Refresh", icon="refresh")
        self.cancel_button = w.Button(description="Cancel run", icon="stop", button_style="warning")
        self.confirm_yes = w.Button(description="Yes, cancel", button_style="danger")
        self.confirm_no = w.Button(description="No")
        self.confirm = w.HBox(
            [w.HTML("Cancel this run? Items not yet processed are skipped."), self.confirm_yes, self.confirm_no]
        )
        self.confirm.layout.display = "none"
        self.dest = w.Text(value=str(dest), description="Save to", layout=w.Layout(width="28em"))
        self.download_button = w.Button(description="Download results", icon="download", layout=w.Layout(width="13em"))
        self.download_progress = w.FloatProgress(min=0.0, max=1.0, value=0.0, layout=w.Layout(width="14em"))
        self.download_text = w.HTML()
        self.status = w.HTML()
        self.items_box = w.VBox()
        self.viewer_box = w.VBox()
        self.refresh_button.on_click(lambda _: self._refresh_clicked())
        self.cancel_button.on_click(lambda _: self._ask_cancel())
        self.confirm_no.on_click(lambda _: self._hide_confirm())
        self.confirm_yes.on_click(lambda _: self.cancel())
        self.download_button.on_click(lambda _: self.download())
        super().__init__(
            [
                self.header,
                w.HBox([self.progress, self.progress_text]),
                w.HBox([self.refresh_button, self.cancel_button]),
                self.confirm,
                w.HBox([self.dest, self.download_button, self.download_progress, self.download_text]),
                self.status,
                self.items_box,
                self.viewer_box,
            ]
        )
        self.add_class("aignostics-run-monitor")
        self.header.value = f"<b>Run</b> <code>{esc(self.run.run_id)}</code> …"
        if problem is not None:
            self._say(error_text(problem), error=True)
        elif start:
            self.start()

    def __repr__(self) -> str:
        return f"RunMonitor({self.run.run_id!r}, state={self.state or 'unknown'})"

    # ------------------------------------------------------------------------------------------ polling

    def start(self) -> None:
        """Start polling in the background (no-op while polling)."""
        if self._poller is not None and self._poller.running:
            return
        interval, longest = self._poll
        self._poller = Poller(
            self._step, interval=interval, max_interval=longest, on_error=self._poll_error, name="run-monitor"
        ).start()

    def stop(self) -> None:
        """Stop polling."""
        if self._poller is not None:
            self._poller.stop()

    @property
    def polling(self) -> bool:
        """Whether the background polling runs."""
        return self._poller is not None and self._poller.running

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until polling has stopped (the run terminated) and any action finished; True when so."""
        if self._poller is not None:
            self._poller.join(timeout)
        self._job.wait(timeout)
        return bool(not self.polling and not self._job.busy)

    def _step(self) -> tuple[bool, bool]:
        changed = self.refresh()
        self._errors = 0
        return self.state == RunState.TERMINATED.value, changed

    def _poll_error(self, exc: BaseException) -> None:
        self._errors += 1
        text = run_error_text(self.run.run_id, exc)
        if isinstance(exc, NotFoundError | AuthenticationError | PermissionDeniedError):
            self.stop()
        elif self._errors >= MAX_POLL_ERRORS:
            self.stop()
            text = f"Stopped watching after {self._errors} failed attempts ({text.rstrip('.')}); press Refresh."
        self._say(text, error=True)

    def _refresh_clicked(self) -> None:
        """Poll again when polling stopped before the run terminated, else refresh once."""
        if not self.polling and self.state != RunState.TERMINATED.value:
            self._errors = 0
            self._say("Watching the run again…")
            self.start()
        else:
            self._job_or_busy(self.refresh)

    def refresh(self) -> bool:
        """Fetch the run and its items now and show them; return whether anything changed."""
        details = self.run.details(nocache=True)
        items = list(self.run.items(nocache=True))
        with self._lock:
            signature = (
                details.state,
                details.termination_reason,
                details.statistics,
                tuple((str(i.item_id), i.state, i.output, len(i.output_artifacts)) for i in items),
            )
            changed = bool(signature != self._signature)
            self._signature = signature
            self.details, self.items = details, items
            self._render(details, items)
        return changed

    # ------------------------------------------------------------------------------------------ actions

    def _ask_cancel(self) -> None:
        self.confirm.layout.display = "flex"

    def _hide_confirm(self) -> None:
        self.confirm.layout.display = "none"

    def _job_or_busy(self, work: Any, *, saying: str = "", **callbacks: Any) -> bool:
        if self._job.busy:
            self._say("Another action is still running; try again when it has finished.")
            return False
        if saying:
            self._say(saying)  # before the job starts, so a fast failure is not overwritten
        self._job.run(work, on_error=lambda exc: self._say(error_text(exc), error=True), **callbacks)
        return True

    def cancel(self) -> None:
        """Cancel the run (in the background), then refresh."""
        self._hide_confirm()

        def work() -> None:
            self.run.cancel()
            self.refresh()

        self._job_or_busy(work, saying="Canceling…", on_done=lambda _: self._say("Cancel requested."))

    def download(self) -> None:
        """Download the results into the "Save to" folder (in the background), with progress."""
        dest = self.dest.value.strip() or "aignostics-results"
        sizes: dict[str, tuple[int, int]] = {}

        def on_progress(progress: Progress) -> None:
            sizes[progress.name] = (progress.done, progress.total)
            done, total = sum(d for d, _ in sizes.values()), sum(t for _, t in sizes.values())
            self.download_progress.value = done / total if total else 0.0
            self.download_text.value = f"<small>{esc(Path(progress.name).name)}</small>"

        def done(result: Any) -> None:
            self.download_progress.value = 1.0
            self.download_text.value = ""
            count = len(result.files)
            text = f"{count} file(s) in {result.folder}" if count else "No results to download yet."
            self._say(f"Downloaded: {text}" if count else text)

        self.download_progress.value = 0.0
        self._job_or_busy(lambda: self.run.download(dest, on_progress=on_progress), saying="Downloading…", on_done=done)

    def view(self, item: ItemResultReadResponse) -> None:
        """Download one item's outputs and open its slide with them overlaid (in the background)."""
        dest = self.dest.value.strip() or "aignostics-results"

        def work() -> Any:
            return open_viewer(item.external_id, run_id=self.run.run_id, client=self.client, item=item, dest=dest)

        def shown(viewer: Any) -> None:
            self.viewer = viewer
            self.viewer_box.children = [w.HTML(f"<b>{esc(Path(item.external_id).name)}</b>"), viewer]
            self._say(f"Showing {Path(item.external_id).name} with its outputs.")

        self._job_or_busy(work, saying=f"Opening {Path(item.external_id).name}…", on_done=shown)

    # ------------------------------------------------------------------------------------------- render

    def _say(self, text: str, *, error: bool = False) -> None:
        self.message = text
        style = ' style="color:#dc3545"' if error else ""
        icon = f"{WARN_ICON} " if error else ""
        self.status.value = f'<div class="aignostics-run-status"{style}>{icon}{esc(text)}</div>'

    def _render(self, details: RunReadResponse, items: list[ItemResultReadResponse]) -> None:
        stats = details.statistics
        finished = stats.item_count - stats.item_pending_count - stats.item_processing_count
        reason = details.termination_reason.value if details.termination_reason else ""
        error = f"<br>{WARN_ICON} {esc(details.error_message)}" if details.error_message else ""
        ended = f", terminated {utc_text(details.terminated_at)}" if details.terminated_at else ""
        if details.scheduling is not None and details.scheduling.due_date is not None:
            ended += f", due {utc_text(details.scheduling.due_date)}"
        if details.scheduling is not None and details.scheduling.deadline is not None:
            ended += f", deadline {utc_text(details.scheduling.deadline)}"
        sdk = (details.custom_metadata or {}).get("sdk")
        sdk = sdk if isinstance(sdk, dict) else {}
        tags = ", ".join(str(t) for t in sdk.get("tags") or [])
        note = str(sdk.get("note") or "")
        extra = "".join(
            [
                f"<br><small>tags: {esc(tags)}</small>" if tags else "",
                f"<br><small>note: {esc(note)}</small>" if note else "",
            ]
        )
        self.header.value = (
            f'<div class="aignostics-run-header"><b>Run</b> <code>{esc(details.run_id)}</code> · '
            f"{esc(details.application_id)} {esc(details.version_number)} · "
            f'<span class="aignostics-run-state">{badge(details.state.value)}</span> {badge(reason)}'
            f"<br><small>submitted {utc_text(details.submitted_at)}{ended}</small>{extra}{error}</div>"
        )
        self.progress.max = max(stats.item_count, 1)
        self.progress.value = finished
        failed = stats.item_user_error_count + stats.item_system_error_count
        self.progress.bar_style = "danger" if failed else "success" if details.state == RunState.TERMINATED else "info"
        self.progress_text.value = (
            f"{finished}/{stats.item_count} done: {stats.item_succeeded_count} succeeded, {failed} failed, "
            f"{stats.item_skipped_count} skipped, {stats.item_pending_count} pending, "
            f"{stats.item_processing_count} processing"
        )
        terminated = details.state == RunState.TERMINATED
        self.cancel_button.layout.display = "none" if terminated else "flex"
        if terminated:
            self._hide_confirm()
        rows = []
        for item in items[:MAX_ROWS]:
            key = str(item.item_id)
            row = self.rows.get(key)
            if row is None:
                row = self.rows[key] = ItemRow(item, self.view)
            else:
                row.update(item)
            rows.append(row)
        more = [w.HTML(f"<small>and {len(items) - MAX_ROWS} more items</small>")] if len(items) > MAX_ROWS else []
        if [*rows, *more] != list(self.items_box.children):
            self.items_box.children = [*rows, *more]
        with self.hold_trait_notifications():
            self.state = details.state.value
            self.termination_reason = reason
