"""The ``%aignostics`` magic: a command dispatcher with per-command help and one-line errors."""

from __future__ import annotations

import argparse
import shlex
from collections.abc import Callable
from typing import Any

from IPython.core.interactiveshell import InteractiveShell
from IPython.core.magic import Magics, line_cell_magic, magics_class

from aignostics_jupyter._version import __version__
from aignostics_jupyter.exceptions import AignosticsError
from aignostics_jupyter.settings import get_settings

__all__ = ["AignosticsMagics", "register"]


class _ArgumentError(Exception):
    """Raised instead of argparse's SystemExit, so a bad magic line never kills the cell."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:
        raise _ArgumentError(f"{self.prog}: {message}")

    def exit(self, status: int = 0, message: str | None = None) -> Any:
        raise _ArgumentError(message or "")


Command = Callable[[argparse.Namespace, str | None], Any]


def _build_parser(commands: dict[str, Command]) -> _Parser:
    parser = _Parser(prog="%aignostics", description="The Aignostics Platform from a notebook.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.add_parser("version", help="show the aignostics-jupyter version")
    system = sub.add_parser("system", help="health and effective settings")
    system.add_argument("what", choices=["info"], help="info: the effective settings, secrets masked")
    del commands
    return parser


@magics_class
class AignosticsMagics(Magics):
    """``%aignostics COMMAND …`` and ``%%aignostics COMMAND`` with a body."""

    def __init__(self, shell: InteractiveShell) -> None:
        super().__init__(shell)
        self._commands: dict[str, Command] = {"version": self._version, "system": self._system}
        self._parser = _build_parser(self._commands)

    @line_cell_magic
    def aignostics(self, line: str, cell: str | None = None) -> Any:
        """Run one ``%aignostics`` command; ``%aignostics --help`` lists them."""
        try:
            args = self._parser.parse_args(shlex.split(line))
        except _ArgumentError as exc:
            text = str(exc).strip()
            if text:
                print(text)
            return None
        if args.command is None:
            self._parser.print_help()
            return None
        try:
            return self._commands[args.command](args, cell)
        except AignosticsError as exc:
            print(f"Error: {exc.message}")
            return None

    def _version(self, args: argparse.Namespace, cell: str | None) -> str:
        return __version__

    def _system(self, args: argparse.Namespace, cell: str | None) -> dict[str, Any]:
        return get_settings(reload=True).masked_dump()


def register(ipython: InteractiveShell) -> None:
    """Register the magics with an IPython shell.

    Args:
        ipython: The shell, e.g. ``get_ipython()``.
    """
    ipython.register_magics(AignosticsMagics)
