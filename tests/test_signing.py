from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest

from aignostics_jupyter.storage.signing import SignatureError, sign_url, signature, verify

pytestmark = pytest.mark.unit

SECRETS = {"key-1": "secret-1"}


def _params(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


def test_round_trip_and_head_signed_as_get() -> None:
    url = sign_url(
        "http://h/storage/",
        "b",
        "dir/ä x.svs",
        method="GET",
        access_key_id="key-1",
        secret="secret-1",
        expires_in=60,
        now=1000,
    )

    assert urlsplit(url).path == "/storage/b/dir/%C3%A4%20x.svs"
    assert verify(_params(url), method="HEAD", bucket="b", key="dir/ä x.svs", secrets=SECRETS, now=1000) == "key-1"


def test_list_url_carries_prefix() -> None:
    url = sign_url(
        "http://h/storage",
        "b",
        "inputs/",
        method="LIST",
        access_key_id="key-1",
        secret="secret-1",
        expires_in=60,
        now=0,
    )

    assert _params(url)["prefix"] == "inputs/"
    assert verify(_params(url), method="LIST", bucket="b", key="inputs/", secrets=SECRETS, now=0) == "key-1"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"X-Aig-Signature": "0" * 64}, "does not match"),
        ({"X-Aig-Expires": "999999"}, "does not match"),
        ({"X-Aig-Credential": "other"}, "not valid for this bucket"),
        ({"X-Aig-Expires": "x"}, "not signed"),
    ],
)
def test_tampered_urls_are_refused(change: dict[str, str], message: str) -> None:
    params = _params(
        sign_url("http://h/s", "b", "k", method="PUT", access_key_id="key-1", secret="secret-1", expires_in=60, now=0)
    )
    params.update(change)

    with pytest.raises(SignatureError, match=message):
        verify(params, method="PUT", bucket="b", key="k", secrets=SECRETS, now=0)


def test_other_method_key_or_bucket_is_refused() -> None:
    params = _params(
        sign_url("http://h/s", "b", "k", method="GET", access_key_id="key-1", secret="secret-1", expires_in=60, now=0)
    )

    for method, bucket, key in (("PUT", "b", "k"), ("GET", "b2", "k"), ("GET", "b", "k2")):
        with pytest.raises(SignatureError):
            verify(params, method=method, bucket=bucket, key=key, secrets=SECRETS, now=0)


def test_expired_url_is_refused() -> None:
    params = _params(
        sign_url("http://h/s", "b", "k", method="GET", access_key_id="key-1", secret="secret-1", expires_in=60, now=0)
    )

    with pytest.raises(SignatureError, match="expired"):
        verify(params, method="GET", bucket="b", key="k", secrets=SECRETS, now=61)


def test_missing_parameters_are_refused() -> None:
    with pytest.raises(SignatureError, match="not signed"):
        verify({}, method="GET", bucket="b", key="k", secrets=SECRETS)


def test_unknown_method_cannot_be_signed() -> None:
    with pytest.raises(ValueError, match="cannot sign method 'POST'"):
        signature("s", "POST", "b", "k", 1)
