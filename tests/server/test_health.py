from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from aignostics_jupyter import __version__
from aignostics_jupyter.server.health import platform_status, slide_stack_status
from aignostics_jupyter.settings import Settings


@pytest.mark.integration
async def test_health_reports_version_and_components(jp_fetch: Any) -> None:
    response = await jp_fetch("aignostics-jupyter", "api", "health")

    assert response.code == 200
    body = json.loads(response.body)
    assert body["version"] == __version__
    assert body["status"] == "ok"
    assert set(body["components"]) == {"server_extension", "slides", "platform"}
    assert body["components"]["slides"]["status"] == "ok"
    # Nothing listens on the default production root here: the probe says so rather than failing the report.
    assert body["components"]["platform"]["status"] in {"ok", "unreachable", "error"}


@pytest.mark.unit
def test_slide_stack_reports_library_versions() -> None:
    status = slide_stack_status()

    assert status["status"] == "ok"
    assert status["openslide"].startswith("4.")


@pytest.mark.unit
async def test_platform_status_ok_when_health_answers() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json={"status": "UP"})

    status = await platform_status(Settings(api_root="http://127.0.0.1:9"), httpx.MockTransport(handler))

    assert status == {"api_root": "http://127.0.0.1:9", "local": True, "status": "ok"}
    assert seen == ["http://127.0.0.1:9/api/v1/health"]


@pytest.mark.unit
async def test_platform_status_reports_http_errors() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(503))

    status = await platform_status(Settings(api_root="https://platform.aignostics.com"), transport)

    assert status["status"] == "error"
    assert "503" in status["message"]


@pytest.mark.unit
async def test_platform_status_reports_unreachable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    status = await platform_status(Settings(api_root="http://127.0.0.1:9"), httpx.MockTransport(handler))

    assert status["status"] == "unreachable"
    assert "ConnectError" in status["message"]
