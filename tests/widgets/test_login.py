"""LoginWidget against the local platform: device flow (approved, denied), shared token cache, logout."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from aignostics_jupyter.client import Authenticator, Client
from aignostics_jupyter.emulator import LocalPlatform
from aignostics_jupyter.settings import get_settings
from aignostics_jupyter.widgets._platform import platform_client
from aignostics_jupyter.widgets.login import CopyButton, LoginWidget
from tests.widgets import conftest_platform as fixtures
from tests.widgets.conftest_platform import all_widget_states, start_platform

platform = fixtures.platform
platform_env = fixtures.platform_env
logged_in = fixtures.logged_in

pytestmark = [pytest.mark.integration, pytest.mark.timeout(30)]


@pytest.fixture(scope="module")
def manual_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPlatform]:
    running = start_platform(tmp_path_factory.mktemp("manual"), auto_approve=False)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def manual_env(manual_platform: LocalPlatform, monkeypatch: pytest.MonkeyPatch) -> LocalPlatform:
    for name, value in manual_platform.env().items():
        monkeypatch.setenv(name, value)
    get_settings(reload=True)
    return manual_platform


def decide(platform: LocalPlatform, user_code: str, action: str) -> httpx.Response:
    return httpx.post(f"{platform.api_root}/activate", data={"user_code": user_code, "action": action})


def wait_for_state(widget: LoginWidget, state: str, timeout: float = 10) -> None:
    import time

    deadline = time.monotonic() + timeout
    while widget.state != state and time.monotonic() < deadline:
        time.sleep(0.02)
    assert widget.state == state, widget.message


def test_a_fresh_session_is_logged_out(platform_env: LocalPlatform) -> None:
    widget = LoginWidget()

    assert widget.state == "logged_out"
    assert widget.login_button.layout.display == "flex"
    assert widget.logout_button.layout.display == "none"
    assert "Not logged in" in widget.status.value


def test_device_login_with_approval_lands_in_the_shared_cache(manual_env: LocalPlatform) -> None:
    widget = LoginWidget()

    widget.login_button.click()
    wait_for_state(widget, "waiting")

    assert widget.verification_uri.startswith(f"{manual_env.api_root}/activate")
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", widget.user_code)
    assert widget.code.value == widget.user_code
    assert widget.copy_button.text == widget.user_code
    assert widget.verification_uri.replace("&", "&amp;") in widget.link.value
    assert "fa-spinner" in widget.status.value
    assert widget.login_button.disabled

    assert decide(manual_env, widget.user_code, "approve").status_code == 200
    assert widget.wait(10)

    assert widget.state == "logged_in", widget.message
    assert widget.user
    assert widget.organization
    assert widget.expires_at.endswith("UTC")
    assert widget.user_code == ""
    assert widget.prompt.layout.display == "none"
    assert widget.logout_button.layout.display == "flex"
    # Another client (another kernel, the sidebar) of the same settings is logged in through the shared cache.
    settings = get_settings()
    assert Authenticator(settings).has_credentials()
    with Client(settings) as other:
        assert other.me().user.id


def test_a_denied_login_says_so_in_one_sentence(manual_env: LocalPlatform) -> None:
    widget = LoginWidget()
    widget.login_button.click()
    wait_for_state(widget, "waiting")

    decide(manual_env, widget.user_code, "deny")
    assert widget.wait(10)

    assert widget.state == "error"
    assert widget.message == "The device login was denied (log in with %aignostics login or the LoginWidget)."
    assert widget.login_button.layout.display == "flex"
    assert not widget.login_button.disabled


def test_logout_and_login_again(platform_env: LocalPlatform) -> None:
    widget = LoginWidget()
    widget.login_button.click()
    assert widget.wait(10)
    assert widget.state == "logged_in", widget.message
    token_file = Authenticator(get_settings()).store.access_file
    assert token_file.is_file()

    widget.logout_button.click()

    assert widget.state == "logged_out"
    assert widget.message == "Logged out."
    assert not token_file.exists()

    widget.relogin_button.click()
    assert widget.wait(10)
    assert widget.state == "logged_in"
    assert token_file.is_file()


def test_an_existing_login_is_found_at_once(logged_in: LocalPlatform) -> None:
    widget = LoginWidget()
    assert widget.wait(10)

    assert widget.state == "logged_in", widget.message
    assert "Logged in as" in widget.status.value
    assert widget.client is platform_client()


def test_a_client_with_its_own_token_provider_cannot_log_in(platform_env: LocalPlatform) -> None:
    with Client(get_settings(), token_provider=lambda: "x") as client:
        widget = LoginWidget(client)

        assert widget.state == "error"
        assert "own token provider" in widget.message


def test_no_token_in_any_widget_state(platform_env: LocalPlatform) -> None:
    widget = LoginWidget()
    widget.login_button.click()
    assert widget.wait(10)
    assert widget.state == "logged_in"
    cached = Authenticator(get_settings()).store.read_access()
    assert cached is not None
    refresh = Authenticator(get_settings()).store.read_refresh()
    assert refresh is not None

    text = repr(all_widget_states()) + repr(widget) + repr(widget.trait_values())

    assert cached[0] not in text
    assert refresh not in text


def test_copy_button_carries_only_the_text() -> None:
    button = CopyButton(text="ABCD-EFGH")

    assert button.get_state()["text"] == "ABCD-EFGH"


def test_waiting_for_approval_can_be_canceled(manual_env: LocalPlatform) -> None:
    widget = LoginWidget()
    assert widget.cancel_button.layout.display == "none"
    widget.login_button.click()
    wait_for_state(widget, "waiting")
    assert widget.cancel_button.layout.display == "flex"

    widget.cancel_button.click()
    assert widget.wait(5)  # at once, not when the code expires

    assert widget.state == "logged_out"
    assert widget.message == "Login canceled."
    assert widget.user_code == ""
    assert widget.cancel_button.layout.display == "none"
    assert not widget.login_button.disabled
    # The code that was shown no longer logs this widget in, and a new login starts afresh.
    widget.login_button.click()
    wait_for_state(widget, "waiting")
    assert decide(manual_env, widget.user_code, "approve").status_code == 200
    assert widget.wait(10)
    assert widget.state == "logged_in", widget.message


def test_cancel_without_a_login_in_progress_changes_nothing(platform_env: LocalPlatform) -> None:
    widget = LoginWidget(check=False)
    widget.cancel()
    assert widget.state == "logged_out"
    assert not widget._cancel.is_set()
