"""Runs and applications for the sidebar: pages of run summaries, run details with items, cancel.

Pages map one-to-one onto the platform's pages when only the application or one tag filters (the platform
filters those); a state filter is applied here, scanning the platform's pages newest first. Summaries carry the
SDK's tags and note but not the rest of the custom metadata. Blocking; no web framework.

Example:
    >>> page = list_runs(client, RunQuery(state="PROCESSING"))  # doctest: +SKIP
    >>> page["runs"][0]["statistics"]["item_succeeded_count"]  # doctest: +SKIP
"""

from __future__ import annotations

from itertools import islice
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from aignostics_jupyter.client import Client, run_matches, tags_query
from aignostics_jupyter.client.models import ItemResultReadResponse, RunReadResponse

__all__ = ["RunQuery", "list_applications", "list_runs", "run_details", "run_summary"]

#: The platform's largest page.
MAX_PAGE_SIZE = 100


class RunQuery(BaseModel):
    """The filters and page of ``GET api/runs``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    application_id: str | None = Field(None, max_length=200)
    state: Literal["PENDING", "PROCESSING", "TERMINATED"] | None = None
    tag: str | None = Field(None, max_length=200)
    page: int = Field(1, ge=1, le=10_000)
    page_size: int = Field(50, ge=5, le=MAX_PAGE_SIZE)


def run_summary(run: RunReadResponse) -> dict[str, Any]:
    """A run as the sidebar shows it: everything but the custom metadata, plus the SDK tags and note."""
    data = run.model_dump(mode="json", exclude={"custom_metadata", "custom_metadata_checksum"})
    sdk = (run.custom_metadata or {}).get("sdk") or {}
    tags = sdk.get("tags") if isinstance(sdk, dict) else None
    note = sdk.get("note") if isinstance(sdk, dict) else None
    data["tags"] = sorted(str(t) for t in tags) if isinstance(tags, list) else []
    data["note"] = note if isinstance(note, str) else None
    return data


def _platform_page(client: Client, query: RunQuery) -> list[RunReadResponse]:
    """One page of the platform's run list, newest first (past the last page it is empty).

    The tag goes to the server as a JSONPath filter only, so the page is exactly the server's page and its length
    tells whether another follows.
    """
    runs = client.runs.list(
        application_id=query.application_id,
        custom_metadata=tags_query([query.tag]) if query.tag else None,
        sort="-submitted_at",
        page_size=query.page_size,
        nocache=True,
    )
    return runs.page(query.page)


def list_runs(client: Client, query: RunQuery) -> dict[str, Any]:
    """One page of run summaries with the query's filters.

    Returns:
        ``{"runs": [...], "page", "page_size", "has_more"}``.
    """
    if query.state is None:
        runs = _platform_page(client, query)
        has_more = len(runs) == query.page_size
        if query.tag:
            runs = [r for r in runs if run_matches(r, tags={query.tag}, note=None)]
    else:
        matching = (
            run
            for run in client.runs.list(
                application_id=query.application_id,
                tags={query.tag} if query.tag else None,
                page_size=MAX_PAGE_SIZE,
                nocache=True,
            )
            if run.state == query.state
        )
        start = (query.page - 1) * query.page_size
        window = list(islice(matching, start, start + query.page_size + 1))
        has_more = len(window) > query.page_size
        runs = window[: query.page_size]
    return {
        "runs": [run_summary(run) for run in runs],
        "page": query.page,
        "page_size": query.page_size,
        "has_more": has_more,
    }


def _item(item: ItemResultReadResponse) -> dict[str, Any]:
    return {
        "item_id": str(item.item_id),
        "external_id": item.external_id,
        "state": item.state.value,
        "output": item.output.value,
        "termination_reason": item.termination_reason.value if item.termination_reason else None,
        "error_code": item.error_code,
        "error_message": item.error_message,
        "terminated_at": item.terminated_at.isoformat() if item.terminated_at else None,
        "artifacts": [
            {
                "name": artifact.name,
                "state": artifact.state.value,
                "output": artifact.output.value,
                "error_message": artifact.error_message,
            }
            for artifact in item.output_artifacts
        ],
    }


def run_details(client: Client, run_id: str, *, max_items: int = 1000) -> dict[str, Any]:
    """A run's summary and its items (state, errors, output artifacts)."""
    run = client.runs.get(run_id, nocache=True)
    items = list(islice(client.runs.items(run_id, nocache=True, page_size=MAX_PAGE_SIZE), max_items))
    return {**run_summary(run), "items": [_item(item) for item in items]}


def list_applications(client: Client) -> list[dict[str, Any]]:
    """The applications the caller may run, with their latest version."""
    out = []
    for app in client.applications.list():
        latest = app.latest_version
        out.append(
            {
                "application_id": app.application_id,
                "name": app.name,
                "description": app.description,
                "latest_version": latest.number if latest else None,
            }
        )
    return out
