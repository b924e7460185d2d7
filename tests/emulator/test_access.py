"""Grants and share tokens: viewer grants, share-token access to a run, secrets shown once, revocation."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from aignostics_jupyter.emulator import MEMBER_USER_ID, PARTNER_USER_ID

pytestmark = pytest.mark.integration


def _grant(
    api: Any, resource_id: str, subject_type: str, subject_id: str | None = None, **extra: Any
) -> httpx.Response:
    body = {"resource_type": "run", "resource_id": resource_id, "subject_type": subject_type, "relation": "viewer"}
    if subject_id is not None:
        body["subject_id"] = subject_id
    body.update(extra)
    return api.http.post("/access/grants", json=body)


def test_share_token_gives_read_access_to_one_run(api: Any) -> None:
    run_id = api.submit_slides(1)
    api.wait(run_id)
    other_run = api.submit_slides(1)
    created = api.http.post("/access/share-tokens", json={})
    assert created.status_code == 201
    token = created.json()
    secret = token["share_token"]
    assert "share_token" not in api.http.get(f"/access/share-tokens/{token['share_token_id']}").json()
    assert all("share_token" not in t for t in api.http.get("/access/share-tokens").json())

    anonymous = httpx.Client(base_url=f"{api.platform.api_root}/api/v1")
    assert anonymous.get(f"/runs/{run_id}").status_code == 401
    assert anonymous.get(f"/runs/{run_id}", params={"share_token": secret}).status_code == 403  # no grant yet
    grant = _grant(api, run_id, "share_token", token["share_token_id"])
    assert grant.status_code == 201

    shared = {"share_token": secret}
    assert anonymous.get(f"/runs/{run_id}", params=shared).json()["run_id"] == run_id
    items = anonymous.get(f"/runs/{run_id}/items", params=shared).json()
    assert anonymous.get(f"/runs/{run_id}/items/slide-0", params=shared).status_code == 200
    artifact = items[0]["output_artifacts"][0]["output_artifact_id"]
    assert anonymous.get(f"/runs/{run_id}/artifacts/{artifact}/file", params=shared).status_code == 307
    assert anonymous.get(f"/runs/{other_run}", params=shared).status_code == 403
    assert anonymous.post(f"/runs/{run_id}/cancel", params=shared).status_code == 401
    assert [t["share_token_id"] for t in api.http.get("/access/share-tokens", params={"run_id": run_id}).json()] == [
        token["share_token_id"]
    ]

    revoked = api.http.delete(f"/access/share-tokens/{token['share_token_id']}")
    assert revoked.status_code == 200
    assert revoked.json()["revoked"] is True
    assert api.http.delete(f"/access/share-tokens/{token['share_token_id']}").status_code == 409
    assert anonymous.get(f"/runs/{run_id}", params=shared).status_code == 403
    assert api.http.get("/access/share-tokens", params={"revoked": False}).json() == []
    member = api.as_user(MEMBER_USER_ID)
    assert member.http.get(f"/access/share-tokens/{token['share_token_id']}").status_code == 403
    assert api.as_user(PARTNER_USER_ID).http.get(f"/access/share-tokens/{token['share_token_id']}").status_code == 404


def test_user_and_organization_grants(api: Any) -> None:
    run_id = api.submit_slides(1)
    member = api.as_user(MEMBER_USER_ID)
    partner = api.as_user(PARTNER_USER_ID)
    assert member.http.get(f"/runs/{run_id}").status_code == 403

    editor = _grant(api, run_id, "user", MEMBER_USER_ID, relation="editor")
    assert editor.status_code == 422
    assert _grant(api, run_id, "user", "auth0|nobody").status_code == 404
    assert _grant(api, "00000000-0000-4000-8000-000000000000", "user", MEMBER_USER_ID).status_code == 404
    assert _grant(member, run_id, "user", MEMBER_USER_ID).status_code == 403
    assert _grant(partner, run_id, "user", PARTNER_USER_ID).status_code == 404

    grant = _grant(api, run_id, "user", subject_email="member@local.aignostics")
    assert grant.status_code == 201
    grant_id = grant.json()["grant_id"]
    assert grant.json()["subject_id"] == MEMBER_USER_ID
    assert member.http.get(f"/runs/{run_id}").status_code == 200
    assert member.http.get(f"/runs/{run_id}/items").status_code == 200
    assert member.http.post(f"/runs/{run_id}/cancel").status_code == 403  # viewers cannot change it
    assert member.http.get(f"/access/grants/{grant_id}").status_code == 200
    assert member.http.delete(f"/access/grants/{grant_id}").status_code == 403
    assert partner.http.get(f"/access/grants/{grant_id}").status_code == 404

    partner_grant = _grant(api, run_id, "organization_user", "org_partner")
    assert partner_grant.status_code == 201
    assert partner.http.get(f"/runs/{run_id}").status_code == 200
    assert _grant(api, run_id, "organization_admin", "org_nowhere").status_code == 404

    listed = api.http.get("/access/grants", params={"resource_id": run_id, "sort": "created_at"}).json()
    assert [g["grant_id"] for g in listed] == [grant_id, partner_grant.json()["grant_id"]]
    assert len(api.http.get("/access/grants", params={"subject_type": "user", "relation": ["viewer"]}).json()) == 1
    assert api.http.get("/access/grants", params={"relation": "owner"}).json() == []
    assert api.http.get("/access/grants", params={"sort": "colour"}).status_code == 422

    assert api.http.delete(f"/access/grants/{grant_id}").json()["revoked"] is True
    assert api.http.delete(f"/access/grants/{grant_id}").status_code == 409
    assert member.http.get(f"/runs/{run_id}").status_code == 403
    assert api.http.get("/access/grants", params={"revoked": True}).json()[0]["grant_id"] == grant_id
    assert api.http.get("/access/grants/00000000-0000-4000-8000-000000000000").status_code == 404


def test_share_token_expiry_and_validation(api: Any) -> None:
    past = api.http.post("/access/share-tokens", json={"expires_at": "2001-01-01T00:00:00Z"})
    assert past.status_code == 422
    future = api.http.post("/access/share-tokens", json={"expires_at": "2999-01-01T00:00:00Z"})
    assert future.json()["expires_at"].startswith("2999-01-01")
    assert api.http.get("/access/share-tokens/not-a-uuid").status_code == 422
    assert api.http.get("/access/share-tokens/00000000-0000-4000-8000-000000000000").status_code == 404
    run_id = api.submit_slides(1)
    token_id = future.json()["share_token_id"]
    grant = api.http.post(
        "/access/grants",
        json={"resource_type": "share_token", "resource_id": token_id, "subject_type": "user",
              "subject_id": MEMBER_USER_ID, "relation": "viewer"},
    )  # fmt: skip
    assert grant.status_code == 201
    api.http.delete(f"/access/share-tokens/{token_id}")
    revoked_subject = _grant(api, run_id, "share_token", token_id)
    assert revoked_subject.status_code == 409


def test_item_and_artifact_grants_open_only_that_part(api: Any) -> None:
    run_id = api.submit_slides(2)
    api.wait(run_id)
    items = {i["external_id"]: i for i in api.items(run_id)}
    member = api.as_user(MEMBER_USER_ID)
    granted = api.http.post(
        "/access/grants",
        json={"resource_type": "item", "resource_id": items["slide-0"]["item_id"], "subject_type": "user",
              "subject_id": MEMBER_USER_ID, "relation": "viewer"},
    )  # fmt: skip
    assert granted.status_code == 201
    assert member.http.get(f"/runs/{run_id}/items/slide-0").status_code == 200
    assert member.http.get(f"/runs/{run_id}/items/slide-1").status_code == 403
    assert member.http.get(f"/runs/{run_id}").status_code == 403
    mine = items["slide-0"]["output_artifacts"][0]["output_artifact_id"]
    other = items["slide-1"]["output_artifacts"][0]["output_artifact_id"]
    assert member.http.get(f"/runs/{run_id}/artifacts/{mine}/file").status_code == 307
    assert member.http.get(f"/runs/{run_id}/artifacts/{other}/file").status_code == 403

    token = api.http.post("/access/share-tokens", json={}).json()
    api.http.post(
        "/access/grants",
        json={"resource_type": "output_artifact", "resource_id": other, "subject_type": "share_token",
              "subject_id": token["share_token_id"], "relation": "viewer"},
    )  # fmt: skip
    shared = {"share_token": token["share_token"]}
    anonymous = httpx.Client(base_url=f"{api.platform.api_root}/api/v1")
    assert anonymous.get(f"/runs/{run_id}/artifacts/{other}/file", params=shared).status_code == 307
    assert anonymous.get(f"/runs/{run_id}/artifacts/{mine}/file", params=shared).status_code == 403
