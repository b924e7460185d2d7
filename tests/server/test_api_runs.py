"""``api/runs``, ``api/runs/{id}``, cancel, download, ``api/applications`` against the local platform."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from aignostics_jupyter.client import Client
from aignostics_jupyter.server.routes import ROUTES
from tests.server.test_api_support import (
    assert_no_token,
    body,
    call,
    jp_server_config,
    kernel_client,
    logged_in,
    platform,
    platform_env,
    poll,
    slides,
)

__all__ = ["jp_server_config", "kernel_client", "logged_in", "platform", "platform_env", "slides"]

pytestmark = pytest.mark.timeout(60)

UNKNOWN_RUN = "00000000-0000-4000-8000-000000000000"


@pytest.fixture(scope="module")
def submitted(platform: Any, slides: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Runs submitted from Python: two that finish (tagged), one held PROCESSING."""
    from aignostics_jupyter.settings import Settings

    env = platform.env()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        api_root=env["AIGNOSTICS_API_ROOT"],
        client_id_device=env["AIGNOSTICS_CLIENT_ID_DEVICE"],
        storage_endpoint_url=env["AIGNOSTICS_STORAGE_ENDPOINT_URL"],
        bucket_protocol="local",
        cache_dir=tmp_path_factory.mktemp("submit-cache"),
        refresh_token=platform.refresh_token(),
    )
    with Client(settings) as client:
        done = client.runs.submit("test-app", [slides / "case-1.tiff"], tags=["cohort-a", "fast"], note="first")
        other = client.runs.submit("test-app", [slides / "case-2.tiff"], tags=["cohort-b"])
        held = client.runs.submit("test-app", [slides / "slow-1.tiff"], tags=["cohort-a"])
        done.wait(poll=0.2, timeout=30)
        other.wait(poll=0.2, timeout=30)
    return {"done": done.run_id, "other": other.run_id, "held": held.run_id}


@pytest.mark.integration
async def test_runs_lists_newest_first_with_tags_and_progress(
    jp_fetch: Any, logged_in: Any, submitted: dict[str, str]
) -> None:
    response = await call(jp_fetch, "runs")

    assert response.code == 200
    assert_no_token(response.body)
    page = body(response)
    ids = [run["run_id"] for run in page["runs"]]
    assert ids[:3] == [submitted["held"], submitted["other"], submitted["done"]]
    done = page["runs"][2]
    assert done["application_id"] == "test-app"
    assert done["version_number"]
    assert done["state"] == "TERMINATED"
    assert done["statistics"]["item_count"] == 1
    assert done["statistics"]["item_succeeded_count"] == 1
    assert done["tags"] == ["cohort-a", "fast"]
    assert done["note"] == "first"
    assert done["submitted_at"]
    assert "custom_metadata" not in done
    assert page["page"] == 1
    assert page["has_more"] is False


@pytest.mark.integration
async def test_runs_filters_by_state_tag_and_application(
    jp_fetch: Any, logged_in: Any, submitted: dict[str, str]
) -> None:
    processing = body(await call(jp_fetch, "runs", state="PROCESSING"))["runs"]
    pending = body(await call(jp_fetch, "runs", state="PENDING"))["runs"]
    tagged = body(await call(jp_fetch, "runs", tag="cohort-a"))["runs"]
    terminated_a = body(await call(jp_fetch, "runs", tag="cohort-a", state="TERMINATED"))["runs"]
    other_app = body(await call(jp_fetch, "runs", application_id="he-tme"))["runs"]

    active = {run["run_id"] for run in processing + pending}
    assert submitted["held"] in active
    assert submitted["done"] not in active
    assert {run["run_id"] for run in tagged} >= {submitted["done"], submitted["held"]}
    assert submitted["other"] not in {run["run_id"] for run in tagged}
    assert [run["run_id"] for run in terminated_a] == [submitted["done"]]
    assert other_app == []


@pytest.mark.integration
async def test_runs_pages(jp_fetch: Any, logged_in: Any, submitted: dict[str, str], kernel_client: Client) -> None:
    total = len(kernel_client.runs.list().to_list())
    first = body(await call(jp_fetch, "runs", page_size="5"))
    assert len(first["runs"]) == min(5, total)
    assert first["has_more"] is (total >= 5)
    past = body(await call(jp_fetch, "runs", page="50", page_size="5"))
    assert past["runs"] == []
    assert past["has_more"] is False


@pytest.mark.integration
@pytest.mark.parametrize(
    "params", [{"state": "FINISHED"}, {"page": "0"}, {"page_size": "1000"}, {"page": "x"}, {"unknown": "1"}]
)
async def test_runs_refuses_bad_queries(jp_fetch: Any, logged_in: Any, params: dict[str, str]) -> None:
    response = await call(jp_fetch, "runs", **params)

    assert response.code == 422
    assert body(response)["error"]["type"] == "InvalidInputError"


@pytest.mark.integration
async def test_run_details_list_items(jp_fetch: Any, logged_in: Any, submitted: dict[str, str]) -> None:
    response = await call(jp_fetch, f"runs/{submitted['done']}")

    assert response.code == 200
    assert_no_token(response.body)
    run = body(response)
    assert run["run_id"] == submitted["done"]
    assert run["download"] is None
    (item,) = run["items"]
    assert item["external_id"].endswith("case-1.tiff")
    assert item["state"] == "TERMINATED"
    assert item["output"] == "FULL"
    assert item["artifacts"]
    assert all(a["output"] == "AVAILABLE" for a in item["artifacts"])


@pytest.mark.integration
async def test_unknown_run_is_404(jp_fetch: Any, logged_in: Any) -> None:
    for path in (f"runs/{UNKNOWN_RUN}", f"runs/{UNKNOWN_RUN}/download"):
        response = await call(jp_fetch, path)
        assert response.code == 404, path
        assert body(response)["error"]["type"] == "NotFoundError"
    for path in (f"runs/{UNKNOWN_RUN}/cancel", f"runs/{UNKNOWN_RUN}/download"):
        response = await call(jp_fetch, path, "POST")
        assert response.code == 404, path


@pytest.mark.integration
async def test_cancel_then_cancel_again_is_409(jp_fetch: Any, logged_in: Any, submitted: dict[str, str]) -> None:
    response = await call(jp_fetch, f"runs/{submitted['held']}/cancel", "POST")

    assert response.code == 200
    run = body(response)
    assert run["run_id"] == submitted["held"]
    assert run["state"] == "TERMINATED"
    assert run["termination_reason"] == "CANCELED_BY_USER"
    again = await call(jp_fetch, f"runs/{submitted['held']}/cancel", "POST")
    assert again.code == 409
    assert body(again)["error"]["type"] == "ConflictError"


@pytest.mark.integration
async def test_download_results_into_the_workspace(
    jp_fetch: Any, jp_root_dir: Path, logged_in: Any, submitted: dict[str, str]
) -> None:
    run_id = submitted["done"]
    started = await call(jp_fetch, f"runs/{run_id}/download", "POST", {"folder": "results/here"})

    assert started.code in (200, 202)
    assert body(started)["folder"] == f"results/here/{run_id}"

    async def finished() -> Any:
        job = body(await call(jp_fetch, f"runs/{run_id}/download"))
        return job if job["state"] != "running" else None

    job = await poll(finished)
    assert job["state"] == "succeeded", job["error"]
    assert job["files_downloaded"] >= 1
    assert job["bytes_done"] == job["bytes_total"] > 0
    for relative in job["files"]:
        assert relative.startswith(f"results/here/{run_id}/")
        assert (jp_root_dir / relative).is_file()
    details = body(await call(jp_fetch, f"runs/{run_id}"))
    assert details["download"]["job_id"] == job["job_id"]
    # Again: every file is already there and verified.
    await call(jp_fetch, f"runs/{run_id}/download", "POST", {"folder": "results/here"})
    again = await poll(finished)
    assert again["files_skipped"] == len(job["files"])
    assert again["files_downloaded"] == 0


@pytest.mark.integration
@pytest.mark.parametrize(
    ("folder", "status"),
    [("../outside", 403), ("/etc", 403), ("a/../../b", 403), ("~/x", 403), (".hidden", 403), ("link/x", 403), (3, 422)],
)
async def test_download_folder_is_confined_to_the_root(
    jp_fetch: Any, jp_root_dir: Path, tmp_path_factory: pytest.TempPathFactory, logged_in: Any, folder: Any, status: int
) -> None:
    outside = tmp_path_factory.mktemp("outside")
    os.symlink(outside, jp_root_dir / "link")

    response = await call(jp_fetch, f"runs/{UNKNOWN_RUN}/download", "POST", {"folder": folder})

    assert response.code == status
    assert str(jp_root_dir) not in body(response)["error"]["message"]
    assert list(outside.iterdir()) == []


@pytest.mark.integration
async def test_applications(jp_fetch: Any, logged_in: Any) -> None:
    response = await call(jp_fetch, "applications")

    assert response.code == 200
    apps = {app["application_id"]: app for app in body(response)["applications"]}
    assert {"he-tme", "test-app"} <= set(apps)
    assert apps["test-app"]["latest_version"]


@pytest.mark.unit
def test_every_sidebar_route_is_in_the_spec() -> None:
    import yaml

    spec = yaml.safe_load((Path(__file__).parents[2] / "specification" / "rest-api.yml").read_text())
    documented = {
        (path, method.upper())
        for path, operations in spec["paths"].items()
        for method in operations
        if method in ("get", "post", "delete", "put")
    }
    expected = set()
    for route in ROUTES:
        if not route.pattern.startswith("api/"):
            continue
        path = "/" + route.pattern.replace(r"([0-9A-Za-z-]{1,64})", "{run_id}")
        expected |= {(path, method) for method in route.methods}
    assert expected == documented
    assert spec["openapi"].startswith("3.1")
