"""The ``%aignostics`` magic: a command dispatcher with per-command help and one-line errors.

Every command returns the natural object (a widget, a table that is also a list or record, a ``Run``) so it can
be used in further code: ``run = %aignostics submit test-app slides/*.tiff``. Bad input, platform errors and
unexpected failures print one line starting with ``Error:``, never a traceback, and never a token.

Example:
    >>> # In a notebook:
    >>> # %load_ext aignostics_jupyter
    >>> # %aignostics --help
    >>> # apps = %aignostics apps
"""

from __future__ import annotations

import argparse
import logging
import shlex
from collections.abc import Callable
from typing import Any

from IPython.core.interactiveshell import InteractiveShell
from IPython.core.magic import Magics, line_cell_magic, magics_class

from aignostics_jupyter._version import __version__
from aignostics_jupyter.magics import _bucket, _local, _platform_commands, _system
from aignostics_jupyter.magics._parser import ArgumentError, build_parser
from aignostics_jupyter.widgets._platform import error_text

__all__ = ["AignosticsMagics", "register"]

logger = logging.getLogger("aignostics_jupyter.magics")

Command = Callable[[argparse.Namespace, str | None], Any]

# Commands that accept a cell body (%%aignostics COMMAND).
_CELL_COMMANDS = frozenset({"submit"})


def _version(args: argparse.Namespace, cell: str | None) -> str:
    return __version__


def _local_command(args: argparse.Namespace, cell: str | None) -> Any:
    actions: dict[str, Command] = {"start": _local.start, "stop": _local.stop, "status": _local.status}
    return actions[args.action](args, cell)


def _system_command(args: argparse.Namespace, cell: str | None) -> Any:
    actions: dict[str, Command] = {"health": _system.health, "info": _system.info}
    return actions[args.what](args, cell)


COMMANDS: dict[str, Command] = {
    "version": _version,
    "login": _platform_commands.login,
    "logout": _platform_commands.logout,
    "whoami": _platform_commands.whoami,
    "apps": _platform_commands.apps,
    "app": _platform_commands.app,
    "runs": _platform_commands.runs,
    "run": _platform_commands.run,
    "submit": _platform_commands.submit,
    "cancel": _platform_commands.cancel,
    "download": _platform_commands.download,
    "view": _platform_commands.view,
    "bucket": _bucket.bucket,
    "local": _local_command,
    "system": _system_command,
}


@magics_class
class AignosticsMagics(Magics):
    """``%aignostics COMMAND …`` and ``%%aignostics COMMAND`` with a body."""

    def __init__(self, shell: InteractiveShell) -> None:
        super().__init__(shell)
        self._parser = build_parser()

    @line_cell_magic
    def aignostics(self, line: str, cell: str | None = None) -> Any:
        """Run one ``%aignostics`` command; ``%aignostics --help`` lists them."""
        try:
            args = self._parser.parse_args(shlex.split(line))
        except ArgumentError as exc:
            text = str(exc).strip()
            if text and not exc.is_help:
                print(f"Error: {text}")
            return None
        except ValueError as exc:  # shlex: unbalanced quotes
            print(f"Error: cannot split the command line ({exc})")
            return None
        if args.command is None:
            self._parser.print_help()
            return None
        if cell is not None and args.command not in _CELL_COMMANDS:
            print(f"Error: %%aignostics {args.command} takes no cell body; use %aignostics {args.command}")
            return None
        try:
            return COMMANDS[args.command](args, cell)
        except KeyboardInterrupt:
            print("Interrupted.")
            return None
        except Exception as exc:  # every failure is one line, never a traceback
            text = error_text(exc)
            logger.debug("%%aignostics %s failed: %s", args.command, text)
            print(f"Error: {text}")
            return None


def register(ipython: InteractiveShell) -> None:
    """Register the magics with an IPython shell.

    Args:
        ipython: The shell, e.g. ``get_ipython()``.
    """
    ipython.register_magics(AignosticsMagics)
