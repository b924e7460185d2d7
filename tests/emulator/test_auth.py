"""The local identity provider over real HTTP: device flow, refresh rotation, PKCE, JWTs, expiry, forgery."""

from __future__ import annotations

import base64
import hashlib
import stat
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from aignostics_jupyter.emulator import ADMIN_USER_ID, MEMBER_USER_ID, LocalPlatform
from aignostics_jupyter.settings import LOCAL_AUDIENCE, LOCAL_CLIENT_ID, get_settings

pytestmark = pytest.mark.integration

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def _poll(root: str, device_code: str) -> httpx.Response:
    return httpx.post(
        f"{root}/oauth/token", data={"grant_type": DEVICE_GRANT, "device_code": device_code, "client_id": "x"}
    )


def _verify(root: str, token: str) -> dict[str, object]:
    jwks = jwt.PyJWKClient(f"{root}/.well-known/jwks.json")
    key = jwks.get_signing_key_from_jwt(token)
    claims: dict[str, object] = jwt.decode(
        token, key.key, algorithms=["RS256"], audience=LOCAL_AUDIENCE, issuer=f"{root}/"
    )
    return claims


def test_device_flow_with_the_activation_page(tmp_path: Path) -> None:
    with LocalPlatform(tmp_path, auto_approve=False, runner_enabled=False, device_poll_interval=1) as lp:
        start = httpx.post(
            f"{lp.api_root}/oauth/device/code", data={"client_id": LOCAL_CLIENT_ID, "scope": "offline_access"}
        )
        assert start.status_code == 200
        body = start.json()
        assert set(body) == {
            "device_code",
            "user_code",
            "verification_uri",
            "verification_uri_complete",
            "expires_in",
            "interval",
        }
        assert body["verification_uri"] == f"{lp.api_root}/activate"

        assert _poll(lp.api_root, body["device_code"]).json()["error"] == "authorization_pending"
        assert _poll(lp.api_root, body["device_code"]).json()["error"] == "slow_down"

        page = httpx.get(body["verification_uri_complete"])
        assert page.status_code == 200
        assert body["user_code"] in page.text
        approved = httpx.post(
            f"{lp.api_root}/activate",
            data={"user_code": body["user_code"], "action": "approve", "user_id": MEMBER_USER_ID},
        )
        assert approved.status_code == 200
        assert "logged in" in approved.text

        tokens = _poll(lp.api_root, body["device_code"]).json()
        assert tokens["token_type"] == "Bearer"
        claims = _verify(lp.api_root, tokens["access_token"])
        assert claims["sub"] == MEMBER_USER_ID
        assert claims[f"{LOCAL_AUDIENCE}/role"] == "member"
        assert claims["org_id"] == "org_local"
        assert {"exp", "iat", "scope", "azp", "iss"} <= set(claims)
        assert jwt.get_unverified_header(tokens["access_token"])["kid"]
        # A device code works once.
        assert _poll(lp.api_root, body["device_code"]).json()["error"] == "invalid_grant"
        # An approved code cannot be approved again.
        again = httpx.post(f"{lp.api_root}/activate", data={"user_code": body["user_code"], "action": "approve"})
        assert again.status_code == 400


def test_device_flow_denied_and_expired(tmp_path: Path) -> None:
    with LocalPlatform(tmp_path, auto_approve=False, runner_enabled=False, device_code_lifetime=1) as lp:
        denied = httpx.post(f"{lp.api_root}/oauth/device/code", data={"client_id": "c"}).json()
        httpx.post(f"{lp.api_root}/activate", data={"user_code": denied["user_code"], "action": "deny"})
        refused = _poll(lp.api_root, denied["device_code"])
        assert refused.status_code == 400
        assert refused.json()["error"] == "access_denied"

        expiring = httpx.post(f"{lp.api_root}/oauth/device/code", data={"client_id": "c"}).json()
        time.sleep(1.2)
        assert _poll(lp.api_root, expiring["device_code"]).json()["error"] == "expired_token"
        assert httpx.post(f"{lp.api_root}/oauth/device/code", data={}).json()["error"] == "invalid_request"
        assert httpx.post(f"{lp.api_root}/oauth/token", data={"grant_type": "password"}).json()["error"] == (
            "unsupported_grant_type"
        )


def test_auto_approve_and_rotating_refresh_tokens(tmp_path: Path) -> None:
    with LocalPlatform(tmp_path, runner_enabled=False) as lp:
        start = httpx.post(f"{lp.api_root}/oauth/device/code", json={"client_id": "c"}).json()
        first = _poll(lp.api_root, start["device_code"]).json()
        assert _verify(lp.api_root, first["access_token"])["sub"] == ADMIN_USER_ID

        refresh = {"grant_type": "refresh_token", "client_id": LOCAL_CLIENT_ID, "refresh_token": first["refresh_token"]}
        second = httpx.post(f"{lp.api_root}/oauth/token", data=refresh)
        assert second.status_code == 200
        rotated = second.json()["refresh_token"]
        assert rotated != first["refresh_token"]

        reuse = httpx.post(f"{lp.api_root}/oauth/token", data=refresh)
        assert reuse.status_code == 400
        assert reuse.json()["error"] == "invalid_grant"
        # Reuse revokes the family: the rotated token is dead too.
        family = httpx.post(f"{lp.api_root}/oauth/token", data={**refresh, "refresh_token": rotated})
        assert family.json()["error"] == "invalid_grant"
        unknown = httpx.post(f"{lp.api_root}/oauth/token", data={**refresh, "refresh_token": "nope-nope-nope"})
        assert unknown.json()["error"] == "invalid_grant"

        helper = lp.refresh_token(MEMBER_USER_ID)
        minted = httpx.post(f"{lp.api_root}/oauth/token", data={**refresh, "refresh_token": helper}).json()
        assert _verify(lp.api_root, minted["access_token"])["sub"] == MEMBER_USER_ID


def _pkce() -> tuple[str, str]:
    verifier = base64.urlsafe_b64encode(b"v" * 40).rstrip(b"=").decode()
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def test_authorization_code_with_pkce(tmp_path: Path) -> None:
    verifier, challenge = _pkce()
    params = {
        "response_type": "code",
        "client_id": LOCAL_CLIENT_ID,
        "redirect_uri": "http://localhost:8989/",
        "state": "s1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "scope": "offline_access",
    }
    with LocalPlatform(tmp_path, runner_enabled=False) as lp:
        redirect = httpx.get(f"{lp.api_root}/authorize", params=params)
        assert redirect.status_code == 302
        query = parse_qs(urlsplit(redirect.headers["location"]).query)
        assert query["state"] == ["s1"]
        exchange = {
            "grant_type": "authorization_code",
            "code": query["code"][0],
            "redirect_uri": params["redirect_uri"],
            "client_id": LOCAL_CLIENT_ID,
        }
        wrong = httpx.post(f"{lp.api_root}/oauth/token", data={**exchange, "code_verifier": "wrong"})
        assert wrong.json()["error"] == "invalid_grant"
        # The code was consumed by the failed attempt: ask again.
        code = parse_qs(urlsplit(httpx.get(f"{lp.api_root}/authorize", params=params).headers["location"]).query)[
            "code"
        ][0]
        good = httpx.post(f"{lp.api_root}/oauth/token", data={**exchange, "code": code, "code_verifier": verifier})
        assert good.status_code == 200
        assert _verify(lp.api_root, good.json()["access_token"])["sub"] == ADMIN_USER_ID
        bad = httpx.get(f"{lp.api_root}/authorize", params={**params, "code_challenge_method": "plain"})
        assert bad.status_code == 400


def test_authorization_code_consent_page(tmp_path: Path) -> None:
    _verifier, challenge = _pkce()
    params = {"client_id": "c", "redirect_uri": "http://localhost:8989/cb", "state": "z", "code_challenge": challenge}
    with LocalPlatform(tmp_path, auto_approve=False, runner_enabled=False) as lp:
        page = httpx.get(f"{lp.api_root}/authorize", params=params)
        assert page.status_code == 200
        assert "Approve" in page.text
        deny = httpx.post(f"{lp.api_root}/authorize", data={**params, "action": "deny"})
        assert deny.status_code == 302
        assert "error=access_denied" in deny.headers["location"]
        allow = httpx.post(f"{lp.api_root}/authorize", data={**params, "action": "approve", "user_id": MEMBER_USER_ID})
        assert "code=" in allow.headers["location"]
        assert httpx.post(f"{lp.api_root}/authorize", data={"action": "approve"}).status_code == 400


def test_missing_expired_and_forged_tokens_get_401(tmp_path: Path) -> None:
    with LocalPlatform(tmp_path, runner_enabled=False) as lp:
        url = f"{lp.api_root}/api/v1/me"
        assert httpx.get(f"{lp.api_root}/api/v1/health").status_code == 200
        missing = httpx.get(url)
        assert missing.status_code == 401
        assert "detail" in missing.json()
        assert missing.headers["www-authenticate"] == "Bearer"
        assert httpx.get(url, headers={"Authorization": "Basic abc"}).status_code == 401
        assert httpx.get(url, headers={"Authorization": "Bearer not-a-jwt"}).status_code == 401

        expired = lp.access_token(lifetime=-10)
        response = httpx.get(url, headers={"Authorization": f"Bearer {expired}"})
        assert response.status_code == 401
        assert "expired" in response.json()["detail"]

        claims = jwt.decode(lp.access_token(), options={"verify_signature": False})
        other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        forged = jwt.encode(claims, other_key, algorithm="RS256", headers={"kid": lp.services.tokens.kid})
        assert httpx.get(url, headers={"Authorization": f"Bearer {forged}"}).status_code == 401
        foreign_kid = jwt.encode(claims, other_key, algorithm="RS256", headers={"kid": "someone-else"})
        assert httpx.get(url, headers={"Authorization": f"Bearer {foreign_kid}"}).status_code == 401

        good = httpx.get(url, headers={"Authorization": f"Bearer {lp.access_token()}"})
        assert good.status_code == 200


def test_short_token_lifetime_expires_over_http(tmp_path: Path) -> None:
    with LocalPlatform(tmp_path, runner_enabled=False, token_lifetime=1) as lp:
        start = httpx.post(f"{lp.api_root}/oauth/device/code", data={"client_id": "c"}).json()
        tokens = _poll(lp.api_root, start["device_code"]).json()
        assert tokens["expires_in"] == 1
        headers = {"Authorization": f"Bearer {tokens['access_token']}"}
        assert httpx.get(f"{lp.api_root}/api/v1/me", headers=headers).status_code == 200
        time.sleep(2.1)
        assert httpx.get(f"{lp.api_root}/api/v1/me", headers=headers).status_code == 401


def test_signing_key_is_persisted_privately_and_survives_restart(tmp_path: Path) -> None:
    with LocalPlatform(tmp_path, runner_enabled=False) as lp:
        token = lp.access_token()
        kid = lp.services.tokens.kid
    key_file = tmp_path / "keys" / "signing_key.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    with LocalPlatform(tmp_path, runner_enabled=False) as again:
        assert again.services.tokens.kid == kid
        response = httpx.get(f"{again.api_root}/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200
        discovery = httpx.get(f"{again.api_root}/.well-known/openid-configuration").json()
        assert discovery["jwks_uri"] == f"{again.api_root}/.well-known/jwks.json"


def test_env_points_the_settings_at_the_platform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with LocalPlatform(tmp_path, runner_enabled=False) as lp:
        assert lp.env() == {
            "AIGNOSTICS_API_ROOT": lp.api_root,
            "AIGNOSTICS_CLIENT_ID_DEVICE": LOCAL_CLIENT_ID,
            "AIGNOSTICS_STORAGE_ENDPOINT_URL": f"{lp.api_root}/storage",
            "AIGNOSTICS_BUCKET_PROTOCOL": "local",
        }
        for name, value in lp.env().items():
            monkeypatch.setenv(name, value)
        settings = get_settings(reload=True)
        assert settings.api_root == lp.api_root
        assert settings.token_url == f"{lp.api_root}/oauth/token"
        assert settings.audience == LOCAL_AUDIENCE
        token = httpx.post(settings.device_url or "", data={"client_id": "c"}).json()
        tokens = _poll(lp.api_root, token["device_code"]).json()
        claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
        assert claims["iss"] == settings.issuer
