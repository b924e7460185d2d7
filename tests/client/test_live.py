"""Read-only checks of the client against the real platform (live charter: credentials only, nothing written).

Skipped unless ``AIGNOSTICS_RUN_E2E=1`` and a refresh token is given (``AIGNOSTICS_REFRESH_TOKEN``). The
environment is captured at import, before the per-test isolation removes ``AIGNOSTICS_*`` variables.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from aignostics_jupyter.client import Client
from aignostics_jupyter.settings import Settings

pytestmark = [pytest.mark.live, pytest.mark.timeout(120)]

_CAPTURED = {k: v for k, v in os.environ.items() if k.startswith("AIGNOSTICS_")}
_ENABLED = _CAPTURED.get("AIGNOSTICS_RUN_E2E") == "1" and bool(_CAPTURED.get("AIGNOSTICS_REFRESH_TOKEN"))


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    """One client (and one token cache) for the module: refresh tokens may rotate, so each is used once."""
    if not _ENABLED:
        pytest.skip("live tests need AIGNOSTICS_RUN_E2E=1 and AIGNOSTICS_REFRESH_TOKEN")
    with pytest.MonkeyPatch.context() as patch:
        for name, value in _CAPTURED.items():
            patch.setenv(name, value)
        patch.setenv("AIGNOSTICS_CACHE_DIR", str(tmp_path_factory.mktemp("live-cache")))
        settings = Settings()
    with Client(settings) as made:
        yield made


def test_live_health_and_me(client: Client) -> None:
    assert client.health() is True
    me = client.me()
    assert me.user.id
    assert me.organization.aignostics_bucket_name


def test_live_applications_and_a_version_contract(client: Client) -> None:
    apps = list(client.applications.list())
    if not apps:
        pytest.skip("no application is available to this organization")
    app_id = _CAPTURED.get("AIGNOSTICS_LIVE_APPLICATION_ID") or apps[0].application_id
    version = client.applications.version(app_id, _CAPTURED.get("AIGNOSTICS_LIVE_APPLICATION_VERSION"))
    assert version.input_artifacts
    assert all(a.metadata_schema for a in version.input_artifacts)


def test_live_runs_first_page(client: Client) -> None:
    runs = client.runs.list(page_size=5, limit=5).to_list()
    for run in runs:
        assert client.runs.get(run.run_id).run_id == run.run_id
