"""Every one of the spec's 26 operations, called on a running local platform, answers what the spec says."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator, FormatChecker

from aignostics_jupyter.client import models
from aignostics_jupyter.emulator import EmulatorConfig, create_app

pytestmark = pytest.mark.integration

# The contract, as copied into the repository from the shared reference (tests/client/data/).
SPEC = json.loads(
    (Path(__file__).resolve().parents[1] / "client" / "data" / "platform-api-v1.7.0.openapi.json").read_text()
)


CLIENT_MODELS: dict[tuple[str, str], type[models.BaseModel]] = {
    ("GET", "/v1/applications"): models.ApplicationReadShortResponse,
    ("GET", "/v1/applications/{application_id}"): models.ApplicationReadResponse,
    ("GET", "/v1/applications/{application_id}/versions/{version}"): models.VersionReadResponse,
    ("GET", "/v1/applications/{application_id}/versions/{version}/documents"): models.VersionDocumentResponse,
    ("GET", "/v1/runs"): models.RunReadResponse,
    ("POST", "/v1/runs"): models.RunCreationResponse,
    ("GET", "/v1/runs/{run_id}"): models.RunReadResponse,
    ("GET", "/v1/runs/{run_id}/items"): models.ItemResultReadResponse,
    ("GET", "/v1/runs/{run_id}/items/{external_id}"): models.ItemResultReadResponse,
    ("PUT", "/v1/runs/{run_id}/custom-metadata"): models.CustomMetadataUpdateResponse,
    ("GET", "/v1/me"): models.MeReadResponse,
    ("POST", "/v1/access/grants"): models.GrantReadResponse,
    ("GET", "/v1/access/grants"): models.GrantReadResponse,
    ("POST", "/v1/access/share-tokens"): models.ShareTokenCreateResponse,
    ("GET", "/v1/access/share-tokens"): models.ShareTokenReadResponse,
}


def _spec_operations() -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, ops in SPEC["paths"].items() for method in ops}


class Walker:
    def __init__(self, http: httpx.Client) -> None:
        self.http = http
        self.seen: set[tuple[str, str]] = set()

    def call(self, method: str, template: str, expected: int, **kwargs: Any) -> httpx.Response:
        path = template.format(**kwargs.pop("path_params", {}))
        response = self.http.request(method, f"/api{path}", **kwargs)
        assert response.status_code == expected, f"{method} {path}: {response.status_code} {response.text}"
        operation = SPEC["paths"][template][method.lower()]
        content = operation["responses"][str(expected)].get("content", {}).get("application/json")
        if content is not None and content.get("schema"):
            schema = {**content["schema"], "components": SPEC["components"]}
            validator = Draft202012Validator(schema, format_checker=FormatChecker())
            errors = sorted(validator.iter_errors(response.json()), key=lambda e: list(e.path))
            assert not errors, f"{method} {template}: {[f'{list(e.path)}: {e.message}' for e in errors[:5]]}"
        self.seen.add((method, template))
        model = CLIENT_MODELS.get((method, template)) if expected < 300 else models.HTTPValidationError
        if model is not None and expected in (200, 201, 422):  # the client's wire models read it too
            body = response.json()
            for entry in body if isinstance(body, list) else [body]:
                model.model_validate(entry)
        return response


@pytest.mark.timeout(60)
def test_all_26_operations_answer_as_the_spec_says(api: Any) -> None:
    walker = Walker(httpx.Client(base_url=api.platform.api_root, headers=api.http.headers, timeout=20))
    app, version = "test-app", "0.0.6"

    walker.call("GET", "/v1/applications", 200, params={"page-size": 5})
    walker.call("GET", "/v1/applications", 422, params={"page-size": 4})
    walker.call("GET", "/v1/runs", 422, params={"sort": "colour"})
    walker.call("GET", "/v1/runs", 422, params={"custom_metadata": "$.a +"})
    walker.call("GET", "/v1/applications/{application_id}", 200, path_params={"application_id": app})
    walker.call(
        "GET",
        "/v1/applications/{application_id}/versions/{version}",
        200,
        path_params={"application_id": app, "version": version},
    )
    base = "/v1/applications/{application_id}/versions/{version}/documents"
    names = {"application_id": app, "version": version}
    documents = walker.call("GET", base, 200, path_params=names).json()
    assert {d["name"] for d in documents} == {"model_card.md", "output_description.pdf"}
    walker.call("GET", base + "/{name}", 200, path_params={**names, "name": "model_card.md"})
    file = walker.call("GET", base + "/{name}/file", 307, path_params={**names, "name": "output_description.pdf"})
    assert file.headers["content-disposition"] == 'attachment; filename="output_description.pdf"'
    pdf = httpx.get(file.headers["location"])
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF-")
    assert "attachment" in pdf.headers["content-disposition"]
    content = walker.call("GET", base + "/{name}/content", 307, path_params={**names, "name": "model_card.md"})
    markdown = httpx.get(content.headers["location"])
    assert markdown.headers["content-type"].startswith("text/markdown")
    assert b"Test Application" in markdown.content

    run_id = api.submit_slides(2, custom_metadata={"sdk": {"note": "walk"}})
    walker.call(
        "POST",
        "/v1/runs",
        201,
        json={"application_id": app, "items": [api.item("x", "http://127.0.0.1:9/x.tiff", b"")]},
    )
    assert api.wait(run_id)["state"] == "TERMINATED"
    walker.call("GET", "/v1/runs", 200, params={"page_size": 5})
    walker.call("GET", "/v1/runs/{run_id}", 200, path_params={"run_id": run_id})
    items = walker.call("GET", "/v1/runs/{run_id}/items", 200, path_params={"run_id": run_id}).json()
    walker.call(
        "GET", "/v1/runs/{run_id}/items/{external_id}", 200, path_params={"run_id": run_id, "external_id": "slide-0"}
    )
    artifact_id = items[0]["output_artifacts"][0]["output_artifact_id"]
    walker.call(
        "GET",
        "/v1/runs/{run_id}/artifacts/{artifact_id}/file",
        307,
        path_params={"run_id": run_id, "artifact_id": artifact_id},
    )
    walker.call(
        "PUT",
        "/v1/runs/{run_id}/custom-metadata",
        200,
        path_params={"run_id": run_id},
        json={"custom_metadata": {"a": 1}},
    )
    walker.call(
        "PUT",
        "/v1/runs/{run_id}/items/{external_id}/custom-metadata",
        200,
        path_params={"run_id": run_id, "external_id": "slide-1"},
        json={"custom_metadata": None},
    )
    walker.call("DELETE", "/v1/runs/{run_id}/artifacts", 200, path_params={"run_id": run_id})
    api.platform.services.runner.pause()
    queued = api.submit_slides(1)
    walker.call("POST", "/v1/runs/{run_id}/cancel", 202, path_params={"run_id": queued})
    api.platform.services.runner.resume()
    walker.call("GET", "/v1/me", 200)

    token = walker.call("POST", "/v1/access/share-tokens", 201, json={"expires_at": None}).json()
    walker.call("GET", "/v1/access/share-tokens", 200)
    walker.call(
        "GET", "/v1/access/share-tokens/{share_token_id}", 200, path_params={"share_token_id": token["share_token_id"]}
    )
    grant = walker.call(
        "POST",
        "/v1/access/grants",
        201,
        json={"resource_type": "run", "resource_id": run_id, "subject_type": "share_token",
              "subject_id": token["share_token_id"], "relation": "viewer"},
    ).json()  # fmt: skip
    walker.call("GET", "/v1/access/grants", 200)
    walker.call("GET", "/v1/access/grants/{grant_id}", 200, path_params={"grant_id": grant["grant_id"]})
    walker.call("DELETE", "/v1/access/grants/{grant_id}", 200, path_params={"grant_id": grant["grant_id"]})
    walker.call(
        "DELETE",
        "/v1/access/share-tokens/{share_token_id}",
        200,
        path_params={"share_token_id": token["share_token_id"]},
    )

    assert walker.seen == _spec_operations()
    assert len(walker.seen) == 26


def test_the_emulator_declares_every_operation_with_the_spec_parameters(tmp_path: Path) -> None:
    mine = create_app(EmulatorConfig(data_dir=tmp_path)).openapi()["paths"]
    for path, operations in SPEC["paths"].items():
        for method, operation in operations.items():
            declared = mine[f"/api{path}"][method]
            want = {(p["name"], p["in"]) for p in operation.get("parameters", [])}
            have = {(p["name"], p["in"]) for p in declared.get("parameters", [])}
            assert want == have, f"{method.upper()} {path}"
            if "requestBody" in operation:
                assert "requestBody" in declared, f"{method.upper()} {path}"


def test_every_operation_needs_a_token(api: Any) -> None:
    ids = {
        "application_id": "test-app",
        "version": "0.0.6",
        "name": "model_card.md",
        "run_id": "00000000-0000-4000-8000-000000000001",
        "external_id": "x",
        "artifact_id": "00000000-0000-4000-8000-000000000002",
        "grant_id": "00000000-0000-4000-8000-000000000003",
        "share_token_id": "00000000-0000-4000-8000-000000000004",
    }
    anonymous = httpx.Client(base_url=f"{api.platform.api_root}/api")
    for method, path in sorted(_spec_operations()):
        body = {} if method in ("POST", "PUT") else None
        response = anonymous.request(method, path.format(**ids), json=body)
        assert response.status_code == 401, f"{method} {path}: {response.status_code}"
        assert isinstance(response.json()["detail"], str)
