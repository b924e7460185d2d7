"""ApplicationBrowser against the local platform: applications, versions, changelog, schemas as tables."""

from __future__ import annotations

import pytest

from aignostics_jupyter.emulator import LocalPlatform
from aignostics_jupyter.widgets._platform_schema import (
    choice_fields,
    const_defaults,
    find_field,
    get_path,
    place_metadata,
    schema_fields,
    schema_table_html,
)
from aignostics_jupyter.widgets.app_browser import ApplicationBrowser
from tests.widgets import conftest_platform as fixtures

platform = fixtures.platform
platform_env = fixtures.platform_env
logged_in = fixtures.logged_in


@pytest.mark.integration
@pytest.mark.timeout(30)
def test_shows_the_latest_version_with_schemas_and_outputs(logged_in: LocalPlatform) -> None:
    browser = ApplicationBrowser(application_id="he-tme")

    assert browser.app_picker.value == "he-tme"
    assert browser.version_picker.options == ("1.3.0", "1.0.0-beta.8")
    assert browser.version_picker.value == "1.3.0"
    assert "Atlas H&amp;E-TME" in browser.summary.value
    assert "Regulatory classes:</b> RUO" in browser.summary.value
    details = browser.details.value
    assert "Input artifact renamed" in details
    assert "<b>input_slide</b>" in details
    assert "<code>tissue</code>" in details
    assert "LUNG, " in details
    assert "≥ 0.08" in details
    assert "readout_generation:cell_readouts" in details
    assert browser.message == ""


@pytest.mark.integration
@pytest.mark.timeout(30)
def test_switching_versions_and_applications(logged_in: LocalPlatform) -> None:
    browser = ApplicationBrowser(application_id="he-tme", version="v1.0.0-beta.8")
    assert browser.version is not None
    assert browser.version.version_number == "1.0.0-beta.8"
    assert "<b>whole_slide_image</b>" in browser.details.value

    browser.version_picker.value = "1.3.0"
    assert "<b>input_slide</b>" in browser.details.value

    browser.app_picker.value = "test-app"
    assert browser.version_picker.value == "0.0.6"
    assert "Sharper tissue boundaries" in browser.details.value
    assert "<code>tissue</code>" not in browser.details.value


@pytest.mark.integration
@pytest.mark.timeout(30)
def test_an_unknown_application_and_a_logged_out_session(platform_env: LocalPlatform) -> None:
    logged_out = ApplicationBrowser()
    assert "log in" in logged_out.message.lower()
    assert "fa-exclamation-triangle" in logged_out.status.value


@pytest.mark.integration
@pytest.mark.timeout(30)
def test_an_unknown_application(logged_in: LocalPlatform) -> None:
    browser = ApplicationBrowser(application_id="nope")

    assert "No application 'nope'" in browser.message


SCHEMA = {
    "$defs": {"mpp": {"type": "number", "minimum": 0.08, "maximum": 1.2}},
    "type": "object",
    "required": ["resolution_mpp", "specimen"],
    "properties": {
        "resolution_mpp": {"$ref": "#/$defs/mpp"},
        "staining_method": {"const": "H&E"},
        "media_type": {"type": "string", "enum": ["image/tiff"]},
        "specimen": {
            "type": "object",
            "required": ["tissue"],
            "properties": {"tissue": {"enum": ["LUNG", "LIVER"]}, "disease": {"type": ["string", "null"]}},
        },
        "code": {"type": "string", "pattern": "^[A-Z]+$", "maxLength": 8, "description": "Study code"},
    },
}


@pytest.mark.unit
def test_schema_fields_flatten_with_refs_enums_and_bounds() -> None:
    fields = {f.name: f for f in schema_fields(SCHEMA)}

    assert list(fields) == [
        "resolution_mpp",
        "staining_method",
        "media_type",
        "specimen",
        "specimen.tissue",
        "specimen.disease",
        "code",
    ]
    assert fields["resolution_mpp"].bounds == "≥ 0.08, ≤ 1.2"
    assert fields["resolution_mpp"].required
    assert fields["specimen.tissue"].required
    assert not fields["specimen.disease"].required
    assert fields["specimen.disease"].type == "string | null"
    assert fields["staining_method"].choices == ("H&E",)
    assert fields["code"].bounds == "length ≤ 8, pattern ^[A-Z]+$"
    assert [f.name for f in choice_fields(SCHEMA)] == ["staining_method", "specimen.tissue"]
    assert (
        find_field(SCHEMA, "tissue") is fields["specimen.tissue"]
        or find_field(SCHEMA, "tissue") == fields["specimen.tissue"]
    )
    assert find_field(SCHEMA, "absent") is None


@pytest.mark.unit
def test_placing_metadata() -> None:
    placed = place_metadata(SCHEMA, {"tissue": "LUNG", "staining": "H&E", "extra": {"a": 1}, "specimen": {"x": 2}})

    assert placed == {"staining_method": "H&E", "specimen": {"tissue": "LUNG", "x": 2}, "extra": {"a": 1}}
    assert const_defaults(SCHEMA) == {"staining_method": "H&E"}
    assert get_path(placed, ("specimen", "tissue")) == "LUNG"
    assert get_path(placed, ("specimen", "nope")) is None


@pytest.mark.unit
def test_schema_table_html_escapes() -> None:
    html = schema_table_html(SCHEMA)

    assert "<th>allowed values</th>" in html
    assert "H&amp;E" in html
    assert "Study code" in html
    assert "No fields" in schema_table_html({"type": "object"})
