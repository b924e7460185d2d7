"""The local identity provider: device flow (RFC 8628), authorization code + PKCE, rotating refresh tokens, JWKS.

Endpoints (same origin as the API, as :func:`aignostics_jupyter.settings.auth_endpoints_for` derives them):

- ``POST /oauth/device/code``: device_code, user_code, verification_uri(_complete), expires_in, interval;
- ``GET/POST /activate``: the page where the local user approves or denies a user code;
- ``GET/POST /authorize``: authorization code requests (PKCE S256), redirected straight back with auto-approve;
- ``POST /oauth/token``: grants ``urn:ietf:params:oauth:grant-type:device_code``, ``refresh_token`` (rotating:
  each refresh token works once; reusing one fails with ``invalid_grant`` and revokes its whole family) and
  ``authorization_code``; errors are RFC 6749 ``{"error", "error_description"}`` bodies with status 400;
- ``GET /.well-known/jwks.json`` and ``GET /.well-known/openid-configuration``.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import time
import uuid
from typing import Any
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from aignostics_jupyter.emulator.auth import api_base, issuer_for, services_of
from aignostics_jupyter.emulator.db import Database
from aignostics_jupyter.emulator.identity import ADMIN_USER_ID, Principal, get_principal
from aignostics_jupyter.emulator.services import Services

__all__ = ["DEVICE_GRANT", "issue_refresh_token", "router"]

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
_DEFAULT_SCOPE = "openid profile email offline_access"
_USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"

router = APIRouter(include_in_schema=False)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _error(error: str, description: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


async def _form(request: Request) -> dict[str, str]:
    body = (await request.body()).decode("utf-8", "replace")
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            data = json.loads(body or "{}")
        except json.JSONDecodeError:
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}
    return dict(parse_qsl(body, keep_blank_values=True))


def issue_refresh_token(db: Database, user_id: str, client_id: str, scope: str, *, lifetime: int, family: str) -> str:
    """Create and store a refresh token (only its hash is kept).

    Returns:
        The refresh token secret.
    """
    token = f"lprt_{secrets.token_urlsafe(40)}"
    now = time.time()
    db.execute(
        "INSERT INTO refresh_tokens VALUES (?, ?, ?, ?, ?, ?, ?, 0)",
        (_hash(token), user_id, client_id, scope, family, now, now + lifetime),
    )
    return token


def _token_response(request: Request, principal: Principal, client_id: str, scope: str, family: str) -> JSONResponse:
    services = services_of(request)
    access = services.tokens.mint(principal, issuer=issuer_for(request), scope=scope, client_id=client_id)
    body: dict[str, Any] = {
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": services.config.token_lifetime,
        "scope": scope,
    }
    body["refresh_token"] = issue_refresh_token(
        services.db, principal.user_id, client_id, scope, lifetime=services.config.refresh_token_lifetime, family=family
    )
    return JSONResponse(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


@router.get("/.well-known/jwks.json")
def jwks(request: Request) -> JSONResponse:
    """The public signing keys."""
    return JSONResponse(services_of(request).tokens.jwks())


@router.get("/.well-known/openid-configuration")
def openid_configuration(request: Request) -> JSONResponse:
    """Discovery document of the local identity provider."""
    base = api_base(request)
    return JSONResponse(
        {
            "issuer": issuer_for(request),
            "authorization_endpoint": f"{base}/authorize",
            "token_endpoint": f"{base}/oauth/token",
            "device_authorization_endpoint": f"{base}/oauth/device/code",
            "jwks_uri": f"{base}/.well-known/jwks.json",
            "grant_types_supported": ["authorization_code", "refresh_token", DEVICE_GRANT],
            "code_challenge_methods_supported": ["S256"],
            "id_token_signing_alg_values_supported": ["RS256"],
        }
    )


@router.post("/oauth/device/code")
async def device_code(request: Request) -> JSONResponse:
    """Start a device authorization (RFC 8628 §3.1-3.2)."""
    services = services_of(request)
    form = await _form(request)
    client_id = form.get("client_id", "")
    if not client_id:
        return _error("invalid_request", "client_id is required")
    config = services.config
    code = secrets.token_urlsafe(32)
    user_code = "".join(secrets.choice(_USER_CODE_ALPHABET) for _ in range(8))
    user_code = f"{user_code[:4]}-{user_code[4:]}"
    approved = config.auto_approve
    services.db.execute(
        "INSERT INTO device_codes VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)",
        (
            _hash(code),
            user_code,
            client_id,
            form.get("scope") or _DEFAULT_SCOPE,
            "approved" if approved else "pending",
            ADMIN_USER_ID if approved else None,
            time.time() + config.device_code_lifetime,
            config.device_poll_interval,
        ),
    )
    base = api_base(request)
    return JSONResponse(
        {
            "device_code": code,
            "user_code": user_code,
            "verification_uri": f"{base}/activate",
            "verification_uri_complete": f"{base}/activate?{urlencode({'user_code': user_code})}",
            "expires_in": config.device_code_lifetime,
            "interval": config.device_poll_interval,
        }
    )


def _device_grant(request: Request, services: Services, form: dict[str, str]) -> JSONResponse:
    code_hash = _hash(form.get("device_code", ""))
    with services.db.transaction() as conn:
        row = conn.execute("SELECT * FROM device_codes WHERE device_code_hash = ?", (code_hash,)).fetchone()
        if row is None or row["status"] == "consumed":
            return _error("invalid_grant", "unknown or already used device_code")
        now = time.time()
        if now > row["expires_at"]:
            return _error("expired_token", "the device code has expired; start the login again")
        if row["status"] == "denied":
            return _error("access_denied", "the user denied the request")
        if row["status"] == "pending":
            too_fast = row["last_poll"] is not None and now - row["last_poll"] < row["interval"]
            interval = row["interval"] + 5 if too_fast else row["interval"]
            conn.execute(
                "UPDATE device_codes SET last_poll = ?, interval = ? WHERE device_code_hash = ?",
                (now, interval, code_hash),
            )
            if too_fast:
                return _error("slow_down", f"polling too fast; wait {interval} s between requests")
            return _error("authorization_pending", "the user has not approved the request yet")
        conn.execute("UPDATE device_codes SET status = 'consumed' WHERE device_code_hash = ?", (code_hash,))
    principal = get_principal(services.db, row["user_id"])
    if principal is None:  # pragma: no cover - users are never deleted
        return _error("invalid_grant", "the approving user no longer exists")
    return _token_response(request, principal, row["client_id"], row["scope"], uuid.uuid4().hex)


def _refresh_grant(request: Request, services: Services, form: dict[str, str]) -> JSONResponse:
    token_hash = _hash(form.get("refresh_token", ""))
    with services.db.transaction() as conn:
        row = conn.execute("SELECT * FROM refresh_tokens WHERE token_hash = ?", (token_hash,)).fetchone()
        if row is None:
            return _error("invalid_grant", "unknown refresh token")
        if row["used"]:
            # Reuse of a rotated token: someone may have stolen it, so the whole family is revoked.
            conn.execute("UPDATE refresh_tokens SET used = 1 WHERE family = ?", (row["family"],))
            return _error("invalid_grant", "the refresh token was already used (refresh tokens rotate)")
        if time.time() > row["expires_at"]:
            return _error("invalid_grant", "the refresh token has expired")
        conn.execute("UPDATE refresh_tokens SET used = 1 WHERE token_hash = ?", (token_hash,))
    principal = get_principal(services.db, row["user_id"])
    if principal is None:  # pragma: no cover
        return _error("invalid_grant", "the token's user no longer exists")
    scope = row["scope"]
    return _token_response(request, principal, form.get("client_id") or row["client_id"], scope, row["family"])


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def _code_grant(request: Request, services: Services, form: dict[str, str]) -> JSONResponse:
    code_hash = _hash(form.get("code", ""))
    with services.db.transaction() as conn:
        row = conn.execute("SELECT * FROM auth_codes WHERE code_hash = ?", (code_hash,)).fetchone()
        if row is None or row["used"] or time.time() > row["expires_at"]:
            return _error("invalid_grant", "unknown, expired or already used authorization code")
        conn.execute("UPDATE auth_codes SET used = 1 WHERE code_hash = ?", (code_hash,))
    if form.get("redirect_uri") and form["redirect_uri"] != row["redirect_uri"]:
        return _error("invalid_grant", "redirect_uri does not match the authorization request")
    if row["code_challenge"]:
        verifier = form.get("code_verifier", "")
        if not verifier or _s256(verifier) != row["code_challenge"]:
            return _error("invalid_grant", "the PKCE code_verifier does not match the code_challenge")
    principal = get_principal(services.db, row["user_id"])
    if principal is None:  # pragma: no cover
        return _error("invalid_grant", "the user no longer exists")
    return _token_response(request, principal, row["client_id"], row["scope"], uuid.uuid4().hex)


@router.post("/oauth/token")
async def token(request: Request) -> JSONResponse:
    """Exchange a device code, refresh token or authorization code for tokens."""
    services = services_of(request)
    form = await _form(request)
    grant_type = form.get("grant_type", "")
    if grant_type == DEVICE_GRANT:
        return _device_grant(request, services, form)
    if grant_type == "refresh_token":
        return _refresh_grant(request, services, form)
    if grant_type == "authorization_code":
        return _code_grant(request, services, form)
    return _error("unsupported_grant_type", f"grant_type {grant_type!r} is not supported")


# ------------------------------------------------------------------------------------------------ the HTML pages

_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;max-width:32rem;margin:3rem auto}}button{{margin-right:.5rem}}</style>
</head><body><h1>{title}</h1>{body}</body></html>"""


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(_PAGE.format(title=html.escape(title), body=body), status_code=status)


def _user_select(services: Services) -> str:
    rows = services.db.all("SELECT user_id, email, role FROM users ORDER BY user_id")
    options = "".join(
        f'<option value="{html.escape(r["user_id"])}"{" selected" if r["user_id"] == ADMIN_USER_ID else ""}>'
        f"{html.escape(r['email'] or r['user_id'])} ({html.escape(r['role'])})</option>"
        for r in rows
    )
    return f'<p><label>Sign in as <select name="user_id">{options}</select></label></p>'


@router.get("/activate")
def activate_form(request: Request, user_code: str = "") -> HTMLResponse:
    """The device verification page."""
    body = (
        '<form method="post" action="activate"><p><label>Code shown on your device '
        f'<input name="user_code" value="{html.escape(user_code)}" autocomplete="off"></label></p>'
        f"{_user_select(services_of(request))}"
        '<button name="action" value="approve">Approve</button>'
        '<button name="action" value="deny">Deny</button></form>'
    )
    return _page("Aignostics local platform: device login", body)


@router.post("/activate")
async def activate(request: Request) -> HTMLResponse:
    """Approve or deny a device's user code."""
    services = services_of(request)
    form = await _form(request)
    user_code = form.get("user_code", "").strip().upper()
    action = form.get("action", "approve")
    user_id = form.get("user_id") or ADMIN_USER_ID
    if get_principal(services.db, user_id) is None:
        return _page("Unknown user", "<p>That user does not exist.</p>", 400)
    row = services.db.one("SELECT * FROM device_codes WHERE user_code = ?", (user_code,))
    if row is None or row["status"] != "pending" or time.time() > row["expires_at"]:
        return _page("Code not valid", "<p>The code is unknown, expired or already used.</p>", 400)
    status = "approved" if action == "approve" else "denied"
    services.db.execute(
        "UPDATE device_codes SET status = ?, user_id = ? WHERE user_code = ?", (status, user_id, user_code)
    )
    message = "Your device is now logged in; you can close this page." if status == "approved" else "Login denied."
    return _page("Device " + status, f"<p>{message}</p>")


def _authorize_redirect(services: Services, params: dict[str, str], user_id: str) -> RedirectResponse:
    code = secrets.token_urlsafe(32)
    services.db.execute(
        "INSERT INTO auth_codes VALUES (?, ?, ?, ?, ?, ?, ?, 0)",
        (
            _hash(code),
            params.get("client_id", ""),
            params["redirect_uri"],
            params.get("code_challenge") or None,
            params.get("scope") or _DEFAULT_SCOPE,
            user_id,
            time.time() + 300,
        ),
    )
    query = {"code": code, **({"state": params["state"]} if params.get("state") else {})}
    separator = "&" if "?" in params["redirect_uri"] else "?"
    return RedirectResponse(f"{params['redirect_uri']}{separator}{urlencode(query)}", status_code=302)


def _check_authorize(params: dict[str, str]) -> str | None:
    if not params.get("redirect_uri") or not params.get("client_id"):
        return "client_id and redirect_uri are required"
    if params.get("response_type", "code") != "code":
        return "only response_type=code is supported"
    if params.get("code_challenge_method", "S256") != "S256":
        return "only the S256 code_challenge_method is supported"
    return None


_AUTHORIZE_FIELDS = ("client_id", "redirect_uri", "state", "code_challenge", "code_challenge_method", "scope")


@router.get("/authorize", response_model=None)
def authorize(request: Request) -> HTMLResponse | RedirectResponse:
    """Start an authorization code request: consent page, or straight back with auto-approve."""
    services = services_of(request)
    params = dict(request.query_params)
    problem = _check_authorize(params)
    if problem:
        return _page("Invalid request", f"<p>{html.escape(problem)}</p>", 400)
    if services.config.auto_approve:
        return _authorize_redirect(services, params, ADMIN_USER_ID)
    hidden = "".join(
        f'<input type="hidden" name="{k}" value="{html.escape(params[k])}">' for k in _AUTHORIZE_FIELDS if k in params
    )
    body = (
        f'<form method="post" action="authorize"><p>{html.escape(params["client_id"])} asks to use the local '
        f"platform on your behalf.</p>{hidden}{_user_select(services)}"
        '<button name="action" value="approve">Approve</button>'
        '<button name="action" value="deny">Deny</button></form>'
    )
    return _page("Aignostics local platform: sign in", body)


@router.post("/authorize", response_model=None)
async def authorize_decision(request: Request) -> HTMLResponse | RedirectResponse:
    """The consent page's answer."""
    services = services_of(request)
    form = await _form(request)
    problem = _check_authorize(form)
    if problem:
        return _page("Invalid request", f"<p>{html.escape(problem)}</p>", 400)
    if form.get("action") != "approve":
        query = {"error": "access_denied", **({"state": form["state"]} if form.get("state") else {})}
        separator = "&" if "?" in form["redirect_uri"] else "?"
        return RedirectResponse(f"{form['redirect_uri']}{separator}{urlencode(query)}", status_code=302)
    user_id = form.get("user_id") or ADMIN_USER_ID
    if get_principal(services.db, user_id) is None:
        return _page("Unknown user", "<p>That user does not exist.</p>", 400)
    return _authorize_redirect(services, form, user_id)
