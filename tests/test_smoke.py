"""The smoke check's exit codes against a real local platform: green, no-write notice, red."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aignostics_jupyter import smoke
from aignostics_jupyter.emulator.platform import LocalPlatform
from aignostics_jupyter.settings import get_settings


@pytest.fixture
def platform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalPlatform]:
    with LocalPlatform(tmp_path / "platform", auto_approve=True) as local:
        for name, value in local.env().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("AIGNOSTICS_REFRESH_TOKEN", local.refresh_token())
        get_settings(reload=True)
        yield local


@pytest.mark.integration
@pytest.mark.timeout(120)
def test_green_with_mutation(platform: LocalPlatform, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIGNOSTICS_ALLOW_MUTATION", "1")
    lines: list[str] = []

    result = smoke.run_smoke(say=lines.append, timeout=100)

    assert result.code == smoke.EXIT_GREEN, result.message
    assert result.application == "test-app"
    assert result.run_id
    assert any("downloaded and verified" in line for line in lines)


@pytest.mark.integration
@pytest.mark.timeout(60)
def test_notice_without_mutation(platform: LocalPlatform, capsys: pytest.CaptureFixture[str]) -> None:
    assert smoke.main(["--verbose"]) == smoke.EXIT_NO_WRITE

    captured = capsys.readouterr()
    assert "smoke: application test-app" in captured.out
    assert "AIGNOSTICS_ALLOW_MUTATION=1" in captured.err


@pytest.mark.integration
@pytest.mark.timeout(60)
def test_red_for_unknown_pinned_application(platform: LocalPlatform, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIGNOSTICS_E2E_APPLICATION", "no-such-app")

    result = smoke.run_smoke(say=lambda _: None)

    assert result.code == smoke.EXIT_RED
    assert "'no-such-app' is not available" in result.message


@pytest.mark.integration
@pytest.mark.timeout(60)
def test_red_when_not_logged_in(platform: LocalPlatform, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIGNOSTICS_REFRESH_TOKEN")
    get_settings(reload=True)

    assert smoke.run_smoke(say=lambda _: None).code == smoke.EXIT_RED


@pytest.mark.integration
@pytest.mark.timeout(60)
def test_red_when_unreachable(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("AIGNOSTICS_API_ROOT", "http://127.0.0.1:9")
    get_settings(reload=True)

    assert smoke.main([]) == smoke.EXIT_RED
    assert "smoke RED" in capsys.readouterr().err


@pytest.mark.unit
def test_pinned_version_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    class App:
        application_id = "test-app"
        latest_version = None

    class Apps:
        def list(self) -> list[Any]:
            return [App()]

    class FakeClient:
        applications = Apps()

    monkeypatch.setenv("AIGNOSTICS_E2E_APPLICATION_VERSION", "0.0.4")
    assert smoke.discover(FakeClient()) == ("test-app", "0.0.4")  # type: ignore[arg-type]
    monkeypatch.delenv("AIGNOSTICS_E2E_APPLICATION_VERSION")
    with pytest.raises(LookupError, match="has no version"):
        smoke.discover(FakeClient())  # type: ignore[arg-type]
