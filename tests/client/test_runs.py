"""Runs against the fake platform: listing and search, submit (exactly once), items, metadata, download."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from aignostics_jupyter.checksums import crc32c_bytes
from aignostics_jupyter.client import Client, WaitTimeoutError
from aignostics_jupyter.client._sdk_metadata import NONCE_KEY
from aignostics_jupyter.exceptions import (
    AignosticsError,
    GoneError,
    IntegrityError,
    InvalidInputError,
    PermissionDeniedError,
    PreconditionFailedError,
    ServerError,
    TransportError,
    UnsupportedSlideError,
)
from aignostics_jupyter.slides.writers import write_test_pattern_slide
from tests.client.conftest import FakeClock
from tests.client.fakes import FakePlatform, FaultyTransport

pytestmark = pytest.mark.unit


def _is_post_runs(request: httpx.Request) -> bool:
    return request.method == "POST" and request.url.path == "/api/v1/runs"


@pytest.fixture
def slides(tmp_path: Path) -> Path:
    folder = tmp_path / "slides"
    folder.mkdir()
    write_test_pattern_slide(folder / "a.tiff", 512, 384, fmt="tiff", mpp=0.5, smallest_level=128)
    write_test_pattern_slide(folder / "b.tiff", 640, 384, fmt="tiff", mpp=0.5, smallest_level=128)
    return folder


# ------------------------------------------------------------------------------------------------- list


def test_list_sends_the_spec_filters(platform: FakePlatform, make_client: Callable[..., Client]) -> None:
    client = make_client()

    list(
        client.runs.list(
            application_id="he-tme",
            application_version="1.0.0",
            external_id="slide-1",
            submitted_by="me",
            organization_id="my_org",
            sort=["state", "-submitted_at"],
            page_size=20,
        )
    )

    params = platform.requests[-1].url.params
    assert params["application_id"] == "he-tme"
    assert params["application_version"] == "1.0.0"
    assert params["external_id"] == "slide-1"
    assert params["submitted_by"] == "me"
    assert params["organization_id"] == "my_org"
    assert params.get_list("sort") == ["state", "-submitted_at"]
    assert params["page_size"] == "20"


def test_tag_search_sends_jsonpath_and_finishes_client_side(
    platform: FakePlatform, make_client: Callable[..., Client]
) -> None:
    both = platform.add_run(custom_metadata={"sdk": {"tags": ["a", "b"], "note": "Cohort One"}})
    platform.add_run(custom_metadata={"sdk": {"tags": ["a"]}})
    client = make_client()

    found = [str(r.run_id) for r in client.runs.list(tags={"a", "b"})]

    assert found == [both]
    assert platform.requests[-1].url.params["custom_metadata"] == '$.sdk.tags ? (@ like_regex "^(a|b)$")'


def test_note_search_is_a_case_insensitive_regex(platform: FakePlatform, make_client: Callable[..., Client]) -> None:
    match = platform.add_run(custom_metadata={"sdk": {"note": "Cohort One"}})
    platform.add_run(custom_metadata={"sdk": {"note": "other"}})
    client = make_client()

    found = [str(r.run_id) for r in client.runs.list(note="cohort")]

    assert found == [match]
    assert platform.requests[-1].url.params["custom_metadata"] == '$.sdk.note ? (@ like_regex "cohort" flag "i")'


def test_limit_stops_early(platform: FakePlatform, make_client: Callable[..., Client]) -> None:
    for _ in range(12):
        platform.add_run()
    client = make_client()

    assert len(list(client.runs.list(limit=7, page_size=5))) == 7
    assert len(platform.requests) == 2


# ---------------------------------------------------------------------------------------------- submit


def test_submit_describes_uploads_and_creates_the_run(
    platform: FakePlatform, make_client: Callable[..., Client], slides: Path
) -> None:
    client = make_client()
    progress = []

    run = client.runs.submit(
        "test-app",
        str(slides / "*.tiff"),
        metadata={"tissue": "LUNG"},
        tags=["t1"],
        note="n",
        custom_metadata={"study": "s1"},
        on_progress=progress.append,
    )

    body = json.loads(next(r for r in platform.requests if _is_post_runs(r)).content)
    assert body["version_number"] == "0.0.6"
    assert [i["external_id"] for i in body["items"]] == [str(slides / "a.tiff"), str(slides / "b.tiff")]
    meta = body["items"][0]["input_artifacts"][0]["metadata"]
    assert meta["width_px"] == 512
    assert meta["height_px"] == 384
    assert meta["resolution_mpp"] == pytest.approx(0.5)
    assert meta["media_type"] == "image/tiff"
    assert meta["tissue"] == "LUNG"
    url = body["items"][0]["input_artifacts"][0]["download_url"]
    assert url.startswith("http://127.0.0.1:8999/storage/org-bucket/aignostics-jupyter/")
    assert "X-Aig-Signature=" in url
    assert body["custom_metadata"]["study"] == "s1"
    sdk = body["custom_metadata"]["sdk"]
    assert sdk["tags"] == ["t1"]
    assert sdk["note"] == "n"
    assert sdk["submission"]["interface"] == "script"
    assert sdk["user_agent"].startswith("aignostics-jupyter/")
    assert body["items"][0]["custom_metadata"]["sdk"]["platform_bucket"]["bucket_name"] == "org-bucket"
    assert len(platform.objects) == 2
    assert run.run_id in platform.runs
    assert {p.stage for p in progress} == {"describe", "upload", "submit"}


def test_submit_skips_objects_already_uploaded(
    platform: FakePlatform, make_client: Callable[..., Client], slides: Path
) -> None:
    client = make_client()
    client.runs.submit("test-app", [slides / "a.tiff"], metadata={"tissue": "LUNG"})
    puts_before = sum(r.method == "PUT" for r in platform.requests)

    client.runs.submit("test-app", [slides / "a.tiff"], metadata={"tissue": "LUNG"})

    assert sum(r.method == "PUT" for r in platform.requests) == puts_before
    assert len(platform.runs) == 2


def test_submit_validates_every_slide_before_uploading(
    platform: FakePlatform, make_client: Callable[..., Client], slides: Path
) -> None:
    client = make_client()

    with pytest.raises(InvalidInputError) as info:
        client.runs.submit("test-app", slides, slide_metadata={"a.tiff": {"tissue": "BONE"}})

    message = info.value.message
    assert "a.tiff: tissue: 'BONE' is not one of ['LUNG', 'LIVER']" in message
    assert "b.tiff: 'tissue' is a required property" in message
    assert "nothing was uploaded" in message
    assert platform.objects == {}
    assert not any(r.method in ("PUT", "POST") for r in platform.requests)


def test_submit_rejects_missing_slides(make_client: Callable[..., Client], tmp_path: Path) -> None:
    client = make_client()

    with pytest.raises(UnsupportedSlideError, match="does not exist locally or in the organization bucket"):
        client.runs.submit("test-app", str(tmp_path / "nope.svs"), metadata={"tissue": "LUNG"})


def test_submit_passes_urls_through_with_given_metadata(
    platform: FakePlatform, make_client: Callable[..., Client]
) -> None:
    client = make_client()
    url = "https://example.org/slide.tiff?sig=1"
    meta = {"checksum_base64_crc32c": "AAAAAA==", "resolution_mpp": 0.25, "width_px": 10, "height_px": 10}

    client.runs.submit("test-app", url, metadata={"tissue": "LIVER"}, slide_metadata={url: meta})

    body = json.loads(next(r for r in platform.requests if _is_post_runs(r)).content)
    assert body["items"][0]["external_id"] == url
    assert body["items"][0]["input_artifacts"][0]["download_url"] == url
    assert platform.objects == {}


def test_a_lost_submit_answer_creates_exactly_one_run(
    platform: FakePlatform, make_client: Callable[..., Client], slides: Path
) -> None:
    faulty = FaultyTransport(platform.transport(), ["drop"], _is_post_runs)
    client = make_client(transport=faulty)

    run = client.runs.submit("test-app", [slides / "a.tiff"], metadata={"tissue": "LUNG"})

    assert len(platform.runs) == 1
    assert run.run_id in platform.runs
    assert sum(_is_post_runs(r) for r in platform.requests) == 1
    lookup = [r for r in platform.requests if r.method == "GET" and r.url.path == "/api/v1/runs"]
    assert lookup[0].url.params["external_id"] == str(slides / "a.tiff")


@pytest.mark.parametrize(("fault", "error"), [(500, ServerError), (502, ServerError), ("timeout", TransportError)])
def test_a_lost_submit_without_a_run_is_not_sent_again(
    platform: FakePlatform, make_client: Callable[..., Client], slides: Path, fault: int | str, error: type
) -> None:
    faulty = FaultyTransport(platform.transport(), [fault], _is_post_runs)
    client = make_client(transport=faulty)

    with pytest.raises(error, match="before submitting again"):
        client.runs.submit("test-app", [slides / "a.tiff"], metadata={"tissue": "LUNG"})

    assert platform.runs == {}
    assert faulty.calls == 1
    assert sum(_is_post_runs(r) for r in platform.requests) == 0


def test_the_lookup_allows_for_replica_lag(
    platform: FakePlatform, make_client: Callable[..., Client], slides: Path
) -> None:
    lookups = []

    def lagging(request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and request.url.path == "/api/v1/runs" and "external_id" in request.url.params:
            lookups.append(request)
            if len(lookups) < 3:
                return httpx.Response(200, json=[])
        return platform.handle(request)

    faulty = FaultyTransport(httpx.MockTransport(lagging), ["drop"], _is_post_runs)
    client = make_client(transport=faulty)

    run = client.runs.submit("test-app", [slides / "a.tiff"], metadata={"tissue": "LUNG"})

    assert list(platform.runs) == [run.run_id]
    assert len(lookups) == 3


def test_a_refused_connection_on_submit_is_retried(
    platform: FakePlatform, make_client: Callable[..., Client], slides: Path
) -> None:
    faulty = FaultyTransport(platform.transport(), ["connect", "connect"], _is_post_runs)
    client = make_client(transport=faulty)

    client.runs.submit("test-app", [slides / "a.tiff"], metadata={"tissue": "LUNG"})

    assert len(platform.runs) == 1
    assert faulty.calls == 2


def test_the_submission_id_is_recorded(
    platform: FakePlatform, make_client: Callable[..., Client], slides: Path
) -> None:
    client = make_client()

    run = client.runs.submit("test-app", [slides / "a.tiff"], metadata={"tissue": "LUNG"})

    assert len(platform.runs[run.run_id]["custom_metadata"][NONCE_KEY]["submission_id"]) == 32


# ------------------------------------------------------------------------------------ items and metadata


def test_item_by_external_id_with_slashes_uses_the_list_filter(
    platform: FakePlatform, make_client: Callable[..., Client]
) -> None:
    run_id = platform.add_run(2)
    client = make_client()

    item = client.runs.item(run_id, "/slides/slide-1.tiff")

    assert item.external_id == "/slides/slide-1.tiff"
    assert platform.requests[-1].url.params.get_list("external_id__in") == ["/slides/slide-1.tiff"]


def test_items_filters(platform: FakePlatform, make_client: Callable[..., Client]) -> None:
    run_id = platform.add_run(2)
    client = make_client()

    list(client.runs.items(run_id, state="TERMINATED", termination_reason="SUCCEEDED", item_ids=["x", "y"]))

    params = platform.requests[-1].url.params
    assert params["state"] == "TERMINATED"
    assert params["termination_reason"] == "SUCCEEDED"
    assert params.get_list("item_id__in") == ["x", "y"]


def test_metadata_put_with_checksum(platform: FakePlatform, make_client: Callable[..., Client]) -> None:
    run_id = platform.add_run(custom_metadata={"a": 1})
    client = make_client()

    checksum = client.runs.update_metadata(run_id, {"a": 2}, checksum="00000001")
    assert checksum == "00000002"
    with pytest.raises(PreconditionFailedError):
        client.runs.update_metadata(run_id, {"a": 3}, checksum="00000001")
    assert platform.runs[run_id]["custom_metadata"] == {"a": 2}


# ---------------------------------------------------------------------------------------------- download


def test_artifact_url_is_the_307_location(platform: FakePlatform, make_client: Callable[..., Client]) -> None:
    run_id = platform.add_run()
    artifact_id = platform.finish_item(run_id, 0)
    client = make_client()

    assert client.runs.artifact_url(run_id, artifact_id) == f"http://127.0.0.1:8999/files/{artifact_id}"


def test_a_200_instead_of_a_redirect_is_an_error(make_client: Callable[..., Client]) -> None:
    client = make_client(transport=httpx.MockTransport(lambda r: httpx.Response(200, json={})))

    with pytest.raises(AignosticsError, match="expected 307"):
        client.runs.artifact_url("3fa85f64-5717-4562-b3fc-2c963f66afa6", "3fa85f64-5717-4562-b3fc-2c963f66afa6")


def test_download_names_files_like_the_sdk_and_resumes(
    platform: FakePlatform, make_client: Callable[..., Client], tmp_path: Path
) -> None:
    run_id = platform.add_run(2)
    platform.finish_item(run_id, 0, b"x,y\n1,2\n")
    platform.finish_item(run_id, 1, b"x,y\n3,4\n")
    client = make_client()

    first = client.run(run_id).download(tmp_path / "out")
    second = client.run(run_id).download(tmp_path / "out")

    expected = tmp_path / "out" / run_id / "slide-0" / "readout_slide_readouts.csv"
    assert expected.read_bytes() == b"x,y\n1,2\n"
    assert len(first.downloaded) == 2
    assert second.downloaded == []
    assert sorted(second.skipped) == sorted(first.downloaded)


def test_download_deletes_files_that_fail_their_checksum(
    platform: FakePlatform, make_client: Callable[..., Client], tmp_path: Path
) -> None:
    run_id = platform.add_run(2)
    platform.finish_item(run_id, 0)
    platform.finish_item(run_id, 1, bad_crc=True)
    client = make_client()

    with pytest.raises(IntegrityError, match="1 file"):
        client.run(run_id).download(tmp_path / "out")

    folder = tmp_path / "out" / run_id
    assert (folder / "slide-0" / "readout_slide_readouts.csv").is_file()
    assert not (folder / "slide-1" / "readout_slide_readouts.csv").exists()
    assert not list(folder.rglob("*.part"))


def test_download_waits_for_items_as_they_finish(
    platform: FakePlatform, make_client: Callable[..., Client], clock: FakeClock, tmp_path: Path
) -> None:
    run_id = platform.add_run(2)
    platform.finish_item(run_id, 0)
    client = make_client()
    original_sleep = clock.sleep

    def sleep_and_progress(seconds: float) -> None:
        original_sleep(seconds)
        platform.finish_item(run_id, 1)

    client.sleep = sleep_and_progress
    stages = []

    result = client.run(run_id).download(tmp_path / "out", wait=True, poll=1, on_progress=stages.append)

    assert len(result.downloaded) == 2
    assert clock.sleeps == [1]
    waits = [(p.done, p.total) for p in stages if p.stage == "wait"]
    assert waits == [(1, 2)]
    assert {p.stage for p in stages} == {"wait", "download"}


def test_wait_times_out(platform: FakePlatform, make_client: Callable[..., Client]) -> None:
    run_id = platform.add_run()
    client = make_client()

    with pytest.raises(WaitTimeoutError) as info:
        client.run(run_id).wait(poll=2, timeout=5)
    assert isinstance(info.value, TimeoutError)


def test_wait_reports_progress(platform: FakePlatform, make_client: Callable[..., Client], clock: FakeClock) -> None:
    run_id = platform.add_run(2)
    client = make_client()
    seen = []

    def progress(p: object) -> None:
        seen.append(p)
        if len(seen) == 1:
            platform.finish_item(run_id, 0)
            platform.finish_item(run_id, 1)

    final = client.run(run_id).wait(poll=3, on_progress=progress)

    assert final.state.value == "TERMINATED"
    assert [(p.done, p.total) for p in seen] == [(0, 2), (2, 2)]


def test_items_read_after_wait_show_final_states(platform: FakePlatform, make_client: Callable[..., Client]) -> None:
    run_id = platform.add_run(1)
    client = make_client()
    run = client.run(run_id)
    assert [item.state.value for item in run.items()] == ["PENDING"]  # now cached for 15 s

    def finish(progress: object) -> None:
        platform.finish_item(run_id, 0)

    run.wait(poll=1, on_progress=finish)

    assert [item.state.value for item in run.items()] == ["TERMINATED"]


def test_deleted_artifacts_are_gone(platform: FakePlatform, make_client: Callable[..., Client]) -> None:
    run_id = platform.add_run()
    artifact_id = platform.finish_item(run_id, 0)
    client = make_client()

    client.runs.delete_artifacts(run_id)

    with pytest.raises(GoneError):
        client.runs.artifact_url(run_id, artifact_id)


def test_readouts_load_csvs_into_dataframes(
    platform: FakePlatform, make_client: Callable[..., Client], tmp_path: Path
) -> None:
    run_id = platform.add_run(2)
    platform.finish_item(run_id, 0, b"x,y\n1,2\n")
    platform.finish_item(run_id, 1, b"x,y\n3,4\n5,6\n")
    client = make_client()

    tables = client.run(run_id).readouts(tmp_path / "out")

    frame = tables["readout:slide_readouts"]
    assert list(frame.columns) == ["external_id", "x", "y"]
    assert frame["y"].tolist() == [2, 4, 6]
    assert frame["external_id"].tolist() == ["/slides/slide-0.tiff", "/slides/slide-1.tiff", "/slides/slide-1.tiff"]


def test_submit_signs_objects_already_in_the_bucket(platform: FakePlatform, make_client: Callable[..., Client]) -> None:
    platform.objects["shared/s1.tiff"] = b"slide bytes"
    platform.objects["shared/s2.tiff"] = b"other slide bytes"
    client = make_client()
    given = {"resolution_mpp": 0.25, "width_px": 10, "height_px": 10, "tissue": "LUNG"}

    client.runs.submit("test-app", ["shared/s1.tiff", "local://org-bucket/shared/s2.tiff"], metadata=given)

    body = json.loads(next(r for r in platform.requests if _is_post_runs(r)).content)
    first, second = body["items"]
    assert first["external_id"] == "local://org-bucket/shared/s1.tiff"
    assert first["input_artifacts"][0]["metadata"]["checksum_base64_crc32c"] == crc32c_bytes(b"slide bytes")
    assert "/storage/org-bucket/shared/s1.tiff?" in first["input_artifacts"][0]["download_url"]
    assert second["external_id"] == "local://org-bucket/shared/s2.tiff"
    assert second["input_artifacts"][0]["metadata"]["checksum_base64_crc32c"] == crc32c_bytes(b"other slide bytes")
    assert first["custom_metadata"]["sdk"]["platform_bucket"]["object_key"] == "shared/s1.tiff"


def test_submit_refuses_other_buckets(make_client: Callable[..., Client]) -> None:
    client = make_client()

    with pytest.raises(InvalidInputError, match="not in your organization bucket"):
        client.runs.submit("test-app", "gs://someone-else/x.tiff")


def test_items_whose_names_collide_get_separate_folders(
    platform: FakePlatform, make_client: Callable[..., Client], tmp_path: Path
) -> None:
    run_id = platform.add_run(external_ids=["/a/slide.tiff", "/b/slide.tiff"])
    platform.finish_item(run_id, 0, b"x\n1\n")
    platform.finish_item(run_id, 1, b"x\n2\n")
    client = make_client()

    result = client.run(run_id).download(tmp_path / "out")

    folders = sorted(p.parent.name for p in result.downloaded)
    assert len(set(folders)) == 2
    assert all(f.startswith("slide_") for f in folders)
    assert sorted(p.read_bytes() for p in result.downloaded) == [b"x\n1\n", b"x\n2\n"]


def test_the_same_slide_twice_is_refused(make_client: Callable[..., Client], slides: Path) -> None:
    client = make_client()

    with pytest.raises(InvalidInputError, match="given twice"):
        client.runs.submit("test-app", [slides / "a.tiff", str(slides / "*.tiff")], metadata={"tissue": "LUNG"})


def test_artifact_downloads_are_retried_and_leave_no_partial_files(
    platform: FakePlatform, make_client: Callable[..., Client], tmp_path: Path
) -> None:
    run_id = platform.add_run()
    platform.finish_item(run_id, 0, b"x,y\n1,2\n")
    faulty = FaultyTransport(platform.transport(), ["drop", 502], lambda r: r.url.path.startswith("/files/"))
    client = make_client(transport=faulty)

    result = client.run(run_id).download(tmp_path / "out")

    assert faulty.calls == 2
    assert [p.read_bytes() for p in result.downloaded] == [b"x,y\n1,2\n"]
    assert not list((tmp_path / "out").rglob("*.part"))


def test_a_refused_artifact_url_is_not_retried(
    platform: FakePlatform, make_client: Callable[..., Client], tmp_path: Path
) -> None:
    run_id = platform.add_run()
    platform.finish_item(run_id, 0)
    faulty = FaultyTransport(platform.transport(), [403, 403], lambda r: r.url.path.startswith("/files/"))
    client = make_client(transport=faulty)

    with pytest.raises(PermissionDeniedError):
        client.run(run_id).download(tmp_path / "out")
    assert faulty.calls == 1
