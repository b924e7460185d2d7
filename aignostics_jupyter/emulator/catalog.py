"""The local platform's application catalog: applications, versions, artifacts, schemas and documents.

Pure data (no web framework), so the local applications and tests can import it::

    from aignostics_jupyter.emulator.catalog import APPLICATIONS, get_version
    version = get_version("he-tme", "1.3.0")
    [a.name for a in version.input_artifacts]   # ['input_slide']

Two applications mirror the real platform: ``test-app`` (versions 0.0.4, 0.0.6) and ``he-tme`` (Atlas H&E-TME,
versions 1.0.0-beta.8 with input ``whole_slide_image`` and 1.3.0 with input ``input_slide``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "APPLICATIONS",
    "DISEASES",
    "TISSUES",
    "Application",
    "ArtifactSpec",
    "DocumentSpec",
    "Version",
    "get_application",
    "get_version",
    "latest_version",
    "semver_key",
]

TISSUES = ("ADRENAL_GLAND", "BLADDER", "BONE", "BRAIN", "BREAST", "COLON", "LIVER", "LUNG", "LYMPH_NODE")
DISEASES = ("BREAST_CANCER", "BLADDER_CANCER", "COLORECTAL_CANCER", "LIVER_CANCER", "LUNG_CANCER")


@dataclass(frozen=True)
class ArtifactSpec:
    """An input or output artifact of a version (outputs: scope ITEM, visibility EXTERNAL)."""

    name: str
    mime_type: str
    metadata_schema: dict[str, Any]
    scope: str = "ITEM"
    visibility: str = "EXTERNAL"

    def as_input(self) -> dict[str, Any]:
        """The spec's ``InputArtifact``."""
        return {"name": self.name, "mime_type": self.mime_type, "metadata_schema": self.metadata_schema}

    def as_output(self) -> dict[str, Any]:
        """The spec's ``OutputArtifact``."""
        return {**self.as_input(), "scope": self.scope, "visibility": self.visibility}


@dataclass(frozen=True)
class DocumentSpec:
    """A public release document of a version (generated on first start)."""

    name: str
    mime_type: str


@dataclass(frozen=True)
class Version:
    """One released version of an application."""

    number: str
    released_at: str
    changelog: str
    input_artifacts: tuple[ArtifactSpec, ...]
    output_artifacts: tuple[ArtifactSpec, ...]
    documents: tuple[DocumentSpec, ...] = (
        DocumentSpec("model_card.md", "text/markdown"),
        DocumentSpec("output_description.pdf", "application/pdf"),
    )


@dataclass(frozen=True)
class Application:
    """An application and its versions."""

    application_id: str
    name: str
    description: str
    regulatory_classes: tuple[str, ...]
    versions: tuple[Version, ...] = field(default_factory=tuple)


_CHECKSUM = {"type": "string", "pattern": r"^[A-Za-z0-9+/]{6}==$", "description": "Base64 big-endian CRC32C"}
_MPP = {"type": "number", "minimum": 0.08, "maximum": 1.2, "description": "Micrometres per pixel (base level)"}
_PX = {"type": "integer", "minimum": 1, "maximum": 150000}

_TEST_APP_INPUT_SCHEMA: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "Test Application slide metadata",
    "type": "object",
    "properties": {
        "checksum_base64_crc32c": _CHECKSUM,
        "resolution_mpp": _MPP,
        "width_px": _PX,
        "height_px": _PX,
        "media_type": {"type": "string"},
    },
    "required": ["checksum_base64_crc32c", "resolution_mpp", "width_px", "height_px"],
}

_HE_TME_INPUT_SCHEMA: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "Atlas H&E-TME slide metadata",
    "type": "object",
    "properties": {
        "checksum_base64_crc32c": _CHECKSUM,
        "width_px": _PX,
        "height_px": _PX,
        "resolution_mpp": _MPP,
        "media_type": {
            "type": "string",
            "enum": ["image/tiff", "application/dicom", "application/zip", "application/octet-stream"],
        },
        "staining_method": {"const": "H&E"},
        "specimen": {
            "type": "object",
            "properties": {"tissue": {"enum": list(TISSUES)}, "disease": {"enum": list(DISEASES)}},
            "required": ["tissue", "disease"],
        },
    },
    "required": [
        "checksum_base64_crc32c",
        "width_px",
        "height_px",
        "resolution_mpp",
        "media_type",
        "staining_method",
        "specimen",
    ],
}

_FILE_META: dict[str, Any] = {
    "type": "object",
    "properties": {"checksum_base64_crc32c": {"type": "string"}, "media_type": {"type": "string"}},
    "required": ["checksum_base64_crc32c", "media_type"],
}
_HEATMAP_META: dict[str, Any] = {
    "type": "object",
    "properties": {
        **_FILE_META["properties"],
        "width": {"type": "integer"},
        "height": {"type": "integer"},
        "base_mpp": {"type": "number"},
        "class_colors": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "integer"}}},
    },
    "required": ["checksum_base64_crc32c", "media_type", "width", "height", "base_mpp", "class_colors"],
}


def _outputs(stages: tuple[str, ...], extra: tuple[ArtifactSpec, ...] = ()) -> tuple[ArtifactSpec, ...]:
    specs: list[ArtifactSpec] = []
    for stage in stages:
        specs += [
            ArtifactSpec(f"{stage}:segmentation_map_image", "image/tiff", _HEATMAP_META),
            ArtifactSpec(f"{stage}:geojson_polygons", "application/geo+json", _FILE_META),
            ArtifactSpec(f"{stage}:csv_class_information", "text/csv", _FILE_META),
        ]
    return (*specs, *extra)


_TEST_APP_OUTPUTS = _outputs(("tissue_qc",))
_HE_TME_OUTPUTS = _outputs(
    ("tissue_qc", "tissue_segmentation"),
    (
        ArtifactSpec("cell_classification:geojson_polygons", "application/geo+json", _FILE_META),
        ArtifactSpec("readout_generation:slide_readouts", "text/csv", _FILE_META),
        ArtifactSpec("readout_generation:cell_readouts", "text/csv", _FILE_META),
    ),
)

APPLICATIONS: tuple[Application, ...] = (
    Application(
        application_id="he-tme",
        name="Atlas H&E-TME",
        description=(
            "Tumour microenvironment analysis of FFPE H&E slides: tissue quality control, tissue segmentation, "
            "cell detection and classification, and slide and cell readouts."
        ),
        regulatory_classes=("RUO",),
        versions=(
            Version(
                "1.0.0-beta.8",
                "2025-06-02T09:00:00+00:00",
                "## 1.0.0-beta.8\n\n- First public beta of the v1 output layout.\n",
                (ArtifactSpec("whole_slide_image", "image/tiff", _HE_TME_INPUT_SCHEMA),),
                _HE_TME_OUTPUTS,
            ),
            Version(
                "1.3.0",
                "2026-03-16T09:00:00+00:00",
                "## 1.3.0\n\n- Input artifact renamed to `input_slide`.\n- Faster cell classification.\n",
                (ArtifactSpec("input_slide", "image/tiff", _HE_TME_INPUT_SCHEMA),),
                _HE_TME_OUTPUTS,
            ),
        ),
    ),
    Application(
        application_id="test-app",
        name="Test Application",
        description="A small application with two algorithms, tissue QC and tissue segmentation, for testing.",
        regulatory_classes=("RUO",),
        versions=(
            Version(
                "0.0.4",
                "2025-01-20T09:00:00+00:00",
                "## 0.0.4\n\n- Tissue QC outputs.\n",
                (ArtifactSpec("whole_slide_image", "image/tiff", _TEST_APP_INPUT_SCHEMA),),
                _TEST_APP_OUTPUTS,
            ),
            Version(
                "0.0.6",
                "2025-09-01T09:00:00+00:00",
                "## 0.0.6\n\n- Sharper tissue boundaries.\n",
                (ArtifactSpec("whole_slide_image", "image/tiff", _TEST_APP_INPUT_SCHEMA),),
                _TEST_APP_OUTPUTS,
            ),
        ),
    ),
)

_SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)


def semver_key(number: str) -> tuple[Any, ...]:
    """Sort key implementing SemVer 2.0 precedence (a release sorts after its pre-releases).

    Args:
        number: A version number such as ``1.0.0-beta.8``.

    Returns:
        A tuple that sorts like the versions.

    Raises:
        ValueError: When the number is not SemVer.

    Example:
        >>> sorted(["1.0.0", "1.0.0-beta.8", "0.9.1"], key=semver_key)
        ['0.9.1', '1.0.0-beta.8', '1.0.0']
    """
    match = _SEMVER.match(number)
    if match is None:
        msg = f"{number!r} is not a semantic version"
        raise ValueError(msg)
    major, minor, patch, pre, _build = match.groups()
    pre_key: tuple[Any, ...] = (1,)
    if pre:
        parts = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split("."))
        pre_key = (0, parts)
    return (int(major), int(minor), int(patch), pre_key)


def get_application(application_id: str) -> Application | None:
    """Find an application by id."""
    return next((a for a in APPLICATIONS if a.application_id == application_id), None)


def get_version(application_id: str, number: str) -> Version | None:
    """Find one version of an application."""
    application = get_application(application_id)
    if application is None:
        return None
    return next((v for v in application.versions if v.number == number), None)


def latest_version(application: Application) -> Version:
    """The highest version by SemVer precedence."""
    return max(application.versions, key=lambda v: semver_key(v.number))
