from __future__ import annotations

from pathlib import Path

import pytest

from aignostics_jupyter.exceptions import ConfigurationError
from aignostics_jupyter.settings import (
    LOCAL_AUDIENCE,
    LOCAL_CLIENT_ID,
    Settings,
    auth_endpoints_for,
    env_files,
    get_settings,
    is_loopback_root,
)

pytestmark = pytest.mark.unit


def test_defaults_point_at_production() -> None:
    settings = get_settings()

    assert settings.api_root == "https://platform.aignostics.com"
    assert settings.api_v1 == "https://platform.aignostics.com/api/v1"
    assert settings.audience == "https://aignostics-platform-samia"
    assert settings.token_url == "https://aignostics-platform.eu.auth0.com/oauth/token"
    assert settings.issuer == "https://aignostics-platform.eu.auth0.com/"
    assert settings.is_local is False


def test_cache_dir_and_token_file_follow_the_sdk(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AIGNOSTICS_CACHE_DIR", str(tmp_path))

    assert get_settings(reload=True).token_file == tmp_path / ".token"


@pytest.mark.parametrize(
    ("root", "expected"),
    [
        ("http://127.0.0.1:8123", True),
        ("http://localhost:8000", True),
        ("http://[::1]:9000", True),
        ("http://127.5.5.5", True),
        ("https://platform.aignostics.com", False),
        ("http://10.0.0.1:8000", False),
        ("http://example.org", False),
    ],
)
def test_is_loopback_root(root: str, expected: bool) -> None:
    assert is_loopback_root(root) is expected


def test_loopback_root_derives_same_origin_auth(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIGNOSTICS_API_ROOT", "http://127.0.0.1:8123/api/v1/")

    settings = get_settings(reload=True)

    assert settings.api_root == "http://127.0.0.1:8123"
    assert settings.is_local
    assert settings.token_url == "http://127.0.0.1:8123/oauth/token"
    assert settings.device_url == "http://127.0.0.1:8123/oauth/device/code"
    assert settings.jws_json_url == "http://127.0.0.1:8123/.well-known/jwks.json"
    assert settings.audience == LOCAL_AUDIENCE
    assert settings.client_id_interactive == LOCAL_CLIENT_ID
    assert settings.issuer == "http://127.0.0.1:8123/"


def test_explicit_auth_settings_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIGNOSTICS_API_ROOT", "https://platform-staging.aignostics.com")
    monkeypatch.setenv("AIGNOSTICS_AUDIENCE", "custom-audience")

    settings = get_settings(reload=True)

    assert settings.audience == "custom-audience"
    assert settings.token_url == "https://aignostics-platform-staging.eu.auth0.com/oauth/token"


def test_unknown_root_needs_all_seven(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIGNOSTICS_API_ROOT", "https://platform.example.org")
    monkeypatch.setenv("AIGNOSTICS_TOKEN_URL", "https://idp.example.org/oauth/token")
    settings = get_settings(reload=True)

    with pytest.raises(ConfigurationError) as info:
        settings.require_auth_endpoints()

    message = str(info.value)
    assert "AIGNOSTICS_AUDIENCE" in message
    assert "AIGNOSTICS_JWS_JSON_URL" in message
    assert "AIGNOSTICS_TOKEN_URL" not in message
    assert auth_endpoints_for("https://platform.example.org") is None


def test_known_root_has_everything() -> None:
    get_settings().require_auth_endpoints()


def test_secrets_are_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIGNOSTICS_REFRESH_TOKEN", "refresh-token-value-123")
    monkeypatch.setenv("AIGNOSTICS_BUCKET_HMAC_SECRET_ACCESS_KEY", "hmac-secret-value")

    settings = get_settings(reload=True)
    dump = settings.masked_dump()

    assert settings.refresh_token is not None
    assert settings.refresh_token.get_secret_value() == "refresh-token-value-123"
    assert dump["refresh_token"] == "**********"
    assert dump["bucket_hmac_secret_access_key"] == "**********"
    assert dump["client_id_device"] is None
    for text in (repr(settings), str(settings), repr(dump)):
        assert "refresh-token-value-123" not in text
        assert "hmac-secret-value" not in text


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("AIGNOSTICS_API_ROOT", "ftp://x", "must be an http(s) URL"),
        ("AIGNOSTICS_RUN_TIMEOUT", "0", "AIGNOSTICS_RUN_TIMEOUT"),
        ("AIGNOSTICS_ME_RETRY_ATTEMPTS", "11", "AIGNOSTICS_ME_RETRY_ATTEMPTS"),
        ("AIGNOSTICS_REFRESH_TOKEN", "short", "AIGNOSTICS_REFRESH_TOKEN"),
        ("AIGNOSTICS_RETRY_WAIT_MIN", "100", "must not exceed"),
    ],
)
def test_invalid_values_give_one_sentence(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, fragment: str
) -> None:
    monkeypatch.setenv(name, value)
    if name == "AIGNOSTICS_RETRY_WAIT_MIN":
        monkeypatch.setenv("AIGNOSTICS_RETRY_WAIT_MAX", "1")

    with pytest.raises(ConfigurationError) as info:
        get_settings(reload=True)

    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


def test_env_files_follow_sdk_order(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    files = env_files({"AIGNOSTICS_ENVIRONMENT": "staging", "AIGNOSTICS_ENV_FILE": str(tmp_path / "x.env")})

    names = [str(p) for p in files]
    assert names[0].endswith(".aignostics/.env")
    assert names[1].endswith(".aignostics/.env.staging")
    assert names[2] == str(tmp_path / "x.env")
    assert names[3:] == [".env", ".env.staging"]
    assert env_files({})[1].name == ".env.local"


def test_env_files_are_read_and_later_ones_win(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (isolated_env / ".aignostics").mkdir()
    (isolated_env / ".aignostics" / ".env").write_text("AIGNOSTICS_RUN_CACHE_TTL=20\nAIGNOSTICS_ME_CACHE_TTL=30\n")
    (isolated_env / ".env").write_text("AIGNOSTICS_RUN_CACHE_TTL=25\n")

    settings = get_settings(reload=True)

    assert settings.run_cache_ttl == 25
    assert settings.me_cache_ttl == 30
    monkeypatch.setenv("AIGNOSTICS_RUN_CACHE_TTL", "40")
    assert get_settings(reload=True).run_cache_ttl == 40


def test_s3_endpoint_alias(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIGNOSTICS_S3_ENDPOINT_URL", "http://127.0.0.1:5000")

    assert get_settings(reload=True).storage_endpoint_url == "http://127.0.0.1:5000"


def test_settings_object_is_shared_until_reload() -> None:
    assert get_settings() is get_settings()
    assert isinstance(get_settings(), Settings)
