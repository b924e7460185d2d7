"""Every route the extension registers refuses a request without Jupyter credentials."""

from __future__ import annotations

from typing import Any

import pytest

from aignostics_jupyter.server.routes import NAMESPACE, ROUTES

CASES = [(route, method) for route in ROUTES for method in route.methods]


def _body(method: str) -> bytes | None:
    return b"{}" if method in {"POST", "PUT", "PATCH"} else None


async def _unauthenticated(client: Any, base_url: str, path: str, method: str) -> Any:
    """Request a route with no token, no cookie and no Authorization header."""
    url = f"{base_url}{NAMESPACE}/{path}"
    return await client.fetch(url, method=method, body=_body(method), raise_error=False, allow_nonstandard_methods=True)


@pytest.mark.integration
@pytest.mark.parametrize(("route", "method"), CASES, ids=[f"{m} {r.pattern}" for r, m in CASES])
async def test_route_refuses_unauthenticated(
    jp_serverapp: Any, http_server_client: Any, jp_base_url: str, route: Any, method: str
) -> None:
    response = await _unauthenticated(http_server_client, jp_base_url, route.example, method)

    assert response.code == 403
    assert b"aignostics" not in response.body.lower()


@pytest.mark.integration
async def test_every_registered_route_is_in_the_table(jp_serverapp: Any, jp_base_url: str) -> None:
    """The table the auth tests walk is exactly what the server has registered."""
    prefix = f"{jp_base_url}{NAMESPACE}/"
    registered = set()
    for rule in jp_serverapp.web_app.default_router.rules:
        for sub in getattr(rule.target, "rules", []):
            pattern = getattr(sub.matcher, "_path", None) or sub.matcher.regex.pattern
            if prefix in pattern:
                registered.add(sub.matcher.regex.pattern.split(prefix, 1)[1].rstrip("$"))

    assert registered == {route.pattern for route in ROUTES}


@pytest.mark.integration
async def test_authenticated_request_succeeds(jp_fetch: Any) -> None:
    response = await jp_fetch(NAMESPACE, "api", "health")

    assert response.code == 200


class TestHubBaseUrl:
    """The same under a JupyterHub-style base URL."""

    @pytest.fixture
    def jp_base_url(self) -> str:
        return "/user/demo/"

    @pytest.mark.integration
    @pytest.mark.parametrize(("route", "method"), CASES, ids=[f"{m} {r.pattern}" for r, m in CASES])
    async def test_route_refuses_unauthenticated(
        self, jp_serverapp: Any, http_server_client: Any, jp_base_url: str, route: Any, method: str
    ) -> None:
        response = await _unauthenticated(http_server_client, jp_base_url, route.example, method)

        assert response.code == 403

    @pytest.mark.integration
    async def test_health_under_hub_base_url(self, jp_fetch: Any, jp_base_url: str) -> None:
        response = await jp_fetch(NAMESPACE, "api", "health")

        assert response.code == 200
        assert response.effective_url.split("//", 1)[1].split("/", 1)[1].startswith("user/demo/aignostics-jupyter/")


class TestOwnDecorators:
    """With the server's own guard relaxed, each handler's @web.authenticated alone still refuses."""

    @pytest.fixture
    def jp_server_config(self) -> dict[str, Any]:
        return {
            "ServerApp": {"jpserver_extensions": {"aignostics_jupyter": True}, "allow_unauthenticated_access": True},
            "AignosticsTileServer": {"warm_up": False},
        }

    @pytest.mark.integration
    @pytest.mark.parametrize(("route", "method"), CASES, ids=[f"{m} {r.pattern}" for r, m in CASES])
    async def test_route_refuses_unauthenticated(
        self, jp_serverapp: Any, http_server_client: Any, jp_base_url: str, route: Any, method: str
    ) -> None:
        response = await _unauthenticated(http_server_client, jp_base_url, route.example, method)

        assert response.code == 403
