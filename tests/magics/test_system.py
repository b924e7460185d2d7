"""%aignostics system health: finding the Jupyter server of the kernel and asking its extension."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from aignostics_jupyter.magics import _system

pytestmark = [pytest.mark.integration, pytest.mark.timeout(20)]

SERVER_TOKEN = "jupyter-server-token-not-to-show"


class _Health(BaseHTTPRequestHandler):
    status = 200
    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        type(self).seen.append(self.headers.get("Authorization", ""))
        body = json.dumps({"status": "ok", "version": "9.9.9"}).encode()
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def jupyter_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[HTTPServer]:
    server = HTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(runtime))
    info = {
        "url": f"http://127.0.0.1:{server.server_address[1]}/user/demo/",
        "token": SERVER_TOKEN,
        "pid": os.getpid(),
        "root_dir": "/",
    }
    (runtime / "jpserver-1.json").write_text(json.dumps(info))
    (runtime / "jpserver-2.json").write_text(json.dumps({**info, "pid": 2**22 + 12345}))  # a dead server
    (runtime / "jpserver-3.json").write_text("not json")
    try:
        yield server
    finally:
        server.shutdown()
        _Health.status = 200


def test_the_extension_of_the_running_server_answers(jupyter_server: HTTPServer) -> None:
    row = _system._server_extension()

    assert len(_system.running_servers()) == 1
    assert row == {"status": "ok", "detail": "aignostics-jupyter 9.9.9"}
    assert _Health.seen[-1] == f"token {SERVER_TOKEN}"
    assert SERVER_TOKEN not in repr(row)


def test_an_extension_error_is_reported(jupyter_server: HTTPServer) -> None:
    _Health.status = 503

    assert _system._server_extension()["status"] == "error"


def test_no_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path))

    assert _system._server_extension()["status"] == "not found"


def test_an_unreachable_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path))
    (tmp_path / "jpserver-9.json").write_text(json.dumps({"url": "http://127.0.0.1:9/", "pid": os.getpid()}))

    assert _system._server_extension()["status"] == "unreachable"


def test_slide_stack_reports_versions() -> None:
    row = _system.slide_stack()

    assert row["status"] == "ok"
    assert "OpenSlide" in row["detail"]


def test_an_unreachable_platform(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from aignostics_jupyter.settings import get_settings
    from aignostics_jupyter.widgets._platform import reset_platform_client

    monkeypatch.setenv("AIGNOSTICS_API_ROOT", "http://127.0.0.1:9")
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path))
    get_settings(reload=True)
    reset_platform_client()

    rows = {r["component"]: r for r in _system.health(None)}  # type: ignore[arg-type]

    assert rows["platform"]["status"] == "unreachable"
    assert "(local platform)" in rows["platform"]["detail"]
    assert rows["platform (authenticated)"]["status"] == "unknown"
    reset_platform_client()
