"""Small pure pieces: TTL cache, semver order, JSONPath queries, SDK metadata blocks, file naming."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from aignostics_jupyter.client import artifact_file_name, item_dir_name, item_dir_names, semver_key
from aignostics_jupyter.client._cache import TtlCache, token_fingerprint
from aignostics_jupyter.client._sdk_metadata import (
    item_sdk_metadata,
    note_query,
    run_sdk_metadata,
    tags_query,
)
from aignostics_jupyter.client._slides import SlideDescription
from aignostics_jupyter.client._submit import build_metadata, validate_metadata
from aignostics_jupyter.client.models import MeReadResponse
from tests.client.conftest import FakeClock

pytestmark = pytest.mark.unit


def test_ttl_cache_expires_and_evicts() -> None:
    clock = FakeClock()
    cache = TtlCache(clock, max_entries=2)

    cache.put("a", 1, ttl=10)
    cache.put("b", 2, ttl=1)
    cache.put("zero", 0, ttl=0)
    clock.advance(2)
    cache.put("c", 3, ttl=10)

    assert cache.get("a") == (True, 1)
    assert cache.get("b") == (False, None)
    assert cache.get("zero") == (False, None)
    assert cache.get("c") == (True, 3)
    cache.put("d", 4, ttl=10)
    assert len(cache) == 2
    cache.clear()
    assert len(cache) == 0


def test_token_fingerprints_do_not_contain_the_token() -> None:
    assert token_fingerprint(None) == "anonymous"
    assert len(token_fingerprint("secret-token")) == 16
    assert "secret" not in token_fingerprint("secret-token")


def test_semver_order() -> None:
    versions = ["1.0.0", "0.99.0", "1.0.0-beta.8", "1.0.0-beta.10", "1.0.0-sl+4", "1.0.0-alpha", "junk"]

    assert sorted(versions, key=semver_key) == [
        "junk",
        "0.99.0",
        "1.0.0-alpha",
        "1.0.0-beta.8",
        "1.0.0-beta.10",
        "1.0.0-sl+4",
        "1.0.0",
    ]


def test_jsonpath_queries_escape_regex_and_quotes() -> None:
    assert tags_query(["a.b", 'q"x']) == '$.sdk.tags ? (@ like_regex "^(a\\\\.b|q\\"x)$")'
    assert note_query("x", case_insensitive=False) == '$.sdk.note ? (@ like_regex "x")'


def test_sdk_metadata_blocks() -> None:
    now = datetime(2025, 1, 2, 3, 4, 5, 678, tzinfo=UTC)
    me = MeReadResponse.model_validate(
        {
            "user": {"id": "auth0|1", "email": "u@x"},
            "organization": {
                "id": "org",
                "name": "n",
                "aignostics_bucket_hmac_access_key_id": "k",
                "aignostics_bucket_hmac_secret_access_key": "s",
                "aignostics_bucket_name": "b",
                "aignostics_bucket_protocol": "gs",
                "aignostics_logfire_token": "l",
                "aignostics_sentry_dsn": "d",
            },
        }
    )

    run = run_sdk_metadata(
        now=now, user_agent="ua", me=me, tags={"b", "a"}, note="n", due_date=now, environ={"PYTEST_CURRENT_TEST": "x"}
    )
    item = item_sdk_metadata(now=now, tags=["t"], bucket_name="b", object_key="k", signed_download_url="u")

    assert run["schema_version"] == "0.0.4"
    assert run["created_at"] == "2025-01-02T03:04:05+00:00"
    assert run["tags"] == ["a", "b"]
    assert run["submission"] == {"date": "2025-01-02T03:04:05+00:00", "interface": "script", "initiator": "test"}
    assert run["user"] == {
        "organization_id": "org",
        "organization_name": "n",
        "user_email": "u@x",
        "user_id": "auth0|1",
    }
    assert run["scheduling"] == {"due_date": "2025-01-02T03:04:05+00:00", "deadline": None}
    assert item["schema_version"] == "0.0.3"
    assert item["platform_bucket"] == {"bucket_name": "b", "object_key": "k", "signed_download_url": "u"}


@pytest.mark.parametrize(
    ("name", "media_type", "expected"),
    [
        ("tissue_qc:geojson_polygons", "application/geo+json", "tissue_qc_geojson_polygons.json"),
        ("tissue_qc:segmentation_map_image", "image/tiff", "tissue_qc_segmentation_map_image.tiff"),
        ("x:table", "application/vnd.apache.parquet", "x_table.parquet"),
        ("x:thing", "application/x-unknown", "x_thing.bin"),
        ("../evil/name", "text/csv; charset=utf-8", "_evil_name.csv"),
    ],
)
def test_artifact_file_names(name: str, media_type: str, expected: str) -> None:
    assert artifact_file_name(name, media_type) == expected


def test_item_dir_names() -> None:
    assert item_dir_name("gs://bucket/dir/case-7.svs") == "case-7"
    assert item_dir_name("https://h/x/slide.tiff?sig=1") == "slide"
    assert item_dir_name("C:\\slides\\a.svs") == "a"
    names = item_dir_names(["/a/x.svs", "/b/x.svs", "/c/y.svs"])
    assert names["/c/y.svs"] == "y"
    assert names["/a/x.svs"] != names["/b/x.svs"]


def _description() -> SlideDescription:
    return SlideDescription(
        path="a.svs",
        width=10,
        height=20,
        mpp=0.3,
        media_type="application/octet-stream",
        crc32c="AAAAAA==",
        format="aperio",
        size=1,
    )


def test_metadata_follows_the_schema_spelling() -> None:
    old_schema = {"properties": {"checksum_crc32c": {}, "width": {}, "height": {}, "base_mpp": {}, "mime_type": {}}}
    ref_schema = {"$ref": "#/$defs/m", "$defs": {"m": {"properties": {"width_px": {}, "media-type": {}}}}}

    assert build_metadata(old_schema, _description(), {}) == {
        "checksum_crc32c": "AAAAAA==",
        "width": 10,
        "height": 20,
        "base_mpp": 0.3,
        "mime_type": "application/octet-stream",
    }
    assert build_metadata(ref_schema, _description(), {}) == {"width_px": 10, "media-type": "application/octet-stream"}
    assert set(build_metadata({}, _description(), {})) == {
        "checksum_base64_crc32c",
        "width_px",
        "height_px",
        "resolution_mpp",
        "media_type",
    }


def test_validation_messages_name_slide_and_field() -> None:
    schema = {
        "type": "object",
        "properties": {"specimen": {"type": "object", "properties": {"tissue": {"enum": ["LUNG"]}}}},
    }

    assert validate_metadata(schema, {"specimen": {"tissue": "BONE"}}, "/s/a.svs") == [
        "/s/a.svs: specimen.tissue: 'BONE' is not one of ['LUNG']"
    ]
    assert validate_metadata({"type": "bogus"}, {}, "x")[0].startswith("x: the application's metadata schema")
