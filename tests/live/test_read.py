"""Read-only live checks: every read operation of the platform API, against the configured platform."""

from __future__ import annotations

from itertools import islice
from typing import Any

import pytest

pytestmark = [pytest.mark.live, pytest.mark.timeout(120)]


def test_health(call: Any, client: Any) -> None:
    assert call("GET /api/v1/health", client.health) is True


def test_me(call: Any, client: Any) -> None:
    me = call("GET /v1/me", lambda: client.me(nocache=True))

    assert me.user.id
    assert me.organization.id


def test_applications_list_and_get(call: Any, client: Any, application: tuple[str, str]) -> None:
    app_id, _ = application
    apps = call("GET /v1/applications", lambda: list(client.applications.list()))
    one = call(f"GET /v1/applications/{app_id}", lambda: client.applications.get(app_id))

    assert app_id in {app.application_id for app in apps}
    assert one.application_id == app_id
    assert one.versions


def test_version_details_and_documents(call: Any, client: Any, application: tuple[str, str]) -> None:
    app_id, version = application
    details = call(
        f"GET /v1/applications/{app_id}/versions/{version}", lambda: client.applications.version(app_id, version)
    )
    documents = call("GET …/documents", lambda: client.applications.documents.list(app_id, version))

    assert details.version_number == version
    assert details.input_artifacts
    assert details.output_artifacts
    for document in documents:
        assert document.name


def test_runs_list_filters_and_pages(call: Any, client: Any, application: tuple[str, str]) -> None:
    app_id, _ = application
    mine = call("GET /v1/runs", lambda: list(islice(client.runs.list(), 10)))
    filtered = call("GET /v1/runs?application_id=", lambda: list(islice(client.runs.list(application_id=app_id), 5)))

    assert all(run.application_id == app_id for run in filtered)
    assert len(mine) <= 10


def _some_run(call: Any, client: Any) -> Any:
    runs = call("GET /v1/runs", lambda: list(islice(client.runs.list(), 1)))
    if not runs:
        pytest.skip("no run is visible to this user: cannot check GET /v1/runs/{run_id} and its items")
    return runs[0]


def test_run_items_and_item(call: Any, client: Any) -> None:
    run = _some_run(call, client)
    details = call(f"GET /v1/runs/{run.run_id}", lambda: client.runs.get(run.run_id, nocache=True))
    items = call(f"GET /v1/runs/{run.run_id}/items", lambda: list(client.runs.items(run.run_id)))

    assert str(details.run_id) == str(run.run_id)
    if not items:
        pytest.skip(f"run {run.run_id} has no items: cannot check GET /v1/runs/{{run_id}}/items/{{external_id}}")
    one = call("GET …/items/{external_id}", lambda: client.runs.item(run.run_id, items[0].external_id))
    assert one.external_id == items[0].external_id


def test_grants_and_share_tokens(call: Any, client: Any) -> None:
    grants = call("GET /v1/access/grants", lambda: list(client.access.list_grants()))
    tokens = call("GET /v1/access/share-tokens", lambda: list(client.access.list_share_tokens()))

    assert isinstance(grants, list)
    assert isinstance(tokens, list)
