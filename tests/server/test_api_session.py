"""``api/session``: login state, device-flow login from the sidebar, logout; the login is the kernel's too."""

from __future__ import annotations

from typing import Any

import pytest

from aignostics_jupyter.client import Authenticator, Client, TokenStore
from aignostics_jupyter.emulator import LocalPlatform
from aignostics_jupyter.settings import get_settings
from tests.server.test_api_support import (
    assert_no_token,
    body,
    call,
    jp_server_config,
    logged_in,
    platform,
    platform_env,
    poll,
)

__all__ = ["jp_server_config", "logged_in", "platform", "platform_env"]

pytestmark = pytest.mark.timeout(60)


@pytest.mark.integration
async def test_logged_out_state(jp_fetch: Any, platform_env: LocalPlatform) -> None:
    response = await call(jp_fetch, "session")

    assert response.code == 200
    state = body(response)
    assert state["logged_in"] is False
    assert state["user"] is None
    assert state["api_root"] == platform_env.api_root
    assert state["local"] is True
    assert state["login"] is None


@pytest.mark.integration
async def test_device_login_from_the_sidebar_logs_the_kernel_in(jp_fetch: Any, platform_env: LocalPlatform) -> None:
    started = await call(jp_fetch, "session", "POST")

    assert started.code == 201
    assert_no_token(started.body)
    login = body(started)["login"]
    assert login["user_code"]
    assert login["verification_uri"].startswith(platform_env.api_root)
    assert login["expires_at"] > 0

    async def logged_in_now() -> Any:
        state = body(await call(jp_fetch, "session"))
        return state if state["logged_in"] else None

    state = await poll(logged_in_now)
    assert state["login"]["state"] == "succeeded"
    assert state["user"]["id"]
    assert state["organization"]["name"]
    assert state["expires_at"] > 0
    # The kernel reads the same token cache: it is logged in without doing anything.
    with Client(get_settings()) as kernel:
        assert kernel.me().user.id == state["user"]["id"]


@pytest.mark.integration
async def test_kernel_login_and_logout_are_seen_by_the_sidebar(jp_fetch: Any, platform_env: LocalPlatform) -> None:
    assert body(await call(jp_fetch, "session"))["logged_in"] is False
    store = TokenStore.for_settings(get_settings())
    store.write_refresh(platform_env.refresh_token())

    state = body(await call(jp_fetch, "session"))
    assert state["logged_in"] is True

    Authenticator(get_settings()).logout()  # the kernel logs out
    assert body(await call(jp_fetch, "session"))["logged_in"] is False


@pytest.mark.integration
async def test_logout_from_the_sidebar_clears_the_shared_cache(jp_fetch: Any, logged_in: TokenStore) -> None:
    before = await call(jp_fetch, "session")
    assert body(before)["logged_in"] is True
    assert_no_token(before.body)
    assert logged_in.read_access() is not None

    response = await call(jp_fetch, "session", "DELETE")

    assert response.code == 200
    assert body(response)["logged_in"] is False
    assert logged_in.read_access() is None
    assert logged_in.read_refresh() is None


@pytest.mark.integration
async def test_platform_routes_answer_401_when_logged_out(jp_fetch: Any, platform_env: LocalPlatform) -> None:
    response = await call(jp_fetch, "runs")

    assert response.code == 401
    error = body(response)["error"]
    assert error["type"] == "AuthenticationError"
    assert "log in" in error["message"].lower()
