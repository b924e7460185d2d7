"""The IPython shell the magic tests drive (one per session, with ``%load_ext aignostics_jupyter``)."""

from __future__ import annotations

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.core.interactiveshell import InteractiveShell as Shell
from IPython.testing.globalipapp import start_ipython

__all__ = ["ip", "one_error_line"]


@pytest.fixture(scope="session")
def ip() -> InteractiveShell:
    shell = start_ipython() or Shell.instance()  # the test shell is a process-wide singleton
    assert shell is not None
    shell.run_line_magic("load_ext", "aignostics_jupyter")
    return shell


def one_error_line(out: str) -> str:
    """Assert the output is exactly one ``Error:`` line without a traceback; return it."""
    lines = [line for line in out.strip().splitlines() if line.strip()]
    assert len(lines) == 1, out
    assert lines[0].startswith("Error: "), out
    assert "Traceback" not in out
    return lines[0]
