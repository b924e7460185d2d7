"""Login and tokens: the shared token cache, refresh tokens, verification, the device flow, logout, masking."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from aignostics_jupyter.client import Authenticator, Client, TokenStore
from aignostics_jupyter.client._auth import REFRESH_MARGIN
from aignostics_jupyter.exceptions import AuthenticationError, ServerError
from tests.client.conftest import FakeClock
from tests.client.fakes import FakePlatform, FaultyTransport, settings_for

pytestmark = pytest.mark.unit

REFRESH = "valid-refresh-token-0001"


def _auth(
    platform: FakePlatform, clock: FakeClock, tmp_path: Path, transport: object = None, **settings: object
) -> Authenticator:
    return Authenticator(
        settings_for(tmp_path / "cache", **settings),
        transport=transport or platform.transport(),  # type: ignore[arg-type]
        clock=clock,
        sleep=clock.sleep,
    )


# ---------------------------------------------------------------------------------------------- the cache


def test_token_store_round_trip_with_private_modes(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "cache")

    store.write_access("eyJ.a.b", 1234)
    store.write_refresh("refresh-secret")

    assert store.access_file.read_text() == "eyJ.a.b:1234"
    assert store.read_access() == ("eyJ.a.b", 1234)
    assert store.read_refresh() == "refresh-secret"
    assert stat.S_IMODE(store.access_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.refresh_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.refresh_file.parent.stat().st_mode) == 0o700
    assert store.refresh_file == tmp_path / "cache" / "aignostics-jupyter" / "refresh_token"


@pytest.mark.parametrize("content", ["", "garbage", "token:notanumber", ":123"])
def test_unreadable_token_cache_counts_as_empty(tmp_path: Path, content: str) -> None:
    store = TokenStore(tmp_path)
    store.access_file.write_text(content)

    assert store.read_access() is None


def test_a_valid_sdk_token_file_is_used_without_a_request(
    platform: FakePlatform, clock: FakeClock, tmp_path: Path
) -> None:
    auth = _auth(platform, clock, tmp_path)
    token = platform.mint(lifetime=3600)
    auth.store.write_access(token, int(clock() + 3600))

    assert auth.token() == token
    assert platform.requests == []


def test_a_cached_token_of_another_environment_is_not_used(
    platform: FakePlatform, clock: FakeClock, tmp_path: Path
) -> None:
    auth = _auth(platform, clock, tmp_path, refresh_token=REFRESH)
    other = platform.mint(audience="https://aignostics-platform-samia", issuer="https://elsewhere.example/")
    auth.store.write_access(other, int(clock() + 3600))

    assert auth.token() != other
    assert platform.requests[0].url.path == "/oauth/token"


def test_the_local_platform_keeps_its_tokens_apart_from_the_sdk(tmp_path: Path) -> None:
    local = TokenStore.for_settings(settings_for(tmp_path))
    production = TokenStore.for_settings(settings_for(tmp_path, api_root="https://platform.aignostics.com"))
    staging = TokenStore.for_settings(settings_for(tmp_path, api_root="https://platform-staging.aignostics.com"))

    assert production.access_file == tmp_path / ".token"
    assert production.refresh_file == tmp_path / "aignostics-jupyter" / "refresh_token"
    assert staging.access_file == tmp_path / ".token"
    assert staging.refresh_file == tmp_path / "aignostics-jupyter" / "platform-staging.aignostics.com" / "refresh_token"
    assert local.access_file == tmp_path / "aignostics-jupyter" / "127.0.0.1_8999" / ".token"
    assert local.refresh_file.parent == local.access_file.parent


def test_a_token_about_to_expire_is_refreshed(platform: FakePlatform, clock: FakeClock, tmp_path: Path) -> None:
    auth = _auth(platform, clock, tmp_path, refresh_token=REFRESH)
    old = platform.mint(lifetime=REFRESH_MARGIN - 1)
    auth.store.write_access(old, int(clock() + REFRESH_MARGIN - 1))

    new = auth.token()

    assert new != old
    assert [r.url.path for r in platform.requests] == ["/oauth/token", "/.well-known/jwks.json"]
    token, exp = auth.store.read_access() or ("", 0)
    assert token == new
    assert exp == int(clock() + 3600)


def test_the_token_is_kept_in_memory_until_five_minutes_before_expiry(
    platform: FakePlatform, clock: FakeClock, tmp_path: Path
) -> None:
    auth = _auth(platform, clock, tmp_path, refresh_token=REFRESH)
    first = auth.token()

    clock.advance(3600 - REFRESH_MARGIN - 10)
    assert auth.token() == first
    clock.advance(20)
    assert auth.token() != first
    assert sum(r.url.path == "/oauth/token" for r in platform.requests) == 2


def test_refresh_uses_the_stored_refresh_token_and_keeps_rotated_ones(
    platform: FakePlatform, clock: FakeClock, tmp_path: Path
) -> None:
    platform.rotate_refresh = True
    auth = _auth(platform, clock, tmp_path)
    auth.store.write_refresh(REFRESH)

    auth.token()

    rotated = auth.store.read_refresh()
    assert rotated is not None
    assert rotated.startswith("rotated-")
    assert rotated in platform.refresh_tokens


def test_rotating_refresh_tokens_are_never_replayed(platform: FakePlatform, clock: FakeClock, tmp_path: Path) -> None:
    platform.rotate_refresh = True
    auth = _auth(platform, clock, tmp_path, refresh_token=REFRESH)

    first = auth.refresh()
    clock.advance(10)
    second = auth.refresh()

    assert first.token != second.token
    assert REFRESH in platform.used_refresh_tokens
    assert auth.store.read_refresh() in platform.refresh_tokens


def test_not_logged_in_says_how_to_log_in(platform: FakePlatform, clock: FakeClock, tmp_path: Path) -> None:
    auth = _auth(platform, clock, tmp_path)

    assert auth.has_credentials() is False
    with pytest.raises(AuthenticationError, match="device flow or set AIGNOSTICS_REFRESH_TOKEN"):
        auth.token()


def test_a_rejected_refresh_token_is_an_authentication_error_without_the_token(
    platform: FakePlatform, clock: FakeClock, tmp_path: Path
) -> None:
    secret = "revoked-refresh-token-9999"
    auth = _auth(platform, clock, tmp_path, refresh_token=secret)

    with pytest.raises(AuthenticationError, match="invalid_grant") as info:
        auth.token()

    assert secret not in str(info.value)


def test_the_refresh_exchange_is_retried_on_5xx(platform: FakePlatform, clock: FakeClock, tmp_path: Path) -> None:
    faulty = FaultyTransport(platform.transport(), [502, "timeout"], lambda r: r.url.path == "/oauth/token")
    auth = _auth(platform, clock, tmp_path, transport=faulty, refresh_token=REFRESH)

    assert auth.token().startswith("ey")
    assert faulty.calls == 2


def test_the_refresh_exchange_gives_up(platform: FakePlatform, clock: FakeClock, tmp_path: Path) -> None:
    faulty = FaultyTransport(platform.transport(), [500] * 5, lambda r: r.url.path == "/oauth/token")
    auth = _auth(platform, clock, tmp_path, transport=faulty, refresh_token=REFRESH, auth_retry_attempts=2)

    with pytest.raises(ServerError):
        auth.token()
    assert faulty.calls == 2


# ------------------------------------------------------------------------------------------- verification


def test_tokens_for_another_audience_are_rejected(platform: FakePlatform, clock: FakeClock, tmp_path: Path) -> None:
    auth = _auth(platform, clock, tmp_path)

    with pytest.raises(AuthenticationError, match="InvalidAudience"):
        auth.verify(platform.mint(audience="https://someone-else"))


def test_tokens_from_another_issuer_are_rejected(platform: FakePlatform, clock: FakeClock, tmp_path: Path) -> None:
    auth = _auth(platform, clock, tmp_path)

    with pytest.raises(AuthenticationError, match=r"issued by https://evil\.example/"):
        auth.verify(platform.mint(issuer="https://evil.example/"))


def test_forged_tokens_are_rejected(platform: FakePlatform, clock: FakeClock, tmp_path: Path) -> None:
    auth = _auth(platform, clock, tmp_path)
    forged = platform.mint(key=rsa.generate_private_key(public_exponent=65537, key_size=2048))

    with pytest.raises(AuthenticationError, match="InvalidSignature"):
        auth.verify(forged)


def test_expired_tokens_are_rejected(platform: FakePlatform, clock: FakeClock, tmp_path: Path) -> None:
    auth = _auth(platform, clock, tmp_path)
    token = platform.mint(lifetime=10)
    clock.advance(11)

    with pytest.raises(AuthenticationError, match="expired"):
        auth.verify(token)


def test_valid_tokens_give_their_claims_and_the_jwks_is_cached(
    platform: FakePlatform, clock: FakeClock, tmp_path: Path
) -> None:
    auth = _auth(platform, clock, tmp_path)

    claims = auth.verify(platform.mint(sub="auth0|someone"))
    auth.verify(platform.mint())

    assert claims["sub"] == "auth0|someone"
    assert sum(r.url.path == "/.well-known/jwks.json" for r in platform.requests) == 1


# -------------------------------------------------------------------------------------------- device flow


def test_device_flow_polls_at_the_interval_and_slows_down(
    platform: FakePlatform, clock: FakeClock, tmp_path: Path
) -> None:
    platform.device_answers = ["authorization_pending", "slow_down", "authorization_pending", "ok"]
    auth = _auth(platform, clock, tmp_path)
    prompts = []

    token = auth.login_device_flow(prompts.append)

    assert prompts[0].user_code == "ABCD-EFGH"
    assert prompts[0].verification_uri_complete.endswith("user_code=ABCD-EFGH")
    assert "dev-code-secret" not in repr(prompts[0])
    assert clock.sleeps == [5, 5, 10, 10]
    assert token.subject == "auth0|user-1"
    assert auth.store.read_refresh() == "device-refresh-token-1"
    assert auth.store.read_access() is not None
    device_request = next(r for r in platform.requests if r.url.path == "/oauth/device/code")
    assert b"audience=" in device_request.content
    assert b"scope=offline_access" in device_request.content


@pytest.mark.parametrize(
    ("answer", "message"), [("access_denied", "denied"), ("expired_token", "expired"), ("invalid_client", "refused")]
)
def test_device_flow_failures(
    platform: FakePlatform, clock: FakeClock, tmp_path: Path, answer: str, message: str
) -> None:
    platform.device_answers = [answer]
    auth = _auth(platform, clock, tmp_path)

    with pytest.raises(AuthenticationError, match=message):
        auth.complete_device_flow(auth.start_device_flow())


def test_device_flow_times_out(platform: FakePlatform, clock: FakeClock, tmp_path: Path) -> None:
    platform.device_answers = ["authorization_pending"] * 100
    auth = _auth(platform, clock, tmp_path)

    with pytest.raises(AuthenticationError, match="not approved in time"):
        auth.complete_device_flow(auth.start_device_flow(), timeout=30)
    assert sum(clock.sleeps) <= 35


# ------------------------------------------------------------------------------------- logout and masking


def test_logout_forgets_everything(platform: FakePlatform, clock: FakeClock, tmp_path: Path) -> None:
    auth = _auth(platform, clock, tmp_path)
    auth.store.write_refresh(REFRESH)
    auth.token()

    auth.logout()

    assert not auth.store.access_file.exists()
    assert not auth.store.refresh_file.exists()
    with pytest.raises(AuthenticationError):
        auth.token()


def test_tokens_never_show_in_reprs_or_logs(
    platform: FakePlatform, clock: FakeClock, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    faulty = FaultyTransport(platform.transport(), [503], lambda r: r.url.path == "/api/v1/me")
    client = Client(
        settings_for(tmp_path / "cache", refresh_token=REFRESH), transport=faulty, clock=clock, sleep=clock.sleep
    )

    client.me()
    assert client.auth is not None
    token = client.auth.token()
    access = client.auth._current

    for text in (repr(client), repr(client.auth), repr(access), repr(client.settings), caplog.text):
        assert token not in text
        assert REFRESH not in text
    client.close()


def test_the_client_logs_in_with_the_refresh_token_and_retries_a_401(
    platform: FakePlatform, clock: FakeClock, tmp_path: Path
) -> None:
    client = Client(
        settings_for(tmp_path / "cache", refresh_token=REFRESH),
        transport=platform.transport(),
        clock=clock,
        sleep=clock.sleep,
    )
    assert client.auth is not None
    forged = platform.mint(key=rsa.generate_private_key(public_exponent=65537, key_size=2048))
    client.auth.store.write_access(forged, int(clock() + 3600))

    assert client.me().user.id == "auth0|user-1"
    paths = [r.url.path for r in platform.requests]
    assert paths.count("/api/v1/me") == 2
    assert "/oauth/token" in paths
    client.close()


def test_client_login_and_logout(
    platform: FakePlatform, clock: FakeClock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    client = Client(settings_for(tmp_path / "cache"), transport=platform.transport(), clock=clock, sleep=clock.sleep)

    token = client.login()
    again = client.login()
    me = client.me()
    client.logout()

    assert token is not None
    assert again is None
    assert me.user.id == "auth0|user-1"
    assert "confirm the code ABCD-EFGH" in capsys.readouterr().out
    with pytest.raises(AuthenticationError):
        client.me()
    client.close()


def test_a_token_provider_client_cannot_log_in(platform: FakePlatform, tmp_path: Path) -> None:
    from aignostics_jupyter.exceptions import ConfigurationError

    with Client(settings_for(tmp_path), token_provider=lambda: "t") as client, pytest.raises(ConfigurationError):
        client.login()


def test_concurrent_refreshes_share_one_rotation(platform: FakePlatform, clock: FakeClock, tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    platform.rotate_refresh = True
    authenticators = [_auth(platform, clock, tmp_path) for _ in range(4)]
    authenticators[0].store.write_refresh(REFRESH)

    with ThreadPoolExecutor(max_workers=4) as pool:
        tokens = list(pool.map(lambda a: a.token(), authenticators))

    assert len(set(tokens)) == 1
    assert sum(r.url.path == "/oauth/token" for r in platform.requests) == 1
    assert platform.refresh_tokens  # no replay revoked the family
