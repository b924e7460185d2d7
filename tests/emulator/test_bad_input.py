"""Bad requests get clear errors and leave the server healthy."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.integration


def test_malformed_and_oversized_requests(api: Any) -> None:
    http = api.http
    malformed = http.post("/runs", content=b"{not json", headers={"Content-Type": "application/json"})
    assert malformed.status_code == 422
    assert malformed.json()["detail"][0]["type"] == "json_invalid"
    wrong = http.post("/runs", json={"application_id": ["x"], "items": [{"external_id": 1}]})
    assert wrong.status_code == 422
    assert {tuple(e["loc"][:2]) for e in wrong.json()["detail"]} >= {("body", "application_id"), ("body", "items")}
    assert (
        http.put(f"/runs/{'0' * 8}-0000-4000-8000-{'0' * 12}/custom-metadata", json={"custom_metadata": 5}).status_code
        == 422
    )

    huge = b'{"application_id": "' + b"x" * (11 * 1024 * 1024) + b'"}'
    too_big = http.post("/runs", content=huge, headers={"Content-Type": "application/json"})
    assert too_big.status_code == 413
    assert "too large" in too_big.json()["detail"]
    streamed = http.post(
        "/runs", content=iter([huge[:6_000_000], huge[6_000_000:]]), headers={"Content-Type": "application/json"}
    )
    assert streamed.status_code == 413

    unknown = http.get("/no/such/route")
    assert unknown.status_code == 404
    assert unknown.json() == {"detail": "Not Found"}
    assert http.delete("/me").status_code == 405
    assert http.get("/runs/123").status_code == 422
    assert http.get("/runs/00000000-0000-4000-8000-000000000000/items").status_code == 404
    assert http.get(f"/runs/{'0' * 8}-0000-4000-8000-{'0' * 12}/artifacts/nope/file").status_code == 422
    assert http.get("/applications/test-app/versions/latest").status_code == 422
    assert http.get("/applications/test-app/versions/9.9.9").status_code == 404
    assert http.get("/applications/test-app/versions/0.0.6/documents/nope.pdf").status_code == 404
    assert http.get("/applications/nope/versions/0.0.6/documents").status_code == 404

    assert httpx.get(f"{api.platform.api_root}/api/v1/health").json() == {"status": "UP"}
    assert api.run(api.submit_slides(1))["application_id"] == "test-app"
