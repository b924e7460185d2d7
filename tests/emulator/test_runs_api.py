"""Runs and items over HTTP: validation, filters, sorting, pagination, cancel, metadata, visibility."""

from __future__ import annotations

from typing import Any

import pytest

from aignostics_jupyter.emulator import MEMBER_USER_ID, PARTNER_USER_ID

pytestmark = pytest.mark.integration

URL = "http://127.0.0.1:9/slide.tiff"
META = {"checksum_base64_crc32c": "AAAAAA==", "resolution_mpp": 0.5, "width_px": 10, "height_px": 10}
HE_META = {
    **META,
    "media_type": "image/tiff",
    "staining_method": "H&E",
    "specimen": {"tissue": "LUNG", "disease": "LUNG_CANCER"},
}


def item(
    external_id: str, name: str = "whole_slide_image", metadata: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    art = {"name": name, "download_url": URL, "metadata": META if metadata is None else metadata}
    return {"external_id": external_id, "input_artifacts": [art], **extra}


@pytest.fixture
def paused(api: Any) -> Any:
    api.platform.services.runner.pause()
    return api


def test_create_validates_like_the_platform(paused: Any) -> None:
    http = paused.http
    unknown = http.post("/runs", json={"application_id": "nope", "items": [item("a")]})
    assert unknown.status_code == 404
    assert "nope" in unknown.json()["detail"]
    version = http.post("/runs", json={"application_id": "test-app", "version_number": "9.9.9", "items": [item("a")]})
    assert version.status_code == 404
    no_items = http.post("/runs", json={"application_id": "test-app", "items": []})
    assert no_items.status_code == 422
    assert no_items.json()["detail"][0]["loc"] == ["body", "items"]
    wrong_type = http.post("/runs", json={"application_id": 5, "items": "x"})
    assert wrong_type.status_code == 422

    renamed = http.post(
        "/runs", json={"application_id": "he-tme", "version_number": "1.3.0", "items": [item("a", metadata=HE_META)]}
    )
    assert renamed.status_code == 400
    detail = renamed.json()["detail"]
    assert all(part in detail for part in ("items[0]", "'whole_slide_image'", "'input_slide'"))
    beta = http.post(
        "/runs",
        json={"application_id": "he-tme", "version_number": "1.0.0-beta.8", "items": [item("a", metadata=HE_META)]},
    )
    assert beta.status_code == 201
    latest = http.post(
        "/runs", json={"application_id": "he-tme", "items": [item("a", name="input_slide", metadata=HE_META)]}
    )
    assert latest.status_code == 201
    assert paused.run(latest.json()["run_id"])["version_number"] == "1.3.0"

    bad_mpp = http.post(
        "/runs", json={"application_id": "test-app", "items": [item("a", metadata={**META, "resolution_mpp": 8.06})]}
    )
    assert bad_mpp.status_code == 400
    assert all(part in bad_mpp.json()["detail"] for part in ("'resolution_mpp'", "greater than"))
    missing = http.post(
        "/runs", json={"application_id": "he-tme", "items": [item("a", name="input_slide", metadata=META)]}
    )
    assert "staining_method" in missing.json()["detail"]
    duplicate = http.post("/runs", json={"application_id": "test-app", "items": [item("a"), item("a")]})
    assert duplicate.status_code == 400
    assert "not unique" in duplicate.json()["detail"]
    scheme = http.post(
        "/runs",
        json={
            "application_id": "test-app",
            "items": [
                {
                    **item("a"),
                    "input_artifacts": [{"name": "whole_slide_image", "download_url": "gs://b/k", "metadata": META}],
                }
            ],
        },
    )
    assert "http(s)" in scheme.json()["detail"]
    big = http.post(
        "/runs", json={"application_id": "test-app", "items": [item("a")], "callback_context": {"x": "y" * 2000}}
    )
    assert "callback_context" in big.json()["detail"]
    late = http.post(
        "/runs",
        json={"application_id": "test-app", "items": [item("a")], "scheduling": {"deadline": "2001-01-01T00:00:00Z"}},
    )
    assert "deadline" in late.json()["detail"]

    partner = paused.as_user(PARTNER_USER_ID)
    denied = partner.http.post(
        "/runs", json={"application_id": "he-tme", "items": [item("a", name="input_slide", metadata=HE_META)]}
    )
    assert denied.status_code == 403
    assert [a["application_id"] for a in partner.http.get("/applications").json()] == ["test-app"]
    assert partner.http.get("/applications/he-tme").status_code == 403


def test_list_filters_sorting_and_pagination(paused: Any) -> None:
    ids = []
    for n in range(7):
        ids.append(
            paused.submit(
                [item(f"slide-{n}")],
                version_number="0.0.4" if n % 2 else "0.0.6",
                custom_metadata={"sdk": {"note": f"Note {n}", "tags": ["Alpha" if n < 3 else "beta"]}, "a": {"b": n}},
            )
        )
    member = paused.as_user(MEMBER_USER_ID)
    member_run = member.submit([item("slide-0")])
    http = paused.http

    def listed(**params: Any) -> list[str]:
        response = http.get("/runs", params=params)
        assert response.status_code == 200, response.text
        return [r["run_id"] for r in response.json()]

    assert listed() == ids[::-1]
    assert listed(sort="submitted_at") == ids
    assert listed(sort=["version_number", "-submitted_at"]) == [ids[5], ids[3], ids[1], ids[6], ids[4], ids[2], ids[0]]
    assert listed(application_version="0.0.4", sort="+submitted_at") == [ids[1], ids[3], ids[5]]
    assert listed(application_id="he-tme") == []
    assert listed(external_id="slide-3") == [ids[3]]
    assert listed(custom_metadata='$.sdk.note == "Note 2"') == [ids[2]]
    assert listed(custom_metadata="$.a.b == 3") == [ids[3]]
    assert listed(custom_metadata="a.b == 4") == [ids[4]]
    assert listed(custom_metadata='$.sdk.note like_regex "^note [12]$" flag "i"', sort="submitted_at") == ids[1:3]
    assert listed(custom_metadata='$.sdk.tags[*] like_regex "^alpha$" flag "i"', sort="submitted_at") == ids[:3]
    assert listed(custom_metadata='$.sdk.tags ? (@ == "beta")', sort="submitted_at") == ids[3:]
    assert listed(custom_metadata="$.a ? (@.b > 4 && @.b < 6)") == [ids[5]]
    assert listed(submitted_by="me", page_size=5) == ids[::-1][:5]
    assert listed(submitted_by="me", page_size=5, page=2) == ids[::-1][5:]
    assert listed(page_size=5, page=3) == []
    assert listed(organization_id="my_org", sort="submitted_at") == ids
    assert member_run in listed(for_organization="org_local")
    assert len(listed(for_organization="org_local")) == 8

    for params in ({"page_size": 4}, {"page_size": 101}, {"page": 0}, {"sort": "colour"}, {"custom_metadata": "$.a +"}):
        response = http.get("/runs", params=params)
        assert response.status_code == 422, params
        assert response.json()["detail"][0]["loc"][0] == "query"
    jsonpath_error = http.get("/runs", params={"custom_metadata": '$.x like_regex "("'}).json()["detail"][0]
    assert "JSONPath" in jsonpath_error["msg"]
    assert http.get("/runs", params={"custom_metadata": "x" * 1001}).status_code == 422
    assert http.get("/applications", params={"page-size": 4}).status_code == 422
    assert http.get("/applications", params={"page-size": 5, "sort": "-name"}).json()[0]["application_id"] == "test-app"
    assert http.get("/applications", params={"sort": "size"}).status_code == 422

    assert member.http.get("/runs").json()[0]["run_id"] == member_run
    assert member.http.get("/runs", params={"for_organization": "org_local"}).status_code == 403
    assert http.get("/runs", params={"for_organization": "org_partner"}).status_code == 403


def test_items_filters_and_lookup(paused: Any) -> None:
    names = ["c.tiff", "a.tiff", "/data/slides/b.tiff", "d.tiff", "e.tiff", "f.tiff"]
    run_id = paused.submit([item(n, custom_metadata={"k": i}) for i, n in enumerate(names)])
    items = paused.items(run_id)
    assert [i["external_id"] for i in items] == names
    assert all(i["state"] == "PENDING" and i["output"] == "NONE" for i in items)
    assert [i["queue_position_platform"] for i in items] == list(range(6))
    assert [a["state"] for a in items[0]["output_artifacts"]] == ["PENDING"] * 3

    assert [i["external_id"] for i in paused.items(run_id, sort="-external_id", page_size=5)] == [
        "f.tiff",
        "e.tiff",
        "d.tiff",
        "c.tiff",
        "a.tiff",
    ]
    assert [i["external_id"] for i in paused.items(run_id, sort="-external_id", page_size=5, page=2)] == [
        "/data/slides/b.tiff"
    ]
    chosen = [items[1]["item_id"], items[3]["item_id"]]
    assert [i["external_id"] for i in paused.items(run_id, item_id__in=chosen)] == ["a.tiff", "d.tiff"]
    assert [i["external_id"] for i in paused.items(run_id, external_id__in=["e.tiff", "c.tiff"])] == [
        "c.tiff",
        "e.tiff",
    ]
    assert paused.items(run_id, state="TERMINATED") == []
    assert len(paused.items(run_id, state="PENDING")) == 6
    assert paused.items(run_id, termination_reason="SKIPPED") == []
    assert [i["external_id"] for i in paused.items(run_id, custom_metadata="$.k ? (@ >= 4)")] == ["e.tiff", "f.tiff"]
    assert paused.http.get(f"/runs/{run_id}/items", params={"item_id__in": "not-a-uuid"}).status_code == 422
    assert paused.http.get(f"/runs/{run_id}/items", params={"state": "DONE"}).status_code == 422

    slash = paused.http.get(f"/runs/{run_id}/items/%2Fdata%2Fslides%2Fb.tiff")
    assert slash.status_code == 200
    assert slash.json()["external_id"] == "/data/slides/b.tiff"
    assert paused.http.get(f"/runs/{run_id}/items/nope.tiff").status_code == 404

    run = paused.run(run_id)
    assert run["statistics"]["item_pending_count"] == 6
    assert run["num_preceding_items_platform"] == 0
    second = paused.submit([item("z")])
    assert paused.run(second)["num_preceding_items_platform"] == 6
    urgent = paused.submit([item("u")], scheduling={"due_date": "2030-01-01T00:00:00Z"})
    assert paused.run(urgent)["num_preceding_items_platform"] == 0
    assert paused.run(urgent)["scheduling"]["due_date"].startswith("2030-01-01")
    assert paused.run(second)["num_preceding_items_platform"] == 7


def test_cancel_metadata_and_visibility(paused: Any) -> None:
    run_id = paused.submit([item("a"), item("b")], custom_metadata={"v": 1})
    member = paused.as_user(MEMBER_USER_ID)
    partner = paused.as_user(PARTNER_USER_ID)

    assert member.http.get(f"/runs/{run_id}").status_code == 403
    assert partner.http.get(f"/runs/{run_id}").status_code == 404
    assert member.http.post(f"/runs/{run_id}/cancel").status_code == 403
    assert partner.http.post(f"/runs/{run_id}/cancel").status_code == 404
    assert paused.http.get("/runs/not-a-uuid").status_code == 422
    assert paused.http.get("/runs/00000000-0000-4000-8000-000000000000").status_code == 404

    run = paused.run(run_id)
    checksum = run["custom_metadata_checksum"]
    stale = paused.http.put(
        f"/runs/{run_id}/custom-metadata", json={"custom_metadata": {"v": 2}, "custom_metadata_checksum": "00000000"}
    )
    assert stale.status_code == 412
    fresh = paused.http.put(
        f"/runs/{run_id}/custom-metadata", json={"custom_metadata": {"v": 2}, "custom_metadata_checksum": checksum}
    )
    assert fresh.status_code == 200
    assert fresh.json()["custom_metadata_checksum"] == paused.run(run_id)["custom_metadata_checksum"] != checksum
    assert paused.run(run_id)["custom_metadata"] == {"v": 2}
    cleared = paused.http.put(f"/runs/{run_id}/custom-metadata", json={"custom_metadata": None})
    assert cleared.json() == {"custom_metadata_checksum": None}
    assert member.http.put(f"/runs/{run_id}/custom-metadata", json={"custom_metadata": {}}).status_code == 403

    put_item = paused.http.put(f"/runs/{run_id}/items/a/custom-metadata", json={"custom_metadata": {"x": 1}})
    assert put_item.status_code == 200
    item_a = paused.http.get(f"/runs/{run_id}/items/a").json()
    assert item_a["custom_metadata"] == {"x": 1}
    assert item_a["custom_metadata_checksum"] == put_item.json()["custom_metadata_checksum"]
    wrong = paused.http.put(
        f"/runs/{run_id}/items/a/custom-metadata", json={"custom_metadata": {}, "custom_metadata_checksum": "ffffffff"}
    )
    assert wrong.status_code == 412
    assert paused.http.put(f"/runs/{run_id}/items/zz/custom-metadata", json={"custom_metadata": {}}).status_code == 404

    assert paused.http.delete(f"/runs/{run_id}/artifacts").status_code == 409
    assert paused.http.post(f"/runs/{run_id}/cancel").status_code == 202
    again = paused.http.post(f"/runs/{run_id}/cancel")
    assert again.status_code == 409
    run = paused.run(run_id)
    assert (run["state"], run["termination_reason"], run["output"]) == ("TERMINATED", "CANCELED_BY_USER", "NONE")
    assert run["terminated_at"] is not None
    assert run["statistics"]["item_skipped_count"] == 2
    skipped = paused.items(run_id, termination_reason="SKIPPED")
    assert len(skipped) == 2
    assert "cancelled by the user" in skipped[0]["error_message"]
    assert {a["termination_reason"] for a in skipped[0]["output_artifacts"]} == {"SKIPPED"}
    assert paused.http.delete(f"/runs/{run_id}/artifacts").status_code == 200

    own = member.submit([item("m")])
    assert paused.http.get(f"/runs/{own}").status_code == 200  # the org admin sees the member's run
    assert paused.http.post(f"/runs/{own}/cancel").status_code == 202
