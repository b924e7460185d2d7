"""The sidebar API's core without a server: client rebuilds, login endings, workspace folders, failed downloads."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from aignostics_jupyter.client import DeviceAuthorization, TokenStore
from aignostics_jupyter.exceptions import (
    AuthenticationError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from aignostics_jupyter.server.api_downloads import DownloadJobs
from aignostics_jupyter.server.api_session import LoginAttempt, PlatformSession
from aignostics_jupyter.server.api_workspace import confine_file, confine_folder, workspace_relative
from aignostics_jupyter.settings import Settings

FLOW = DeviceAuthorization("http://127.0.0.1:1/activate", "ABCD-EFGH", None, 600, 0, device_code="secret-code")


class FakeClient:
    """Stands in for the platform client: counts closes."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.closed = False
        self.auth = None

    def close(self) -> None:
        self.closed = True


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(_env_file=None, api_root="http://127.0.0.1:9", cache_dir=tmp_path / "cache")  # type: ignore[call-arg]


@pytest.mark.unit
def test_a_new_client_follows_token_cache_changes_and_old_ones_close_later(settings: Settings) -> None:
    clock = Clock()
    with ThreadPoolExecutor(1) as executor:
        session = PlatformSession(settings, executor, client_factory=FakeClient, clock=clock)  # type: ignore[arg-type]
        first = session.client()
        assert session.client() is first

        TokenStore.for_settings(settings).write_refresh("r" * 20)  # a kernel logged in
        second = session.client()
        assert second is not first
        assert not first.closed  # a request may still be using it

        clock.now += 61
        assert session.client() is second
        assert first.closed
        session.close()
        assert second.closed


@pytest.mark.unit
@pytest.mark.parametrize(("cancel", "state"), [(False, "failed"), (True, "cancelled")])
def test_a_login_that_ends_badly_says_why(cancel: bool, state: str) -> None:
    attempt = LoginAttempt(FLOW, 1000.0)
    if cancel:
        attempt.cancelled.set()

    class Auth:
        def complete_device_flow(self, flow: Any) -> None:
            raise AuthenticationError("The device login was denied")

    PlatformSession._complete(Auth(), attempt)  # type: ignore[arg-type]

    public = attempt.public()
    assert public["state"] == state
    assert public["error"] == "The device login was denied"
    assert public["expires_at"] == 1600
    assert "device_code" not in public
    assert "secret-code" not in repr(attempt)


@pytest.mark.unit
def test_workspace_folders(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "data").mkdir(parents=True)
    (root / "data" / "f.txt").write_text("x")
    os.symlink(tmp_path / "nowhere", root / "dangling")

    assert confine_folder(root, "") == root
    assert confine_folder(root, "data/new/deeper/") == root / "data" / "new" / "deeper"
    assert (root / "data" / "new" / "deeper").is_dir()
    assert confine_folder(root, "fresh", create=False) == root / "fresh"
    assert not (root / "fresh").exists()
    with pytest.raises(InvalidInputError):
        confine_folder(root, "data/f.txt")
    with pytest.raises(PermissionDeniedError):
        confine_folder(root, "dangling/x")
    assert not (tmp_path / "nowhere").exists()
    with pytest.raises(NotFoundError):
        confine_file(root, "data")
    assert workspace_relative(root, root / "data" / "f.txt") == "data/f.txt"
    with pytest.raises(PermissionDeniedError):
        workspace_relative(root, tmp_path)


@pytest.mark.unit
def test_a_failed_download_is_recorded(tmp_path: Path) -> None:
    class Run:
        def __init__(self, error: Exception) -> None:
            self.error = error

        def download(self, *args: Any, **kwargs: Any) -> None:
            raise self.error

    class Client:
        def __init__(self, error: Exception) -> None:
            self.error = error

        def run(self, run_id: str) -> Run:
            return Run(self.error)

    with ThreadPoolExecutor(1) as executor:
        jobs = DownloadJobs(executor)
        job, started = jobs.start(Client(NotFoundError("gone")), "r1", tmp_path, tmp_path)  # type: ignore[arg-type]
        assert started
        job2, _ = jobs.start(Client(RuntimeError("boom")), "r2", tmp_path, tmp_path)  # type: ignore[arg-type]
    assert jobs.get("r1").public()["state"] == "failed"
    assert jobs.get("r1").public()["error"] == "gone"
    assert job2.public()["error"] == "The download failed unexpectedly (RuntimeError)."
    assert job.finished_at is not None
    with pytest.raises(NotFoundError):
        jobs.get("r3")
