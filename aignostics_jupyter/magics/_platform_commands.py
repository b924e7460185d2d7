"""``%aignostics`` commands that talk to the platform: login, whoami, apps, runs, submit, cancel, download, view.

Each command parses nothing itself (the parser did), calls the client or a widget, and returns the natural
object: a widget, a table that is also a list or record, or the client's own object (``Run``, ``DownloadResult``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ipywidgets as w
from IPython.display import display

from aignostics_jupyter.exceptions import ConflictError, InvalidInputError, NotFoundError
from aignostics_jupyter.magics._results import Record, ResultList
from aignostics_jupyter.widgets._platform import parse_run_id, platform_client
from aignostics_jupyter.widgets._platform_html import badge, utc_text
from aignostics_jupyter.widgets._platform_schema import place_metadata

if TYPE_CHECKING:
    from aignostics_jupyter.client import DownloadResult, Progress, Run
    from aignostics_jupyter.client.models import ApplicationReadShortResponse, RunReadResponse
    from aignostics_jupyter.widgets.app_browser import ApplicationBrowser
    from aignostics_jupyter.widgets.login import LoginWidget
    from aignostics_jupyter.widgets.run_browser import RunBrowser
    from aignostics_jupyter.widgets.run_monitor import RunMonitor

__all__ = [
    "apps",
    "cancel",
    "download",
    "login",
    "logout",
    "parse_cell",
    "run",
    "runs",
    "split_tags",
    "submit",
    "view",
    "whoami",
]


def login(args: argparse.Namespace, cell: str | None) -> LoginWidget:
    """Show a LoginWidget; start the device flow unless already logged in."""
    from aignostics_jupyter.widgets.login import LoginWidget

    widget = LoginWidget(check=False)
    auth = widget.client.auth
    if auth is not None and auth.has_credentials() and not args.relogin:
        widget.check()
    else:
        widget.login(relogin=args.relogin)
    return widget


def logout(args: argparse.Namespace, cell: str | None) -> None:
    """Forget every token of this environment."""
    client = platform_client()
    if client.auth is not None:
        client.auth.logout()
    client.clear_cache()
    print(f"Logged out of {client.settings.api_root}.")


def whoami(args: argparse.Namespace, cell: str | None) -> Record[Any]:
    """The logged-in user, organization and token expiry (no secret shown)."""
    client = platform_client()
    me = client.me(nocache=True)
    cached = client.auth.store.read_access() if client.auth is not None else None
    fields = {
        "user": me.user.name or me.user.id,
        "email": me.user.email,
        "user id": me.user.id,
        "organization": me.organization.display_name or me.organization.name or me.organization.id,
        "organization id": me.organization.id,
        "api root": client.settings.api_root,
        "token valid until": utc_text(cached[1]) if cached else "",
    }
    return Record(me, fields, title="Logged in")


def _app_row(app: ApplicationReadShortResponse) -> list[Any]:
    latest = app.latest_version.number if app.latest_version else ""
    return [app.application_id, app.name, ", ".join(app.regulatory_classes), latest, app.description]


def apps(args: argparse.Namespace, cell: str | None) -> ResultList[ApplicationReadShortResponse]:
    """The applications with regulatory classes and latest versions."""
    found = list(platform_client().applications.list())
    return ResultList(
        found, ["application", "name", "regulatory classes", "latest version", "description"], _app_row, title="Apps"
    )


def _versions(application_id: str) -> list[str]:
    """An application's versions, saying plainly which applications exist when it does not."""
    client = platform_client()
    try:
        return client.applications.versions(application_id)
    except NotFoundError:
        known = ", ".join(a.application_id for a in client.applications.list())
        raise NotFoundError(f"There is no application {application_id!r} (applications: {known})") from None


def app(args: argparse.Namespace, cell: str | None) -> ApplicationBrowser:
    """One application in an ApplicationBrowser (versions, changelog, artifacts and their schemas)."""
    from aignostics_jupyter.widgets.app_browser import ApplicationBrowser

    client = platform_client()
    versions = _versions(args.application_id)
    if args.version and args.version.removeprefix("v") not in versions:
        shown = ", ".join(versions) or "none"
        msg = f"{args.application_id} has no version {args.version} (versions: {shown})"
        raise NotFoundError(msg)
    return ApplicationBrowser(client, application_id=args.application_id, version=args.version)


def split_tags(values: list[str] | str | None) -> list[str]:
    """Split ``a,b`` and repeated options into a clean tag list.

    Example:
        >>> split_tags(["a,b", " c "])
        ['a', 'b', 'c']
    """
    if values is None:
        return []
    parts = [values] if isinstance(values, str) else values
    return [t.strip() for part in parts for t in part.split(",") if t.strip()]


def _run_row(data: RunReadResponse) -> list[Any]:
    stats = data.statistics
    sdk = (data.custom_metadata or {}).get("sdk") or {}
    tags = ", ".join(sdk.get("tags") or []) if isinstance(sdk, dict) else ""
    return [
        str(data.run_id),
        f"{data.application_id} {data.version_number}",
        badge(data.state.value),
        data.termination_reason.value if data.termination_reason else "",
        f"{stats.item_succeeded_count}/{stats.item_count}",
        utc_text(data.submitted_at),
        tags,
    ]


RUN_COLUMNS = ["run", "application", "state", "termination", "succeeded", "submitted", "tags"]


def runs(args: argparse.Namespace, cell: str | None) -> ResultList[RunReadResponse] | RunBrowser:
    """My runs, newest first, filtered by application, state and tags."""
    if args.widget:
        from aignostics_jupyter.widgets.run_browser import RunBrowser

        return RunBrowser(application_id=args.app, state=args.state, tags=args.tags or "")
    tags = split_tags(args.tags)
    found = platform_client().runs.list(application_id=args.app, tags=tags or None, nocache=True)
    selected: list[RunReadResponse] = []
    for data in found:
        if args.state and data.state.value != args.state:
            continue
        selected.append(data)
        if len(selected) >= args.limit:
            break
    return ResultList(selected, RUN_COLUMNS, _run_row, title="Runs", raw=[2])


def _checked_run(run_id: str) -> RunReadResponse:
    """Fetch a run, saying plainly when the id is not a UUID or no such run exists."""
    checked = parse_run_id(run_id)
    try:
        return platform_client().runs.get(checked, nocache=True)
    except NotFoundError:
        raise NotFoundError(f"There is no run {checked} (or it is not shared with you)") from None


def run(args: argparse.Namespace, cell: str | None) -> RunMonitor:
    """One run, live, in a RunMonitor (``monitor.run`` is the :class:`Run`)."""
    from aignostics_jupyter.widgets.run_monitor import RunMonitor

    data = _checked_run(args.run_id)
    return RunMonitor(str(data.run_id), client=platform_client())


def parse_cell(cell: str | None) -> dict[str, dict[str, Any]]:
    """Parse a ``%%aignostics submit`` body: ``{slide: {field: value}}`` as YAML or JSON (``"*"``: every slide).

    Example:
        >>> parse_cell('{"a.tiff": {"tissue": "LUNG"}}')
        {'a.tiff': {'tissue': 'LUNG'}}

    Raises:
        InvalidInputError: When the body is not a mapping of slides to mappings.
    """
    if cell is None or not cell.strip():
        return {}
    try:
        import yaml

        data = yaml.safe_load(cell)
    except ImportError:  # pragma: no cover - pyyaml is a dependency
        try:
            data = json.loads(cell)
        except ValueError as exc:
            raise InvalidInputError(f"The cell body is not valid JSON ({exc})") from exc
    except Exception as exc:  # yaml.YAMLError and friends
        first = " ".join(str(exc).split())
        raise InvalidInputError(f"The cell body is not valid YAML or JSON ({first})") from exc
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        msg = (
            "The cell body must map each slide (or '*' for every slide) to its metadata, e.g. 'a.tiff: {tissue: LUNG}'"
        )
        raise InvalidInputError(msg)
    return {str(k): dict(v) for k, v in data.items()}


def _progress_bar(description: str) -> tuple[w.FloatProgress, w.Label]:
    bar = w.FloatProgress(min=0.0, max=1.0, description=description)
    label = w.Label()
    display(w.HBox([bar, label]))  # type: ignore[no-untyped-call]
    return bar, label


def submit(args: argparse.Namespace, cell: str | None) -> Run:
    """Describe, validate, upload and submit slides; show a RunMonitor and return the :class:`Run`."""
    from aignostics_jupyter.widgets.run_monitor import RunMonitor

    client = platform_client()
    per_slide = parse_cell(cell)
    common_given = per_slide.pop("*", {})
    paths = list(args.paths) + [k for k in per_slide if k not in args.paths]
    if not paths:
        raise InvalidInputError("Name the slides: %aignostics submit APP PATHS…, or list them in the cell body")
    versions = _versions(args.application_id)
    if args.version and args.version.removeprefix("v") not in versions:
        raise NotFoundError(f"{args.application_id} has no version {args.version} (versions: {', '.join(versions)})")
    contract = client.applications.version(args.application_id, args.version)
    schema = contract.input_artifacts[0].metadata_schema if contract.input_artifacts else {}
    flags = {"tissue": args.tissue, "disease": args.disease, "staining": args.staining}
    common_given.update({k: v for k, v in flags.items() if v is not None})
    common = place_metadata(schema, common_given)
    slide_metadata = {name: place_metadata(schema, {**common_given, **given}) for name, given in per_slide.items()}
    shown: list[tuple[w.FloatProgress, w.Label]] = []
    sizes: dict[str, tuple[int, int]] = {}

    def on_progress(progress: Progress) -> None:
        if progress.stage == "describe":
            return  # validation comes next: show nothing until it has passed
        if not shown:
            shown.append(_progress_bar("Submitting"))
        bar, label = shown[0]
        if progress.stage == "upload":
            sizes[progress.name] = (progress.done, progress.total)
            done, total = sum(d for d, _ in sizes.values()), sum(t for _, t in sizes.values())
            bar.value = done / total if total else 0.0
            label.value = f"uploading {len(sizes)} file(s): {done / 1e6:.1f} of {total / 1e6:.1f} MB"
        else:
            label.value = {"describe": "describing the slides…", "submit": "creating the run…"}.get(progress.stage, "")

    new_run = client.runs.submit(
        args.application_id,
        paths,
        version=args.version,
        metadata=common,
        slide_metadata=slide_metadata,
        tags=split_tags(args.tag) or None,
        note=args.note,
        on_progress=on_progress,
    )
    if shown:
        shown[0][0].value = 1.0
        shown[0][1].value = f"submitted run {new_run.run_id}"
    display(RunMonitor(new_run.run_id, client=client))  # type: ignore[no-untyped-call]
    if args.wait:
        new_run.wait(poll=2.0)
    return new_run


def cancel(args: argparse.Namespace, cell: str | None) -> None:
    """Cancel a run."""
    data = _checked_run(args.run_id)
    if data.state.value == "TERMINATED":
        raise ConflictError(f"The run {data.run_id} has already terminated; there is nothing to cancel")
    platform_client().runs.cancel(str(data.run_id))
    print(f"Canceled run {data.run_id}.")


def download(args: argparse.Namespace, cell: str | None) -> DownloadResult:
    """Download a run's results with progress; return what was downloaded, skipped and failed."""
    data = _checked_run(args.run_id)
    handle = platform_client().run(str(data.run_id))
    bar, label = _progress_bar("Downloading")

    def on_progress(progress: Progress) -> None:
        bar.value = progress.done / progress.total if progress.total else 0.0
        label.value = Path(progress.name).name

    result = handle.download(args.dest, wait=args.wait, poll=2.0, on_progress=on_progress)
    bar.value = 1.0
    label.value = f"{len(result.downloaded)} downloaded, {len(result.skipped)} already there"
    print(
        f"Downloaded {len(result.downloaded)} file(s) ({len(result.skipped)} already there) to {result.folder}."
        if result.files
        else f"Run {args.run_id} has no results to download yet."
    )
    return result


def view(args: argparse.Namespace, cell: str | None) -> Any:
    """Open a slide in the SlideViewer, with a run's outputs for it overlaid when ``--results`` is given."""
    from aignostics_jupyter.widgets._run_view import open_viewer

    path = Path(args.path).expanduser()
    if not path.exists():
        raise NotFoundError(f"{path} does not exist")
    run_id = str(_checked_run(args.results).run_id) if args.results else None
    return open_viewer(path, run_id=run_id, client=platform_client() if run_id else None)
