from __future__ import annotations

import subprocess
import sys

import pytest

from aignostics_jupyter import __version__, cli

pytestmark = pytest.mark.unit


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == __version__


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    for words in cli.COMMANDS:
        assert " ".join(words) in out


def test_no_arguments_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([]) == 2
    assert cli.USAGE in capsys.readouterr().out


def test_unknown_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["frobnicate"]) == 2
    assert "unknown command 'frobnicate'" in capsys.readouterr().err


def test_dispatches_to_the_module(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[str]] = []
    monkeypatch.setitem(cli.COMMANDS, ("probe",), ("tests_cli_probe", "test"))
    module = type(sys)("tests_cli_probe")
    module.main = lambda argv: seen.append(argv) or 7  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tests_cli_probe", module)

    assert cli.main(["probe", "a", "--b"]) == 7
    assert seen == [["a", "--b"]]


def test_console_script_runs() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "aignostics_jupyter.cli", "version"], capture_output=True, text=True, check=False
    )

    assert out.returncode == 0
    assert out.stdout.strip() == __version__
