"""The client against the local platform over real HTTP: login, every resource, and a whole journey."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from aignostics_jupyter.client import Authenticator, Client
from aignostics_jupyter.client.models import GrantRelation, ItemState, RunState, RunTerminationReason
from aignostics_jupyter.emulator import MEMBER_USER_ID, LocalPlatform
from aignostics_jupyter.exceptions import (
    AuthenticationError,
    ConflictError,
    GoneError,
    InvalidInputError,
    NotFoundError,
    PreconditionFailedError,
)
from aignostics_jupyter.slides.writers import write_test_pattern_slide
from tests.client.local import local_platform, local_settings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPlatform]:
    with local_platform(tmp_path_factory.mktemp("platform")) as running:
        yield running


@pytest.fixture(scope="module")
def slides(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("slides")
    write_test_pattern_slide(folder / "case-1.tiff", 1024, 768, fmt="tiff", mpp=0.5, smallest_level=256)
    write_test_pattern_slide(folder / "case-2.tiff", 900, 700, fmt="tiff", mpp=0.5, smallest_level=256)
    return folder


@pytest.fixture
def client(platform: LocalPlatform, tmp_path: Path) -> Iterator[Client]:
    settings = local_settings(platform, tmp_path / "cache", refresh_token=platform.refresh_token())
    with Client(settings) as made:
        yield made


# ------------------------------------------------------------------------------------------------- login


def test_device_flow_login_then_refresh(platform: LocalPlatform, tmp_path: Path) -> None:
    settings = local_settings(platform, tmp_path / "cache")
    auth = Authenticator(settings)
    prompts = []

    token = auth.login_device_flow(prompts.append, timeout=20)

    assert prompts[0].verification_uri.startswith(platform.api_root)
    assert prompts[0].user_code
    assert token.subject
    assert auth.store.read_refresh()
    cached = auth.store.read_access()
    assert cached is not None
    assert cached[0] == token.token

    fresh = Authenticator(settings)
    assert fresh.token() == token.token
    first_refresh = fresh.store.read_refresh()
    refreshed = fresh.refresh()
    assert fresh.store.read_refresh() not in (None, first_refresh)
    assert fresh.verify(refreshed.token)["sub"] == token.subject
    with Client(settings) as client:
        assert client.me().user.id == token.subject

    fresh.logout()
    with pytest.raises(AuthenticationError):
        Authenticator(settings).token()


def test_a_refresh_token_from_the_environment_logs_in(client: Client, tmp_path: Path) -> None:
    me = client.me()

    assert me.user.id.startswith("auth0|")
    assert client.auth is not None
    assert client.auth.store.access_file.is_file()
    assert not (tmp_path / "cache" / ".token").exists()  # the SDK's file is kept for the real platform


def test_an_expired_cached_token_is_refreshed_after_a_401(platform: LocalPlatform, tmp_path: Path) -> None:
    settings = local_settings(platform, tmp_path / "cache", refresh_token=platform.refresh_token())
    auth = Authenticator(settings)
    valid = platform.access_token()
    broken = valid[:-6] + ("AAAAAA" if not valid.endswith("AAAAAA") else "BBBBBB")
    auth.store.write_access(broken, 4_000_000_000)  # the cache claims it is valid; the platform says 401

    with Client(settings) as client:
        assert client.me().user.id


def test_a_garbage_token_is_an_authentication_error(platform: LocalPlatform, tmp_path: Path) -> None:
    with (
        Client(local_settings(platform, tmp_path), token_provider=lambda: "garbage") as client,
        pytest.raises(AuthenticationError),
    ):
        client.me()


# ------------------------------------------------------------------------------------------- resources


def test_applications_versions_and_documents(client: Client, tmp_path: Path) -> None:
    apps = {a.application_id: a for a in client.applications.list(page_size=5)}
    app = client.applications.get("he-tme")
    latest = client.applications.latest_version("he-tme")
    version = client.applications.version("he-tme")
    docs = client.applications.documents.list("he-tme", latest)
    doc = client.applications.documents.get("he-tme", latest, docs[0].name)
    url = client.applications.documents.url("he-tme", latest, docs[0].name)
    path = client.applications.documents.download("he-tme", latest, docs[0].name, tmp_path)

    assert {"he-tme", "test-app"} <= set(apps)
    assert apps["he-tme"].latest_version is not None
    assert apps["he-tme"].latest_version.number == latest
    assert latest in [v.number for v in app.versions]
    assert version.version_number == latest
    assert version.input_artifacts[0].metadata_schema["type"] == "object"
    assert doc.name == docs[0].name
    assert url.startswith("http://127.0.0.1")
    assert path.read_bytes() == client.applications.documents.read("he-tme", latest, docs[0].name)
    assert path.stat().st_size > 0
    with pytest.raises(NotFoundError):
        client.applications.get("no-such-app")


def test_the_whole_journey(client: Client, slides: Path, tmp_path: Path) -> None:
    progress = []

    run = client.runs.submit(
        "test-app",
        str(slides / "*.tiff"),
        tags=["journey", "cohort-1"],
        note="Journey test",
        on_progress=progress.append,
    )
    final = run.wait(poll=0.1, timeout=40)
    result = run.download(tmp_path / "results")
    again = run.download(tmp_path / "results")
    tables = run.readouts(tmp_path / "results")

    assert final.state == RunState.TERMINATED
    assert final.termination_reason == RunTerminationReason.ALL_ITEMS_PROCESSED
    assert final.statistics.item_succeeded_count == 2
    assert {p.stage for p in progress} >= {"describe", "upload", "submit"}
    folder = tmp_path / "results" / run.run_id
    assert {p.parent.name for p in result.downloaded} == {"case-1", "case-2"}
    assert all(p.is_relative_to(folder) and p.stat().st_size > 0 for p in result.downloaded)
    assert again.downloaded == []
    assert sorted(again.skipped) == sorted(result.downloaded)
    assert tables
    assert all(frame["external_id"].nunique() == 2 for frame in tables.values())

    assert [str(r.run_id) for r in client.runs.list(tags=["journey", "cohort-1"], nocache=True)] == [run.run_id]
    assert [str(r.run_id) for r in client.runs.list(note="journey TEST", nocache=True)] == [run.run_id]
    assert list(client.runs.list(tags=["journey", "absent"], nocache=True)) == []
    assert run.run_id in [str(r.run_id) for r in client.runs.list(external_id=str(slides / "case-1.tiff"))]

    items = list(run.items())
    assert {i.external_id for i in items} == {str(slides / "case-1.tiff"), str(slides / "case-2.tiff")}
    assert all(i.state == ItemState.TERMINATED for i in items)
    item = run.item(str(slides / "case-1.tiff"))
    artifact = item.output_artifacts[0]
    assert httpx.get(run.artifact_url(str(artifact.output_artifact_id))).status_code == 200

    checksum = run.details(nocache=True).custom_metadata_checksum
    new_checksum = run.update_metadata({"study": "s1"}, checksum=checksum)
    assert new_checksum != checksum
    with pytest.raises(PreconditionFailedError):
        run.update_metadata({"study": "s2"}, checksum=checksum)
    assert run.details(nocache=True).custom_metadata == {"study": "s1"}

    run.delete_artifacts()
    with pytest.raises(GoneError):
        run.artifact_url(str(artifact.output_artifact_id))
    with pytest.raises(ConflictError):
        run.cancel()


def test_item_metadata_update(client: Client, slides: Path) -> None:
    run = client.runs.submit("test-app", [slides / "case-1.tiff"])
    run.wait(poll=0.1, timeout=40)
    external_id = str(slides / "case-1.tiff")
    name_only = client.runs.submit("test-app", str(slides / "case-2.tiff"))

    item = client.runs.item(run.run_id, external_id)
    checksum = client.runs.update_item_metadata(run.run_id, item.external_id, {"k": 1})

    assert checksum
    assert name_only.run_id != run.run_id


def test_cancel_a_running_run(client: Client, slides: Path, platform: LocalPlatform) -> None:
    run = client.runs.submit("test-app", [slides / "case-1.tiff", slides / "case-2.tiff"])
    try:
        run.cancel()
    except ConflictError:
        pytest.skip("the run finished before it could be cancelled")  # pragma: no cover
    final = run.wait(poll=0.1, timeout=20)

    assert final.termination_reason in (RunTerminationReason.CANCELED_BY_USER, RunTerminationReason.ALL_ITEMS_PROCESSED)


def test_he_tme_validation_names_the_slide_and_field(client: Client, slides: Path) -> None:
    with pytest.raises(InvalidInputError) as info:
        client.runs.submit("he-tme", [slides / "case-1.tiff"], metadata={"staining_method": "H&E"})

    assert "case-1.tiff" in info.value.message
    assert "'specimen' is a required property" in info.value.message


def test_he_tme_submit_with_specimen(client: Client, slides: Path) -> None:
    run = client.runs.submit(
        "he-tme",
        [slides / "case-1.tiff"],
        metadata={"staining_method": "H&E", "specimen": {"tissue": "LUNG", "disease": "LUNG_CANCER"}},
    )

    assert run.details().application_id == "he-tme"


def test_sharing_a_run(client: Client, slides: Path, platform: LocalPlatform, tmp_path: Path) -> None:
    run = client.runs.submit("test-app", [slides / "case-1.tiff"])

    token = run.share()
    grants = list(client.access.list_grants(resource_id=run.run_id))
    tokens = list(client.access.list_share_tokens(run_id=run.run_id))
    record = client.access.get_share_token(token.share_token_id)
    grant = client.access.get_grant(grants[0].grant_id)

    assert token.share_token not in repr(token)
    assert grants[0].relation == GrantRelation.VIEWER
    assert str(token.share_token_id) in {str(t.share_token_id) for t in tokens}
    assert record.revoked is False
    assert grant.grant_id == grants[0].grant_id

    member = local_settings(platform, tmp_path / "member")
    with Client(member, token_provider=lambda: platform.access_token(MEMBER_USER_ID)) as other:
        assert str(other.runs.get(run.run_id, share_token=token.share_token).run_id) == run.run_id
        assert list(other.runs.items(run.run_id, share_token=token.share_token))

    assert client.access.revoke_grant(grant.grant_id).revoked is True
    assert client.access.revoke_share_token(token.share_token_id).revoked is True
    with pytest.raises(ConflictError):
        client.access.revoke_share_token(token.share_token_id)


def test_a_lost_submit_answer_creates_one_run_on_the_local_platform(
    platform: LocalPlatform, slides: Path, tmp_path: Path
) -> None:
    from tests.client.fakes import FaultyTransport

    def is_submit(request: httpx.Request) -> bool:
        return request.method == "POST" and request.url.path == "/api/v1/runs"

    faulty = FaultyTransport(httpx.HTTPTransport(), ["drop", 503], is_submit)
    settings = local_settings(platform, tmp_path / "cache", refresh_token=platform.refresh_token())
    with Client(settings, transport=faulty) as client:
        marker = f"lost-{tmp_path.name}"
        run = client.runs.submit("test-app", [slides / "case-2.tiff"], tags=[marker])
        faults_left = list(faulty.faults)
        found = [str(r.run_id) for r in client.runs.list(tags=[marker], nocache=True)]

    assert found == [run.run_id]
    assert faults_left == [503]
