"""The %aignostics dispatcher through a real IPython shell: help, versions, settings, and bad command lines."""

from __future__ import annotations

import pytest
from IPython.core.interactiveshell import InteractiveShell

from aignostics_jupyter import __version__
from aignostics_jupyter.magics._platform_commands import parse_cell, split_tags
from aignostics_jupyter.magics._results import Record, ResultDict, ResultList
from aignostics_jupyter.settings import get_settings
from tests.magics import conftest_shell
from tests.magics.conftest_shell import one_error_line

pytestmark = pytest.mark.unit

ip = conftest_shell.ip


def test_load_ext_registers_the_magic(ip: InteractiveShell) -> None:
    assert "aignostics" in ip.magics_manager.magics["line"]
    assert "aignostics" in ip.magics_manager.magics["cell"]


def test_version(ip: InteractiveShell) -> None:
    assert ip.run_line_magic("aignostics", "version") == __version__


def test_system_info_masks_secrets(ip: InteractiveShell, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIGNOSTICS_REFRESH_TOKEN", "very-secret-refresh-token")
    get_settings(reload=True)

    info = ip.run_line_magic("aignostics", "system info")

    assert isinstance(info, ResultDict)
    assert info["refresh_token"] == "**********"
    assert "very-secret-refresh-token" not in repr(info)
    assert "very-secret-refresh-token" not in info._repr_html_()
    assert "<table" in info._repr_html_()


def test_help_lists_every_command(ip: InteractiveShell, capsys: pytest.CaptureFixture[str]) -> None:
    assert ip.run_line_magic("aignostics", "--help") is None

    out = capsys.readouterr().out
    for command in (
        "login",
        "logout",
        "whoami",
        "apps",
        "app",
        "runs",
        "run",
        "submit",
        "cancel",
        "download",
        "view",
        "bucket",
        "local",
        "system",
        "version",
    ):
        assert f"    {command}" in out, command
    assert "examples:" in out


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("submit --help", "--tissue"),
        ("runs --help", "--state"),
        ("bucket --help", "upload"),
        ("local start --help", "--auto-approve"),
        ("download --help", "DEST"),
    ],
)
def test_per_command_help(ip: InteractiveShell, capsys: pytest.CaptureFixture[str], line: str, expected: str) -> None:
    assert ip.run_line_magic("aignostics", line) is None

    out = capsys.readouterr().out
    assert expected in out
    assert "Error" not in out


def test_no_command_prints_help(ip: InteractiveShell, capsys: pytest.CaptureFixture[str]) -> None:
    assert ip.run_line_magic("aignostics", "") is None

    assert "usage: %aignostics" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("frobnicate", "invalid choice: 'frobnicate'"),
        ("runs --state DONE", "invalid choice: 'DONE'"),
        ("run", "the following arguments are required: ID"),
        ("bucket", "the following arguments are required: ACTION"),
        ("submit", "the following arguments are required: APP"),
        ("runs --limit many", "invalid int value"),
        ("submit he-tme 'unclosed", "cannot split the command line"),
    ],
)
def test_bad_command_lines_are_one_line(
    ip: InteractiveShell, capsys: pytest.CaptureFixture[str], line: str, expected: str
) -> None:
    assert ip.run_line_magic("aignostics", line) is None

    assert expected in one_error_line(capsys.readouterr().out)


def test_configuration_error_is_one_line(
    ip: InteractiveShell, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIGNOSTICS_API_ROOT", "ftp://nowhere")

    assert ip.run_line_magic("aignostics", "system info") is None

    assert one_error_line(capsys.readouterr().out).startswith("Error: Invalid aignostics settings")


def test_a_cell_body_only_for_submit(ip: InteractiveShell, capsys: pytest.CaptureFixture[str]) -> None:
    assert ip.run_cell_magic("aignostics", "apps", "a: b") is None

    assert "takes no cell body" in one_error_line(capsys.readouterr().out)


def test_parse_cell_reads_yaml_and_json() -> None:
    assert parse_cell("a.tiff:\n  tissue: LUNG\n'*': {disease: LUNG_CANCER}") == {
        "a.tiff": {"tissue": "LUNG"},
        "*": {"disease": "LUNG_CANCER"},
    }
    assert parse_cell('{"b.svs": {"tissue": "LIVER"}}') == {"b.svs": {"tissue": "LIVER"}}
    assert parse_cell("  ") == {}


@pytest.mark.parametrize(("body", "expected"), [("a: [1, 2", "not valid YAML"), ("- a\n- b", "must map each slide")])
def test_parse_cell_rejects_bad_bodies(body: str, expected: str) -> None:
    from aignostics_jupyter.exceptions import InvalidInputError

    with pytest.raises(InvalidInputError, match=expected):
        parse_cell(body)


def test_split_tags() -> None:
    assert split_tags(["a,b", " c ", ""]) == ["a", "b", "c"]
    assert split_tags("x, y") == ["x", "y"]
    assert split_tags(None) == []


def test_results_render_as_tables_and_stay_objects() -> None:
    table = ResultList([1, 2], ["n", "square"], lambda n: [n, n * n], title="Squares")
    record = Record(3 + 4j, {"real": 3.0}, title="Number")

    assert table == [1, 2]
    assert "<td>4</td>" in table._repr_html_()
    assert "<b>Squares</b> (2)" in table._repr_html_()
    assert "Nothing to show" in ResultList([], ["n"], lambda n: [n])._repr_html_()
    assert record.imag == 4.0
    assert "<td>real</td>" in record._repr_html_()
    assert "real" in repr(record)
