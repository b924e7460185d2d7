from __future__ import annotations

import pytest

from aignostics_jupyter.exceptions import (
    AignosticsError,
    AuthenticationError,
    ConflictError,
    GoneError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    PreconditionFailedError,
    RetryableError,
    ServerError,
    error_for_status,
    redact,
)

pytestmark = pytest.mark.unit

JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhdXRoMHwxIn0.c2lnbmF0dXJlLWJ5dGVz"


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, InvalidInputError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (410, GoneError),
        (412, PreconditionFailedError),
        (422, InvalidInputError),
        (500, ServerError),
        (503, ServerError),
        (418, AignosticsError),
    ],
)
def test_error_for_status_picks_the_class(status: int, cls: type[AignosticsError]) -> None:
    error = error_for_status(status, "boom")

    assert type(error) is cls
    assert error.status_code == status
    assert error.message == "boom"


def test_branches_say_what_the_caller_can_do() -> None:
    assert issubclass(GoneError, NotFoundError)
    assert issubclass(PreconditionFailedError, ConflictError)
    assert issubclass(ServerError, RetryableError)
    assert issubclass(InvalidInputError, ValueError)


def test_fastapi_validation_detail_becomes_one_sentence() -> None:
    detail = [
        {"loc": ["body", "items", 0, "external_id"], "msg": "Field required", "type": "missing"},
        {"loc": ["query", "page_size"], "msg": "Input should be less than or equal to 100", "type": "le"},
    ]

    error = error_for_status(422, detail, context="POST /v1/runs")

    assert error.message == (
        "POST /v1/runs: items.0.external_id: Field required; query.page_size: Input should be less than or equal to 100"
    )
    assert error.detail == detail


def test_missing_detail_names_the_status() -> None:
    assert error_for_status(502, None).message == "HTTP 502"
    assert error_for_status(404, {"message": "no such run"}).message == "no such run"
    assert error_for_status(400, ["plain"]).message == "plain"


def test_messages_never_hold_tokens() -> None:
    error = AuthenticationError(f"token {JWT} rejected; header Bearer abc.def-ghi; url ?share_token=s3cr3t&x=1")

    assert JWT not in error.message
    assert "abc.def-ghi" not in error.message
    assert "s3cr3t" not in error.message
    assert "x=1" in error.message
    assert JWT not in repr(error)
    assert JWT not in str(error)


def test_redact_keeps_ordinary_text() -> None:
    text = "Run 3f1c not found (404)"

    assert redact(text) == text
    assert redact("X-Aig-Signature=abcdef&X-Aig-Expires=1") == "X-Aig-Signature=***&X-Aig-Expires=1"
