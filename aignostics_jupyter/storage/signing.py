r"""Signed URLs for the local platform's buckets: HMAC-SHA256 over method, object and expiry.

The real platform's bucket is reached through an S3-compatible API with the organization's HMAC key pair from
``GET /v1/me``. The local platform keeps one bucket per organization on disk and serves it over HTTP at
``{api_root}/storage/{bucket}``; ``/v1/me`` reports its ``aignostics_bucket_protocol`` as ``"http"`` (or
``"https"``) and the same kind of HMAC key pair. Whoever holds the secret signs URLs locally, exactly as S3
presigning works, and the local platform verifies them.

A signed URL carries three query parameters::

    X-Aig-Credential = <access key id>
    X-Aig-Expires    = <unix seconds>
    X-Aig-Signature  = hex(HMAC-SHA256(secret, "<METHOD>\\n/<bucket>/<key>\\n<expires>"))

``METHOD`` is ``GET``, ``HEAD`` (signed as ``GET``), ``PUT`` or ``DELETE`` for one object, and ``LIST`` for a
listing, where ``<key>`` is the prefix (the listing URL is ``…/storage/<bucket>?prefix=<prefix>&…``).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from urllib.parse import quote, urlencode

__all__ = [
    "CREDENTIAL_PARAM",
    "EXPIRES_PARAM",
    "SIGNATURE_PARAM",
    "SignatureError",
    "sign_url",
    "signature",
    "verify",
]

CREDENTIAL_PARAM = "X-Aig-Credential"
EXPIRES_PARAM = "X-Aig-Expires"
SIGNATURE_PARAM = "X-Aig-Signature"
_METHODS = frozenset({"GET", "PUT", "DELETE", "LIST"})


class SignatureError(ValueError):
    """A signed URL is missing a parameter, has expired, or its signature does not match."""


def _canonical_method(method: str) -> str:
    method = method.upper()
    method = "GET" if method == "HEAD" else method
    if method not in _METHODS:
        msg = f"cannot sign method {method!r}; use GET, HEAD, PUT, DELETE or LIST"
        raise ValueError(msg)
    return method


def signature(secret: str, method: str, bucket: str, key: str, expires: int) -> str:
    """Compute the hex signature of one request.

    Args:
        secret: The HMAC secret access key.
        method: GET, HEAD, PUT, DELETE or LIST.
        bucket: The bucket name.
        key: The object key (for LIST: the prefix).
        expires: Expiry as unix seconds.

    Returns:
        The lowercase hex HMAC-SHA256.
    """
    message = f"{_canonical_method(method)}\n/{bucket}/{key}\n{int(expires)}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign_url(
    base_url: str,
    bucket: str,
    key: str,
    *,
    method: str,
    access_key_id: str,
    secret: str,
    expires_in: float,
    now: float | None = None,
) -> str:
    """Build a signed URL for one object (or, with ``method="LIST"``, a listing of a prefix).

    Args:
        base_url: The storage root, e.g. ``http://127.0.0.1:8123/storage``.
        bucket: The bucket name.
        key: The object key (for LIST: the prefix, may be empty).
        method: GET, HEAD, PUT, DELETE or LIST.
        access_key_id: The HMAC access key id.
        secret: The HMAC secret.
        expires_in: Lifetime in seconds.
        now: The current unix time (injectable for tests).

    Returns:
        The absolute signed URL.

    Example:
        >>> sign_url("http://h/storage", "b", "a/x.svs", method="GET", access_key_id="k", secret="s",
        ...          expires_in=60, now=0)  # doctest: +ELLIPSIS
        'http://h/storage/b/a/x.svs?X-Aig-Credential=k&X-Aig-Expires=60&X-Aig-Signature=...'
    """
    expires = int((time.time() if now is None else now) + expires_in)
    sig = signature(secret, method, bucket, key, expires)
    params = {CREDENTIAL_PARAM: access_key_id, EXPIRES_PARAM: str(expires), SIGNATURE_PARAM: sig}
    root = base_url.rstrip("/")
    if _canonical_method(method) == "LIST":
        return f"{root}/{quote(bucket)}?{urlencode({'prefix': key, **params})}"
    return f"{root}/{quote(bucket)}/{quote(key)}?{urlencode(params)}"


def verify(
    params: Mapping[str, str],
    *,
    method: str,
    bucket: str,
    key: str,
    secrets: Mapping[str, str],
    now: float | None = None,
) -> str:
    """Check a signed request's query parameters.

    Args:
        params: The request's query parameters.
        method: The request's method (HEAD is checked as GET).
        bucket: The bucket addressed.
        key: The object key (for LIST: the prefix).
        secrets: Access key id to secret, for the keys allowed on this bucket.
        now: The current unix time (injectable for tests).

    Returns:
        The access key id that signed the request.

    Raises:
        SignatureError: When a parameter is missing, the URL expired, or the signature does not match.
    """
    try:
        credential = params[CREDENTIAL_PARAM]
        expires = int(params[EXPIRES_PARAM])
        given = params[SIGNATURE_PARAM]
    except (KeyError, ValueError) as exc:
        msg = "the URL is not signed (missing or malformed X-Aig-* parameters)"
        raise SignatureError(msg) from exc
    if expires < (time.time() if now is None else now):
        msg = "the signed URL has expired"
        raise SignatureError(msg)
    secret = secrets.get(credential)
    if secret is None:
        msg = "the signing key is not valid for this bucket"
        raise SignatureError(msg)
    expected = signature(secret, method, bucket, key, expires)
    if not hmac.compare_digest(expected, given):
        msg = "the URL's signature does not match"
        raise SignatureError(msg)
    return credential
