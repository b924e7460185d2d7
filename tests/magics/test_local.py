"""%aignostics local start|status|stop: a real local platform subprocess, owned by the kernel."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from IPython.core.interactiveshell import InteractiveShell

from aignostics_jupyter.magics import _local
from aignostics_jupyter.magics._results import Record
from aignostics_jupyter.settings import get_settings
from aignostics_jupyter.widgets.login import LoginWidget
from tests.magics import conftest_shell
from tests.magics.conftest_shell import one_error_line

pytestmark = pytest.mark.integration

ip = conftest_shell.ip


@pytest.mark.timeout(90)
def test_start_login_status_stop(
    ip: InteractiveShell, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIGNOSTICS_REFRESH_TOKEN", "a-real-platform-refresh-token")
    before = get_settings(reload=True).api_root
    try:
        started = ip.run_line_magic("aignostics", f"local start --auto-approve --synthetic --data-dir {tmp_path}")
        assert isinstance(started, Record), capsys.readouterr().out
        api_root = started.fields["api root"]
        assert api_root.startswith("http://127.0.0.1:")
        assert get_settings().api_root == api_root
        assert os.environ["AIGNOSTICS_API_ROOT"] == api_root
        assert "AIGNOSTICS_REFRESH_TOKEN" not in os.environ
        assert "now uses it" in capsys.readouterr().out

        assert ip.run_line_magic("aignostics", "local start --synthetic") is None
        assert "already runs" in one_error_line(capsys.readouterr().out)

        widget = ip.run_line_magic("aignostics", "login")
        assert isinstance(widget, LoginWidget)
        assert widget.wait(20)
        assert widget.state == "logged_in", widget.message

        status = ip.run_line_magic("aignostics", "local status")
        assert status.fields["running"] is True
        assert status.fields["this kernel uses"] == api_root
    finally:
        ip.run_line_magic("aignostics", "local stop")

    out = capsys.readouterr().out
    assert "Stopped the local platform" in out
    assert get_settings().api_root == before
    assert os.environ["AIGNOSTICS_REFRESH_TOKEN"] == "a-real-platform-refresh-token"
    assert _local.current() is None
    assert ip.run_line_magic("aignostics", "local status").fields["running"] is False


@pytest.mark.timeout(10)
def test_stop_without_start(ip: InteractiveShell, capsys: pytest.CaptureFixture[str]) -> None:
    assert ip.run_line_magic("aignostics", "local stop") is None

    assert "No local platform was started" in capsys.readouterr().out


@pytest.mark.timeout(30)
def test_a_platform_that_cannot_start_is_one_line(
    ip: InteractiveShell, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        assert ip.run_line_magic("aignostics", f"local start --port {port} --data-dir {tmp_path}") is None

    assert "did not start" in one_error_line(capsys.readouterr().out)
    assert _local.current() is None
