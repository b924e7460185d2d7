"""``aignostics-jupyter``: the command line of the package.

::

    aignostics-jupyter local serve [--host 127.0.0.1] [--port N] [--data-dir D] [--auto-approve]
    aignostics-jupyter sample-slides DIR [--count N] [--size PX] [--format svs|tiff|dicom] [--seed S] [--mpp M]
    aignostics-jupyter demo [--port N] [--dir D]
    aignostics-jupyter smoke [--verbose]
    aignostics-jupyter version

Each subcommand is a thin adapter over the module that does the work; its arguments are parsed there, so
``aignostics-jupyter COMMAND --help`` shows that module's own help.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Sequence

from aignostics_jupyter._version import __version__

# command words -> (module with `main(argv) -> int`, one-line description)
COMMANDS: dict[tuple[str, ...], tuple[str, str]] = {
    ("local", "serve"): ("aignostics_jupyter.emulator.serve", "run the local platform (the API emulator)"),
    ("sample-slides",): ("aignostics_jupyter.samples.generate", "write synthetic H&E slides with ground truth"),
    ("demo",): ("aignostics_jupyter.demo", "local platform + sample slides + JupyterLab on the tutorials"),
    ("smoke",): ("aignostics_jupyter.smoke", "prove auth, reads and the write path against the platform"),
}

USAGE = "usage: aignostics-jupyter [--version] COMMAND [ARGS...]"


def _help() -> str:
    lines = [USAGE, "", "commands:"]
    lines += [f"  {' '.join(words):<16} {text}" for words, (_, text) in COMMANDS.items()]
    lines += ["  version          print the version", "", "Run 'aignostics-jupyter COMMAND --help' for details."]
    return "\n".join(lines)


def _resolve(argv: Sequence[str]) -> tuple[Callable[[list[str]], int], list[str]] | None:
    for words, (module, _) in COMMANDS.items():
        if tuple(argv[: len(words)]) == words:
            main: Callable[[list[str]], int] = importlib.import_module(module).main
            return main, list(argv[len(words) :])
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line.

    Args:
        argv: The arguments after the program name (default: ``sys.argv[1:]``).

    Returns:
        The exit code: 0 on success, 2 for a usage error, else what the command returns.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help", "help"}:
        print(_help())
        return 0 if args else 2
    if args[0] in {"version", "--version"}:
        print(__version__)
        return 0
    resolved = _resolve(args)
    if resolved is None:
        print(f"aignostics-jupyter: unknown command {' '.join(args[:2])!r}\n\n{_help()}", file=sys.stderr)
        return 2
    command, rest = resolved
    return command(rest)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
