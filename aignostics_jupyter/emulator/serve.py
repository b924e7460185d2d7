"""``local serve``: run the local platform in the foreground and print the settings that point a client at it.

Usage::

    python -m aignostics_jupyter.emulator [--host 127.0.0.1] [--port N] [--data-dir D] [--auto-approve]
                                          [--token-lifetime S] [--workers N] [--analyser MODULE:FUNCTION]
                                          [--no-part-endpoint]
"""

from __future__ import annotations

import argparse
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from aignostics_jupyter.emulator.app import create_app
from aignostics_jupyter.emulator.config import SYNTHETIC_ANALYSER, EmulatorConfig
from aignostics_jupyter.emulator.platform import bind_socket, client_env

__all__ = ["Serving", "build_parser", "main", "prepare"]


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``local serve``."""
    parser = argparse.ArgumentParser(prog="aignostics-jupyter local serve", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8123, help="port (0: any free port; default 8123)")
    parser.add_argument("--data-dir", type=Path, default=None, help="state directory (AIGNOSTICS_LOCAL_DATA_DIR)")
    parser.add_argument("--auto-approve", action="store_true", default=None, help="approve logins at once")
    parser.add_argument("--token-lifetime", type=int, default=None, help="access token lifetime in seconds")
    parser.add_argument("--workers", type=int, default=None, help="worker processes (1-8)")
    parser.add_argument("--device-interval", type=int, default=None, help="device-flow polling interval in seconds")
    parser.add_argument("--error-threshold", type=int, default=None, help="failed items that cancel a run")
    parser.add_argument(
        "--analyser", default=None, help="analysis 'module:function', or 'synthetic' for the fast stand-in"
    )
    parser.add_argument(
        "--no-part-endpoint",
        action="store_true",
        help="serve multipart upload parts on the API port only (no second port)",
    )
    return parser


@dataclass
class Serving:
    """A prepared server: bound socket, configuration and uvicorn server, not yet running."""

    api_root: str
    config: EmulatorConfig
    server: uvicorn.Server
    socket: socket.socket

    def run(self) -> None:
        """Serve until the server is told to exit (Ctrl-C, SIGTERM, or ``server.should_exit``)."""
        self.server.run(sockets=[self.socket])


def prepare(argv: list[str]) -> Serving:
    """Parse ``local serve`` options, bind the port and build the app (a leading ``local serve`` is ignored)."""
    args = list(argv)
    while args and args[0] in ("local", "serve"):
        args.pop(0)
    options = build_parser().parse_args(args)
    analyser = SYNTHETIC_ANALYSER if options.analyser == "synthetic" else options.analyser
    sock = bind_socket(options.host, options.port)
    port = int(sock.getsockname()[1])
    shown = f"[{options.host}]" if ":" in options.host else options.host
    api_root = f"http://{shown}:{port}"
    config = EmulatorConfig.from_settings(
        data_dir=options.data_dir,
        public_url=api_root,
        auto_approve=options.auto_approve,
        token_lifetime=options.token_lifetime,
        workers=options.workers,
        device_poll_interval=options.device_interval,
        error_threshold=options.error_threshold,
        analyser=analyser,
        part_endpoint=False if options.no_part_endpoint else None,
    )
    server = uvicorn.Server(
        uvicorn.Config(create_app(config), log_level="warning", lifespan="on", timeout_graceful_shutdown=3)
    )
    return Serving(api_root, config, server, sock)


def main(argv: list[str] | None = None) -> int:
    """Serve until interrupted, after printing the settings that point a client at this server.

    Args:
        argv: The options (a leading ``local serve`` is ignored); default ``sys.argv[1:]``.

    Returns:
        The exit status.
    """
    serving = prepare(list(sys.argv[1:] if argv is None else argv))
    print(f"Aignostics local platform serving at {serving.api_root} (data in {serving.config.data_dir})")
    print("Point a client at it with:")
    for name, value in client_env(serving.api_root).items():
        print(f"export {name}={value}")
    sys.stdout.flush()
    serving.run()
    return 0
