"""A small peer tile server for benchmarks: OpenSlide's DeepZoomGenerator behind a threaded ``http.server``.

It serves one slide the way OpenSlide's example deep-zoom server does (one process, threads, no tile cache of its
own): ``GET /slide.dzi`` (the Deep Zoom descriptor) and ``GET /{level}/{col}_{row}.jpeg``, from
``DeepZoomGenerator(slide, tile_size=254, overlap=1, limit_bounds=False)``. It listens on 127.0.0.1 only and stops by
itself after ``--lifetime`` seconds.

Usage::

    python benchmarks/peer_deepzoom.py SLIDE --port 8123 [--quality 80] [--lifetime 1800]
"""

from __future__ import annotations

import argparse
import io
import re
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import openslide
from openslide.deepzoom import DeepZoomGenerator

_TILE = re.compile(r"^/(\d+)/(\d+)_(\d+)\.jpeg$")


def make_handler(generator: DeepZoomGenerator, quality: int) -> type[BaseHTTPRequestHandler]:
    """A request handler class serving ``generator``'s tiles as JPEG."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: clients reuse their connections

        def _send(self, status: HTTPStatus, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if self.path == "/slide.dzi":
                self._send(HTTPStatus.OK, generator.get_dzi("jpeg").encode(), "application/xml")
                return
            match = _TILE.match(self.path)
            if match is None:
                self._send(HTTPStatus.NOT_FOUND, b"not found", "text/plain")
                return
            level, col, row = (int(group) for group in match.groups())
            try:
                tile = generator.get_tile(level, (col, row))
            except ValueError:
                self._send(HTTPStatus.NOT_FOUND, b"no such tile", "text/plain")
                return
            buffer = io.BytesIO()
            tile.save(buffer, "jpeg", quality=quality)
            self._send(HTTPStatus.OK, buffer.getvalue(), "image/jpeg")

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: no line per request."""

    return Handler


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("slide", type=Path)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--quality", type=int, default=80)
    parser.add_argument("--lifetime", type=float, default=1800.0, help="seconds until the server stops by itself")
    args = parser.parse_args(argv)
    slide = openslide.OpenSlide(str(args.slide))
    generator = DeepZoomGenerator(slide, tile_size=254, overlap=1, limit_bounds=False)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(generator, args.quality))
    server.daemon_threads = True
    timer = threading.Timer(args.lifetime, server.shutdown)
    timer.daemon = True
    timer.start()
    try:
        server.serve_forever()
    finally:
        server.server_close()
        slide.close()


if __name__ == "__main__":
    main()
