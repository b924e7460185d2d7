"""The models match the OpenAPI contract: field sets, required sets, types, formats, enums and constraints."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from aignostics_jupyter.client import models

pytestmark = pytest.mark.unit

SPEC_PATH = Path(__file__).parent / "data" / "platform-api-v1.7.0.openapi.json"


def _spec() -> dict[str, Any]:
    return json.loads(SPEC_PATH.read_text())["components"]["schemas"]  # type: ignore[no-any-return]


SCHEMAS = _spec()
_IGNORED = {"description", "examples", "title", "default", "deprecated", "readOnly"}


def _norm(node: Any) -> Any:
    """Drop prose and defaults; reduce $refs to the schema name; an open object is just an object."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key in _IGNORED or (key == "additionalProperties" and value is True):
                continue
            out[key] = value.rsplit("/", 1)[-1] if key == "$ref" else _norm(value)
        return out
    if isinstance(node, list):
        return [_norm(x) for x in node]
    return node


OBJECTS = sorted(name for name, s in SCHEMAS.items() if "enum" not in s)
ENUMS = sorted(name for name, s in SCHEMAS.items() if "enum" in s)


def test_every_schema_has_a_model() -> None:
    missing = [name for name in SCHEMAS if not hasattr(models, name)]
    assert missing == []
    assert set(SCHEMAS) <= set(models.__all__)


@pytest.mark.parametrize("name", ENUMS)
def test_enum_values_match(name: str) -> None:
    enum = getattr(models, name)
    assert [member.value for member in enum] == SCHEMAS[name]["enum"]
    assert all(isinstance(member, str) for member in enum)


@pytest.mark.parametrize("name", OBJECTS)
def test_fields_and_required_match(name: str) -> None:
    model: type[BaseModel] = getattr(models, name)
    schema = SCHEMAS[name]
    fields = {f.alias or n for n, f in model.model_fields.items()}
    required = {f.alias or n for n, f in model.model_fields.items() if f.is_required()}
    assert fields == set(schema["properties"])
    assert required == set(schema.get("required", []))


@pytest.mark.parametrize("name", OBJECTS)
def test_property_types_formats_and_constraints_match(name: str) -> None:
    model: type[BaseModel] = getattr(models, name)
    mine = model.model_json_schema(ref_template="#/components/schemas/{model}")["properties"]
    for prop, spec_prop in SCHEMAS[name]["properties"].items():
        assert _norm(mine[prop]) == _norm(spec_prop), f"{name}.{prop}"


def test_unknown_fields_are_ignored() -> None:
    version = models.ApplicationVersion.model_validate(
        {"number": "1.0.0-beta.8", "released_at": "2025-09-15T10:30:45.123Z", "new_field": 1}
    )
    assert version.number == "1.0.0-beta.8"
    assert not hasattr(version, "new_field")


@pytest.mark.parametrize("number", ["1.0", "01.0.0", "v1.0.0", "1.0.0-"])
def test_semver_pattern_rejects_bad_versions(number: str) -> None:
    with pytest.raises(PydanticValidationError):
        models.ApplicationVersion.model_validate({"number": number, "released_at": "2025-01-01T00:00:00Z"})


@pytest.mark.parametrize("number", ["1.0.0", "1.0.0-beta.8", "1.0.0-sl+4", "0.99.0"])
def test_semver_pattern_accepts_platform_versions(number: str) -> None:
    version = models.ApplicationVersion.model_validate({"number": number, "released_at": "2025-01-01T00:00:00Z"})
    assert version.number == number


def test_run_creation_request_needs_an_item_and_short_external_ids() -> None:
    with pytest.raises(PydanticValidationError):
        models.RunCreationRequest.model_validate({"application_id": "he-tme", "items": []})
    with pytest.raises(PydanticValidationError):
        models.ItemCreationRequest.model_validate({"external_id": "x" * 256, "input_artifacts": []})


def test_mime_type_pattern() -> None:
    ok = models.InputArtifact.model_validate({"name": "a", "mime_type": "image/tiff", "metadata_schema": {}})
    assert ok.mime_type == "image/tiff"
    with pytest.raises(PydanticValidationError):
        models.InputArtifact.model_validate({"name": "a", "mime_type": "tiff", "metadata_schema": {}})


def test_download_url_is_echoed_verbatim() -> None:
    url = "http://127.0.0.1:9/storage/b/k.tiff?X-Aig-Signature=abc&X-Aig-Expires=1"
    artifact = models.InputArtifactCreationRequest(name="whole_slide_image", download_url=url, metadata={})
    assert artifact.model_dump(mode="json")["download_url"] == url


def test_required_nullable_fields_accept_none_but_must_be_present() -> None:
    body = {"custom_metadata_checksum": None}
    assert models.CustomMetadataUpdateResponse.model_validate(body).custom_metadata_checksum is None
    with pytest.raises(PydanticValidationError):
        models.CustomMetadataUpdateResponse.model_validate({})


def test_secrets_are_not_in_reprs() -> None:
    org = models.OrganizationReadResponse(
        id="org_1",
        aignostics_bucket_hmac_access_key_id="AKID",
        aignostics_bucket_hmac_secret_access_key="very-secret",
        aignostics_bucket_name="b",
        aignostics_bucket_protocol="gs",
        aignostics_logfire_token="logfire-secret",
        aignostics_sentry_dsn="https://dsn",
    )
    token = models.ShareTokenCreateResponse.model_validate(
        {
            "share_token_id": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
            "share_token": "share-secret",
            "created_at": "2025-01-01T00:00:00Z",
            "expires_at": None,
            "revoked": False,
        }
    )
    assert "very-secret" not in repr(org)
    assert "logfire-secret" not in repr(org)
    assert "share-secret" not in repr(token)
    assert org.aignostics_bucket_hmac_secret_access_key == "very-secret"
