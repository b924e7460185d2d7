from __future__ import annotations

from collections.abc import Iterator

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.testing.globalipapp import start_ipython

from aignostics_jupyter import __version__

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def ip() -> Iterator[InteractiveShell]:
    shell = start_ipython()
    assert shell is not None
    shell.run_line_magic("load_ext", "aignostics_jupyter")
    yield shell


def test_load_ext_registers_the_magic(ip: InteractiveShell) -> None:
    assert "aignostics" in ip.magics_manager.magics["line"]
    assert "aignostics" in ip.magics_manager.magics["cell"]


def test_version(ip: InteractiveShell) -> None:
    assert ip.run_line_magic("aignostics", "version") == __version__


def test_system_info_masks_secrets(ip: InteractiveShell, monkeypatch: pytest.MonkeyPatch) -> None:
    from aignostics_jupyter.settings import get_settings

    monkeypatch.setenv("AIGNOSTICS_REFRESH_TOKEN", "very-secret-refresh-token")
    get_settings(reload=True)

    info = ip.run_line_magic("aignostics", "system info")

    assert info["refresh_token"] == "**********"
    assert "very-secret-refresh-token" not in repr(info)


def test_help_lists_commands(ip: InteractiveShell, capsys: pytest.CaptureFixture[str]) -> None:
    assert ip.run_line_magic("aignostics", "--help") is None

    out = capsys.readouterr().out
    assert "version" in out
    assert "system" in out


def test_no_command_prints_help(ip: InteractiveShell, capsys: pytest.CaptureFixture[str]) -> None:
    assert ip.run_line_magic("aignostics", "") is None

    assert "usage: %aignostics" in capsys.readouterr().out


def test_unknown_command_is_one_line(ip: InteractiveShell, capsys: pytest.CaptureFixture[str]) -> None:
    assert ip.run_line_magic("aignostics", "frobnicate") is None

    out = capsys.readouterr().out.strip()
    assert "invalid choice: 'frobnicate'" in out
    assert "Traceback" not in out
    assert len(out.splitlines()) == 1


def test_configuration_error_is_one_line(
    ip: InteractiveShell, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIGNOSTICS_API_ROOT", "ftp://nowhere")

    assert ip.run_line_magic("aignostics", "system info") is None

    out = capsys.readouterr().out.strip()
    assert out.startswith("Error: Invalid aignostics settings")
    assert len(out.splitlines()) == 1
