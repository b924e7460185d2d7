"""The ``%aignostics`` command line: argparse with per-command help, raising instead of exiting."""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["ArgumentError", "Parser", "build_parser"]

_EPILOG = """examples:
  %aignostics login                      log in with the device flow (a widget)
  %aignostics apps                       the applications, their classes and latest versions
  %aignostics submit test-app slides/*.tiff --tag cohort-1 --wait
  monitor = %aignostics run RUN_ID       a live RunMonitor; monitor.run is the Run
  %%aignostics submit he-tme             then one line per slide in the cell body, e.g.
  slides/a.svs: {tissue: LUNG, disease: LUNG_CANCER}
  %aignostics local start                a local platform for this kernel
  %aignostics COMMAND --help             help on one command
"""


class ArgumentError(Exception):
    """A bad command line (or a help text to show), raised instead of argparse's SystemExit."""

    def __init__(self, message: str, *, is_help: bool = False) -> None:
        super().__init__(message)
        self.is_help = is_help


class Parser(argparse.ArgumentParser):
    """An ArgumentParser that raises :class:`ArgumentError` instead of printing and exiting."""

    def error(self, message: str) -> Any:
        """Raise instead of exiting."""
        raise ArgumentError(f"{self.prog}: {message} (see {self.prog} --help)")

    def exit(self, status: int = 0, message: str | None = None) -> Any:
        """Raise instead of exiting (after --help, argparse has already printed)."""
        raise ArgumentError(message or "", is_help=status == 0)


def _add(sub: Any, name: str, text: str, **kwargs: Any) -> Parser:
    # argparse %-formats help strings (not descriptions): "%%aignostics" must be written "%%%%aignostics" there.
    parser: Parser = sub.add_parser(name, help=text.replace("%", "%%"), description=text, **kwargs)
    return parser


def build_parser() -> Parser:
    """Build the whole ``%aignostics`` command tree.

    Example:
        >>> build_parser().parse_args(["runs", "--app", "he-tme"]).app
        'he-tme'
    """
    parser = Parser(
        prog="%aignostics",
        description="The Aignostics Platform from a notebook (%load_ext aignostics_jupyter).",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    _add(sub, "version", "show the aignostics-jupyter version")
    _add(sub, "login", "log in with the device flow (shows a LoginWidget)").add_argument(
        "--relogin", action="store_true", help="forget the current login first"
    )
    _add(sub, "logout", "forget every token of this environment")
    _add(sub, "whoami", "the logged-in user, organization and token expiry")
    _add(sub, "apps", "the applications with their regulatory classes and latest versions")
    app = _add(sub, "app", "one application: versions, changelog, input and output artifacts")
    app.add_argument("application_id", metavar="ID")
    app.add_argument("--version", help="the version to show (default: the latest)")

    runs = _add(sub, "runs", "my runs, newest first")
    runs.add_argument("--app", help="only runs of this application")
    runs.add_argument("--state", type=str.upper, choices=["PENDING", "PROCESSING", "TERMINATED"])
    runs.add_argument("--tags", help="only runs with all of these tags (comma-separated)")
    runs.add_argument("--limit", type=int, default=50, help="at most this many runs (default 50)")
    runs.add_argument("--widget", action="store_true", help="show the RunBrowser instead of a table")
    _add(sub, "run", "one run, live: a RunMonitor").add_argument("run_id", metavar="ID")

    submit = _add(
        sub,
        "submit",
        "describe, upload and submit slides (%%aignostics submit: per-slide metadata as YAML or JSON in the cell)",
    )
    submit.add_argument("application_id", metavar="APP")
    submit.add_argument("paths", metavar="PATHS", nargs="*", help="slide files, folders or globs")
    submit.add_argument("--version", help="the application version (default: the latest)")
    submit.add_argument("--tag", action="append", default=[], help="a tag (repeatable, or comma-separated)")
    submit.add_argument("--note", help="a note stored with the run")
    submit.add_argument("--tissue", help="the tissue of every slide (when the application asks for it)")
    submit.add_argument("--disease", help="the disease of every slide (when the application asks for it)")
    submit.add_argument("--staining", help="the staining method of every slide (when the application asks)")
    submit.add_argument("--wait", action="store_true", help="wait until the run terminates")

    _add(sub, "cancel", "cancel a run").add_argument("run_id", metavar="ID")
    download = _add(sub, "download", "download a run's results, each file checked against its CRC32C")
    download.add_argument("run_id", metavar="ID")
    download.add_argument("dest", metavar="DEST", nargs="?", default="aignostics-results")
    download.add_argument("--wait", action="store_true", help="keep downloading until the run terminates")

    view = _add(sub, "view", "open a slide in the SlideViewer, optionally with a run's outputs overlaid")
    view.add_argument("path", metavar="PATH")
    view.add_argument("--results", metavar="RUN_ID", help="overlay this run's outputs for the slide")

    bucket = _add(sub, "bucket", "the organization bucket")
    bsub = bucket.add_subparsers(dest="action", metavar="ACTION", parser_class=Parser, required=True)
    _add(bsub, "ls", "list objects").add_argument("prefix", nargs="?", default="")
    up = _add(bsub, "upload", "upload a file")
    up.add_argument("source", metavar="FILE")
    up.add_argument("key", metavar="KEY", nargs="?", help="default: the file name")
    down = _add(bsub, "download", "download an object")
    down.add_argument("key", metavar="KEY")
    down.add_argument("dest", metavar="DEST", nargs="?", default=".")
    _add(bsub, "rm", "delete objects").add_argument("keys", metavar="KEY", nargs="+")

    local = _add(sub, "local", "the local platform for this kernel (stopped when the kernel exits)")
    lsub = local.add_subparsers(dest="action", metavar="ACTION", parser_class=Parser, required=True)
    start = _add(lsub, "start", "start it in the background and point this kernel at it")
    start.add_argument("--port", type=int, default=0, help="port (default: any free port)")
    start.add_argument("--data-dir", help="state directory (default AIGNOSTICS_LOCAL_DATA_DIR)")
    start.add_argument("--auto-approve", action="store_true", help="approve device logins at once")
    start.add_argument("--synthetic", action="store_true", help="the fast stand-in analysis instead of the real one")
    _add(lsub, "stop", "stop it and restore the previous settings")
    _add(lsub, "status", "whether it runs, where, and this kernel's API root")

    system = _add(sub, "system", "health and effective settings")
    system.add_argument(
        "what", choices=["health", "info"], help="health: platform, server extension, slides; info: settings"
    )
    return parser
