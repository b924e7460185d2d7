"""The application catalog and version documents."""

from __future__ import annotations

import pytest
from jsonschema import Draft7Validator

from aignostics_jupyter.emulator.catalog import (
    APPLICATIONS,
    get_application,
    get_version,
    latest_version,
    semver_key,
)
from aignostics_jupyter.emulator.documents import render_document

pytestmark = pytest.mark.unit

TEST_META = {"checksum_base64_crc32c": "5onqtA==", "resolution_mpp": 0.26, "width_px": 7447, "height_px": 7196}


def test_versions_and_inputs() -> None:
    assert [a.application_id for a in APPLICATIONS] == ["he-tme", "test-app"]
    assert latest_version(get_application("he-tme")).number == "1.3.0"  # type: ignore[arg-type]
    assert get_version("he-tme", "1.0.0-beta.8").input_artifacts[0].name == "whole_slide_image"  # type: ignore[union-attr]
    assert get_version("he-tme", "1.3.0").input_artifacts[0].name == "input_slide"  # type: ignore[union-attr]
    assert get_version("test-app", "0.0.5") is None
    assert get_version("nope", "1.0.0") is None
    outputs = [o.name for o in get_version("he-tme", "1.3.0").output_artifacts]  # type: ignore[union-attr]
    assert len(outputs) == 9
    assert "cell_classification:geojson_polygons" in outputs
    assert all(o.as_output()["scope"] == "ITEM" for o in get_version("test-app", "0.0.4").output_artifacts)  # type: ignore[union-attr]


def test_input_schemas() -> None:
    test_schema = get_version("test-app", "0.0.6").input_artifacts[0].metadata_schema  # type: ignore[union-attr]
    Draft7Validator.check_schema(test_schema)
    assert not list(Draft7Validator(test_schema).iter_errors(TEST_META))
    assert list(Draft7Validator(test_schema).iter_errors({**TEST_META, "resolution_mpp": 1.5}))
    assert list(Draft7Validator(test_schema).iter_errors({**TEST_META, "width_px": 150001}))
    he_schema = get_version("he-tme", "1.3.0").input_artifacts[0].metadata_schema  # type: ignore[union-attr]
    good = {**TEST_META, "media_type": "image/tiff", "staining_method": "H&E",
            "specimen": {"tissue": "LUNG", "disease": "LUNG_CANCER"}}  # fmt: skip
    assert not list(Draft7Validator(he_schema).iter_errors(good))
    assert list(Draft7Validator(he_schema).iter_errors({**good, "staining_method": "IHC"}))
    assert list(
        Draft7Validator(he_schema).iter_errors({**good, "specimen": {"tissue": "SKIN", "disease": "LUNG_CANCER"}})
    )


def test_semver_precedence() -> None:
    ordered = ["0.0.4", "0.0.6", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-beta.2", "1.0.0-beta.8", "1.0.0-beta.11",
               "1.0.0-rc.1", "1.0.0", "1.3.0", "2.0.0+build.1"]  # fmt: skip
    assert sorted(ordered[5:] + ordered[:5], key=semver_key) == ordered
    with pytest.raises(ValueError, match="semantic version"):
        semver_key("1.0")


def test_documents_render() -> None:
    application = get_application("he-tme")
    assert application is not None
    version = application.versions[0]
    card, pdf = (render_document(application, version, d) for d in version.documents)
    assert b"Atlas H&E-TME 1.0.0-beta.8" in card
    assert pdf.startswith(b"%PDF-1.4")
    assert pdf.rstrip().endswith(b"%%EOF")
