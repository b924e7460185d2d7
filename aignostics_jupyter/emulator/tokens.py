"""RS256 access tokens of the local platform's identity provider, and its JWKS.

The RSA key pair is created once per data dir and kept as PEM (mode 0600) under ``{data_dir}/keys``; the key id
is derived from the public key, so tokens minted before a restart stay valid after it.
"""

from __future__ import annotations

import base64
import hashlib
import os
import time
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from aignostics_jupyter.emulator.identity import Principal
from aignostics_jupyter.settings import LOCAL_AUDIENCE, LOCAL_CLIENT_ID

__all__ = ["TokenError", "TokenService"]


class TokenError(ValueError):
    """An access token is malformed, forged, expired or meant for another audience."""


def _b64(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _load_or_create_key(path: Path) -> rsa.RSAPrivateKey:
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, rsa.RSAPrivateKey):  # pragma: no cover - only we write this file
            msg = f"{path} does not hold an RSA private key"
            raise TypeError(msg)
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as stream:
        stream.write(pem)
    os.replace(tmp, path)
    return key


class TokenService:
    """Mint and verify the local platform's RS256 access tokens.

    Args:
        key_dir: Where the PEM key pair lives (created when missing).
        audience: The ``aud`` claim.
        lifetime: Access token lifetime in seconds.
    """

    def __init__(self, key_dir: Path, *, audience: str = LOCAL_AUDIENCE, lifetime: int = 3600) -> None:
        self._key = _load_or_create_key(key_dir / "signing_key.pem")
        public = self._key.public_key()
        der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        self.kid = hashlib.sha256(der).hexdigest()[:16]
        self._public = public
        self.audience = audience
        self.lifetime = lifetime
        self._verified: dict[str, dict[str, Any]] = {}  # token -> claims: signature checks cost ~0.3 ms

    def jwks(self) -> dict[str, Any]:
        """The JSON Web Key Set publishing the public key."""
        numbers = self._public.public_numbers()
        key = {"kty": "RSA", "use": "sig", "alg": "RS256", "kid": self.kid, "n": _b64(numbers.n), "e": _b64(numbers.e)}
        return {"keys": [key]}

    def mint(
        self,
        principal: Principal,
        *,
        issuer: str,
        scope: str = "openid profile email offline_access",
        client_id: str = LOCAL_CLIENT_ID,
        lifetime: int | None = None,
        now: float | None = None,
    ) -> str:
        """Mint an access token for a user.

        Args:
            principal: The user.
            issuer: The ``iss`` claim, ``scheme://host/`` of the authorize URL.
            scope: Space-separated scopes.
            client_id: The ``azp`` claim.
            lifetime: Seconds until expiry (default: the service's lifetime).
            now: Issue time (unix seconds; injectable for tests).

        Returns:
            The compact JWT.
        """
        issued = int(time.time() if now is None else now)
        claims = {
            "iss": issuer,
            "sub": principal.user_id,
            "aud": [self.audience, f"{issuer}userinfo"],
            "iat": issued,
            "exp": issued + (self.lifetime if lifetime is None else lifetime),
            "scope": scope,
            "azp": client_id,
            "org_id": principal.org_id,
            f"{self.audience}/role": principal.role,
        }
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self.kid})

    def verify(self, token: str) -> dict[str, Any]:
        """Check a token's signature, audience and expiry.

        Args:
            token: The compact JWT.

        Returns:
            Its claims.

        Raises:
            TokenError: With a short reason when the token is not acceptable.
        """
        cached = self._verified.get(token)
        if cached is not None and cached["exp"] > time.time():
            return cached
        try:
            header = jwt.get_unverified_header(token)
            if header.get("kid") not in (None, self.kid):
                msg = "the token was signed with an unknown key"
                raise TokenError(msg)
            claims: dict[str, Any] = jwt.decode(
                token,
                self._public,
                algorithms=["RS256"],
                audience=self.audience,
                options={"require": ["exp", "sub", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError as exc:
            msg = "the access token has expired"
            raise TokenError(msg) from exc
        except jwt.InvalidTokenError as exc:
            msg = f"the access token is invalid ({type(exc).__name__})"
            raise TokenError(msg) from exc
        if len(self._verified) >= 4096:
            self._verified.clear()
        self._verified[token] = claims
        return claims
