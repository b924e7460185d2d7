"""``RunBrowser``: my runs, newest first, filterable by application, state and tags, paginated.

Each run opens in a :class:`~aignostics_jupyter.widgets.run_monitor.RunMonitor` below the list.

Up to ``max_runs`` runs (default 200, as the official Launchpad) are fetched per refresh, in the background; the
application and tags filters go to the platform, the state filter is applied here.

Example:
    >>> from aignostics_jupyter.widgets.run_browser import RunBrowser
    >>> browser = RunBrowser(application_id="he-tme", tags="cohort-1")  # doctest: +SKIP
    >>> browser.next_button.click()  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import ipywidgets as w
import traitlets

from aignostics_jupyter.widgets._background import Background
from aignostics_jupyter.widgets._platform import close_widgets, error_text, platform_client
from aignostics_jupyter.widgets._platform_html import SPINNER, WARN_ICON, badge, esc, utc_text
from aignostics_jupyter.widgets.run_monitor import RunMonitor

if TYPE_CHECKING:
    from aignostics_jupyter.client import Client
    from aignostics_jupyter.client.models import RunReadResponse

__all__ = ["RunBrowser"]

_ALL = "all"
STATES = ("PENDING", "PROCESSING", "TERMINATED")


def _tags_of(run: RunReadResponse) -> list[str]:
    sdk = (run.custom_metadata or {}).get("sdk")
    tags = sdk.get("tags") if isinstance(sdk, dict) else None
    return [str(t) for t in tags] if isinstance(tags, list) else []


class RunBrowser(w.VBox):  # type: ignore[misc]
    """My runs, filterable and paginated.

    Args:
        client: The client (default: the kernel's shared client).
        application_id: Show only this application's runs.
        state: Show only runs in this state.
        tags: Show only runs with all of these tags (comma-separated).
        page_size: Runs per page.
        max_runs: Runs fetched per refresh.
        load: Load at once (in the background).

    Attributes:
        runs: Every run fetched that passes the filters, newest first.
        page: The page shown (0-based).
        monitor: The RunMonitor of the run opened last.
    """

    page = traitlets.Int(0)
    message = traitlets.Unicode("")

    def __init__(
        self,
        client: Client | None = None,
        *,
        application_id: str | None = None,
        state: str | None = None,
        tags: str = "",
        page_size: int = 10,
        max_runs: int = 200,
        load: bool = True,
    ) -> None:
        self.client = client or platform_client()
        self.runs: list[RunReadResponse] = []
        self.monitor: RunMonitor | None = None
        self.page_size = page_size
        self.max_runs = max_runs
        self._job = Background("run-browser")
        self.app_filter = w.Dropdown(options=[("all applications", _ALL)], value=_ALL, description="Application")
        self.state_filter = w.Dropdown(options=[("all states", _ALL), *[(s, s) for s in STATES]], description="State")
        self.tags_filter = w.Text(value=tags, description="Tags", placeholder="a,b", continuous_update=False)
        self.refresh_button = w.Button(description="Refresh", icon="refresh")
        self.prev_button = w.Button(description="Newer", icon="chevron-left")
        self.next_button = w.Button(description="Older", icon="chevron-right")
        self.page_label = w.HTML()
        self.table = w.VBox()
        self.status = w.HTML()
        self.monitor_box = w.VBox()
        super().__init__(
            [
                w.HBox([self.app_filter, self.state_filter, self.tags_filter, self.refresh_button]),
                self.status,
                self.table,
                w.HBox([self.prev_button, self.page_label, self.next_button]),
                self.monitor_box,
            ]
        )
        self.add_class("aignostics-run-browser")
        try:
            ids = [a.application_id for a in self.client.applications.list()]
        except Exception as exc:
            ids = []
            self._say(error_text(exc), error=True)
        self.app_filter.options = [("all applications", _ALL), *[(i, i) for i in ids]]
        if application_id in ids:
            self.app_filter.value = application_id
        if state and state.upper() in STATES:
            self.state_filter.value = state.upper()
        self.refresh_button.on_click(lambda _: self.refresh())
        self.prev_button.on_click(lambda _: self._turn(-1))
        self.next_button.on_click(lambda _: self._turn(1))
        for box in (self.app_filter, self.state_filter, self.tags_filter):
            box.observe(lambda _: self.refresh(), names="value")
        self._render()
        if load:
            self.refresh()

    # -------------------------------------------------------------------------------------------- data

    def refresh(self) -> None:
        """Fetch the runs again (in the background) with the current filters, back on the first page."""
        if self._job.busy:
            self._job.wait(30)
        application = None if self.app_filter.value == _ALL else self.app_filter.value
        state = None if self.state_filter.value == _ALL else self.state_filter.value
        tags = [t.strip() for t in self.tags_filter.value.split(",") if t.strip()]

        def work() -> list[RunReadResponse]:
            found = self.client.runs.list(
                application_id=application, tags=tags or None, limit=self.max_runs, nocache=True
            )
            return [r for r in found if state is None or r.state.value == state]

        self._say(f"{SPINNER} Loading runs…", raw=True)
        self._job.run(work, on_done=self._loaded, on_error=lambda exc: self._say(error_text(exc), error=True))

    def _loaded(self, runs: list[RunReadResponse]) -> None:
        self.runs = sorted(runs, key=lambda r: r.submitted_at, reverse=True)
        self.page = 0
        self._say(f"{len(self.runs)} run(s)." if self.runs else "No runs match these filters.")
        self._render()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the background refresh (tests, scripts); True when it has finished."""
        return self._job.wait(timeout)

    @property
    def pages(self) -> int:
        """How many pages there are (at least one)."""
        return max(1, -(-len(self.runs) // self.page_size))

    @property
    def shown(self) -> list[RunReadResponse]:
        """The runs on the current page."""
        start = self.page * self.page_size
        return self.runs[start : start + self.page_size]

    def _turn(self, step: int) -> None:
        self.page = min(max(self.page + step, 0), self.pages - 1)
        self._render()

    def open_run(self, run_id: str) -> RunMonitor:
        """Open a run in a RunMonitor below the list."""
        if self.monitor is not None:
            self.monitor.stop()
            close_widgets([self.monitor])
        self.monitor = RunMonitor(run_id, client=self.client)
        self.monitor_box.children = [self.monitor]
        return self.monitor

    # ------------------------------------------------------------------------------------------ render

    def _say(self, text: str, *, error: bool = False, raw: bool = False) -> None:
        self.message = text.replace(SPINNER, "").strip()
        body = text if raw else esc(text)
        style = ' style="color:#dc3545"' if error else ""
        self.status.value = f"<div{style}>{WARN_ICON + ' ' if error else ''}{body}</div>"

    def _row(self, run: RunReadResponse) -> w.HBox:
        stats = run.statistics
        reason = run.termination_reason.value if run.termination_reason else ""
        tags = ", ".join(_tags_of(run))
        cells = w.HTML(
            f"<code>{esc(str(run.run_id)[:8])}</code> · {esc(run.application_id)} {esc(run.version_number)} · "
            f"{badge(run.state.value)} {badge(reason)} · {stats.item_succeeded_count}/{stats.item_count} succeeded · "
            f"{utc_text(run.submitted_at)}{f' · tags: {esc(tags)}' if tags else ''}",
            layout=w.Layout(width="60em"),
        )
        button = w.Button(description="Open", icon="external-link", layout=w.Layout(width="7em"))
        button.on_click(lambda _: self.open_run(str(run.run_id)))
        return w.HBox([cells, button])

    def _render(self) -> None:
        old = self.table.children
        self.table.children = [self._row(run) for run in self.shown]
        close_widgets(old)
        self.page_label.value = f"page {self.page + 1} of {self.pages}"
        self.prev_button.disabled = self.page <= 0
        self.next_button.disabled = self.page >= self.pages - 1
