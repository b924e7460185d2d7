"""``local serve``: options, the printed settings, and a real server started and stopped in a thread."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest

from aignostics_jupyter.emulator import serve
from aignostics_jupyter.emulator.config import SYNTHETIC_ANALYSER, EmulatorConfig

pytestmark = pytest.mark.integration


def test_prepare_and_run_a_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIGNOSTICS_LOCAL_AUTO_APPROVE", "true")
    options = ["--port", "0", "--data-dir", str(tmp_path), "--token-lifetime", "60", "--analyser", "synthetic",
               "--error-threshold", "3", "--device-interval", "1"]  # fmt: skip
    serving = serve.prepare(["local", "serve", *options])
    assert serving.config.auto_approve is True
    assert serving.config.token_lifetime == 60
    assert serving.config.analyser == SYNTHETIC_ANALYSER
    assert serving.config.error_threshold == 3
    assert serving.config.device_poll_interval == 1
    assert serving.config.part_endpoint is True
    thread = threading.Thread(target=serving.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not serving.server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        assert httpx.get(f"{serving.api_root}/api/v1/health").status_code == 200
        start = httpx.post(f"{serving.api_root}/oauth/device/code", data={"client_id": "c"}).json()
        assert start["verification_uri"].startswith(serving.api_root)
    finally:
        serving.server.should_exit = True
        thread.join(10)
    assert not thread.is_alive()


def test_main_prints_the_client_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ran: list[serve.Serving] = []

    def fake_run(self: serve.Serving) -> None:
        ran.append(self)

    monkeypatch.setattr(serve.Serving, "run", fake_run)
    assert serve.main(["--port", "0", "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"export AIGNOSTICS_API_ROOT={ran[0].api_root}" in out
    assert "AIGNOSTICS_CLIENT_ID_DEVICE" in out
    ran[0].socket.close()


def test_the_part_endpoint_can_be_left_out(tmp_path: Path) -> None:
    serving = serve.prepare(["--port", "0", "--data-dir", str(tmp_path), "--no-part-endpoint"])
    try:
        assert serving.config.part_endpoint is False
    finally:
        serving.socket.close()


def test_config_defaults_come_from_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIGNOSTICS_LOCAL_DATA_DIR", str(tmp_path / "data"))
    from aignostics_jupyter.settings import get_settings

    get_settings(reload=True)
    config = EmulatorConfig.from_settings(token_lifetime=5)
    assert config.data_dir == tmp_path / "data"
    assert config.token_lifetime == 5
    assert config.auto_approve is False


def test_config_rejects_unknown_options(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="worker_mod"):
        EmulatorConfig(data_dir=tmp_path, worker_mod="thread")  # type: ignore[call-arg]
