"""Pydantic models for every schema of the Aignostics Platform API v1.7.0 (``components/schemas``).

Field names, types, optionality, enums and constraints follow the OpenAPI contract exactly, so the same
models serve the client (parsing responses, building requests) and the local platform (validating requests
and serialising responses in its FastAPI routes). They carry no behaviour.

Conventions:

- ``format: uuid`` is :class:`uuid.UUID`, ``format: date-time`` is :class:`datetime.datetime`,
  ``format: uri`` stays a plain ``str`` (so a caller's signed URL is echoed byte for byte).
- A field that the spec marks required but nullable has no default; an optional field defaults to ``None``.
- Unknown fields are ignored on input, so a newer platform adding fields does not break older clients.

One module on purpose (longer than most): it mirrors ``components/schemas`` one to one, and a test checks every
model's fields, required set, types, formats and constraints against the spec.

Example:
    >>> from aignostics_jupyter.client.models import RunState, RunItemStatistics
    >>> RunState("TERMINATED") is RunState.TERMINATED
    True
    >>> RunItemStatistics.model_validate({"item_count": 1, "item_pending_count": 1, "item_processing_count": 0,
    ...     "item_user_error_count": 0, "item_system_error_count": 0, "item_skipped_count": 0,
    ...     "item_succeeded_count": 0}).item_count
    1
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "SEMVER_PATTERN",
    "ApplicationReadResponse",
    "ApplicationReadShortResponse",
    "ApplicationVersion",
    "ArtifactOutput",
    "ArtifactState",
    "ArtifactTerminationReason",
    "CustomMetadataUpdateRequest",
    "CustomMetadataUpdateResponse",
    "GrantCreateRequest",
    "GrantReadResponse",
    "GrantRelation",
    "HTTPValidationError",
    "InputArtifact",
    "InputArtifactCreationRequest",
    "InputArtifactResultReadResponse",
    "ItemCreationRequest",
    "ItemOutput",
    "ItemResultReadResponse",
    "ItemState",
    "ItemTerminationReason",
    "MeReadResponse",
    "OrganizationReadResponse",
    "OutputArtifact",
    "OutputArtifactResultReadResponse",
    "OutputArtifactScope",
    "OutputArtifactVisibility",
    "ResourceType",
    "RunCreationRequest",
    "RunCreationResponse",
    "RunItemStatistics",
    "RunOutput",
    "RunReadResponse",
    "RunState",
    "RunTerminationReason",
    "SchedulingRequest",
    "SchedulingResponse",
    "ShareTokenCreateRequest",
    "ShareTokenCreateResponse",
    "ShareTokenReadResponse",
    "SubjectType",
    "UserReadResponse",
    "ValidationError",
    "VersionDocumentResponse",
    "VersionDocumentVisibility",
    "VersionReadResponse",
]

#: Strict SemVer 2.0 (pre-release and build metadata allowed), as the spec's version fields.
SEMVER_PATTERN = (
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
_MIME_PATTERN = r"^\w+\/\w+[-+.|\w+]+\w+$"

SemVer = Annotated[str, Field(pattern=SEMVER_PATTERN)]
MimeType = Annotated[str, Field(pattern=_MIME_PATTERN)]
Uri = Annotated[str, Field(min_length=1, max_length=2083, json_schema_extra={"format": "uri"})]
JsonObject = dict[str, Any]


class _Model(BaseModel):
    """Base of every API model: unknown fields are ignored, enums keep their type."""

    model_config = ConfigDict(extra="ignore")


# --------------------------------------------------------------------------------------------------- enums


class RunState(StrEnum):
    """State of a run: ``PENDING`` → ``PROCESSING`` (may fall back to ``PENDING``) → ``TERMINATED``."""

    PENDING = "PENDING"
    PROCESSING = "PROCESSING"
    TERMINATED = "TERMINATED"


class RunTerminationReason(StrEnum):
    """Why a run terminated (``ALL_ITEMS_PROCESSED`` does not mean every item succeeded)."""

    ALL_ITEMS_PROCESSED = "ALL_ITEMS_PROCESSED"
    CANCELED_BY_SYSTEM = "CANCELED_BY_SYSTEM"
    CANCELED_BY_USER = "CANCELED_BY_USER"


class RunOutput(StrEnum):
    """How much output a run has: none, some items, or all items succeeded."""

    NONE = "NONE"
    PARTIAL = "PARTIAL"
    FULL = "FULL"


class ItemState(StrEnum):
    """State of an item (one slide) of a run."""

    PENDING = "PENDING"
    PROCESSING = "PROCESSING"
    TERMINATED = "TERMINATED"


class ItemTerminationReason(StrEnum):
    """Why an item terminated."""

    SUCCEEDED = "SUCCEEDED"
    USER_ERROR = "USER_ERROR"
    SYSTEM_ERROR = "SYSTEM_ERROR"
    SKIPPED = "SKIPPED"


class ItemOutput(StrEnum):
    """Whether an item has output (``FULL`` only when it succeeded)."""

    NONE = "NONE"
    FULL = "FULL"


class ArtifactState(StrEnum):
    """State of one output artifact."""

    PENDING = "PENDING"
    PROCESSING = "PROCESSING"
    TERMINATED = "TERMINATED"


class ArtifactTerminationReason(StrEnum):
    """Why an output artifact terminated."""

    SUCCEEDED = "SUCCEEDED"
    USER_ERROR = "USER_ERROR"
    SYSTEM_ERROR = "SYSTEM_ERROR"
    SKIPPED = "SKIPPED"


class ArtifactOutput(StrEnum):
    """Availability of an output artifact's file (only ``AVAILABLE`` can be downloaded)."""

    NONE = "NONE"
    AVAILABLE = "AVAILABLE"
    DELETED_BY_USER = "DELETED_BY_USER"
    DELETED_BY_SYSTEM = "DELETED_BY_SYSTEM"


class OutputArtifactScope(StrEnum):
    """Whether an output artifact exists per item or once per run."""

    ITEM = "ITEM"
    GLOBAL = "GLOBAL"


class OutputArtifactVisibility(StrEnum):
    """Whether an output artifact is shown to users."""

    INTERNAL = "INTERNAL"
    EXTERNAL = "EXTERNAL"


class VersionDocumentVisibility(StrEnum):
    """Visibility of a release document of an application version."""

    PUBLIC = "public"
    INTERNAL = "internal"


class ResourceType(StrEnum):
    """Kinds of resources that access grants refer to."""

    RUN = "run"
    ITEM = "item"
    OUTPUT_ARTIFACT = "output_artifact"
    SHARE_TOKEN = "share_token"  # noqa: S105 (a name, not a secret)


class SubjectType(StrEnum):
    """Kinds of subjects that access grants are given to."""

    USER = "user"
    ORGANIZATION_ADMIN = "organization_admin"
    ORGANIZATION_USER = "organization_user"
    SHARE_TOKEN = "share_token"  # noqa: S105 (a name, not a secret)


class GrantRelation(StrEnum):
    """Relation a grant gives (only ``viewer`` grants can be created)."""

    OWNER = "owner"
    EDITOR = "editor"
    VIEWER = "viewer"


# --------------------------------------------------------------------------------------------- applications


class ApplicationVersion(_Model):
    """A version number of an application and when it was released."""

    number: SemVer
    released_at: datetime


class ApplicationReadShortResponse(_Model):
    """An application as listed by ``GET /v1/applications``."""

    application_id: str
    name: str
    regulatory_classes: list[str]
    description: str
    latest_version: ApplicationVersion | None = None


class ApplicationReadResponse(_Model):
    """One application with every version available to the caller."""

    application_id: str
    name: str
    regulatory_classes: list[str]
    description: str
    versions: list[ApplicationVersion]


class InputArtifact(_Model):
    """An input an application version expects, with the JSON Schema of its metadata."""

    name: str
    mime_type: MimeType
    metadata_schema: JsonObject


class OutputArtifact(_Model):
    """An output an application version produces, with the JSON Schema of its metadata."""

    name: str
    mime_type: MimeType
    metadata_schema: JsonObject
    scope: OutputArtifactScope
    visibility: OutputArtifactVisibility


class VersionReadResponse(_Model):
    """The contract of one application version: its input and output artifacts."""

    version_number: SemVer
    changelog: str
    input_artifacts: list[InputArtifact]
    output_artifacts: list[OutputArtifact]
    released_at: datetime


class VersionDocumentResponse(_Model):
    """Metadata of one release document of an application version."""

    id: UUID
    name: str
    mime_type: str
    visibility: VersionDocumentVisibility
    created_at: datetime
    updated_at: datetime


# ------------------------------------------------------------------------------------------------- run input


class InputArtifactCreationRequest(_Model):
    """One input file of an item: a signed URL the platform can fetch and the file's metadata."""

    name: str
    download_url: Uri
    metadata: JsonObject


class ItemCreationRequest(_Model):
    """One item (slide) of a new run."""

    external_id: str = Field(max_length=255)
    custom_metadata: JsonObject | None = None
    input_artifacts: list[InputArtifactCreationRequest]


class SchedulingRequest(_Model):
    """Scheduling constraints of a new run: soft ``due_date`` and hard ``deadline``."""

    due_date: datetime | None = None
    deadline: datetime | None = None


class SchedulingResponse(_Model):
    """Scheduling fields returned in run responses."""

    due_date: datetime | None = None
    deadline: datetime | None = None


class RunCreationRequest(_Model):
    """Body of ``POST /v1/runs``: the application (version) and the items to process."""

    application_id: str
    version_number: str | None = None
    custom_metadata: JsonObject | None = None
    scheduling: SchedulingRequest | None = None
    callback_context: JsonObject | None = None
    items: list[ItemCreationRequest] = Field(min_length=1)


class RunCreationResponse(_Model):
    """Answer of ``POST /v1/runs``."""

    run_id: UUID


# -------------------------------------------------------------------------------------------------- run read


class RunItemStatistics(_Model):
    """Item counts of a run by state and, for terminated items, by termination reason."""

    item_count: int
    item_pending_count: int
    item_processing_count: int
    item_user_error_count: int
    item_system_error_count: int
    item_skipped_count: int
    item_succeeded_count: int


class RunReadResponse(_Model):
    """A run: its state, output, statistics and metadata."""

    run_id: UUID
    application_id: str
    version_number: str
    state: RunState
    output: RunOutput
    termination_reason: RunTerminationReason | None
    error_code: str | None
    error_message: str | None
    statistics: RunItemStatistics
    custom_metadata: JsonObject | None = None
    custom_metadata_checksum: str | None = None
    submitted_at: datetime
    submitted_by: str
    organization_id: str | None = None
    terminated_at: datetime | None = None
    num_preceding_items_org: int | None = None
    num_preceding_items_platform: int | None = None
    scheduling: SchedulingResponse | None = None


class InputArtifactResultReadResponse(_Model):
    """An input artifact of an item, echoed back."""

    input_artifact_id: UUID
    name: str
    metadata: JsonObject | None = None
    download_url: Uri | None = None


class OutputArtifactResultReadResponse(_Model):
    """An output artifact of an item; download it through ``/runs/{run_id}/artifacts/{id}/file``."""

    output_artifact_id: UUID
    name: str
    metadata: JsonObject | None = None
    state: ArtifactState
    termination_reason: ArtifactTerminationReason | None = None
    output: ArtifactOutput
    error_code: str | None = None
    error_message: str | None = None
    download_url: Uri | None = Field(None, deprecated=True)


class ItemResultReadResponse(_Model):
    """One item of a run with its state and artifacts."""

    item_id: UUID
    external_id: str
    custom_metadata: JsonObject | None
    custom_metadata_checksum: str | None = None
    queue_position_org: int | None = None
    queue_position_platform: int | None = None
    state: ItemState
    output: ItemOutput
    termination_reason: ItemTerminationReason | None = None
    error_code: str | None = None
    error_message: str | None = None
    terminated_at: datetime | None = None
    input_artifacts: list[InputArtifactResultReadResponse]
    output_artifacts: list[OutputArtifactResultReadResponse]


# -------------------------------------------------------------------------------------------- custom metadata


class CustomMetadataUpdateRequest(_Model):
    """Body of the custom-metadata PUTs; a checksum makes the write conditional (412 on mismatch)."""

    custom_metadata: JsonObject | None = None
    custom_metadata_checksum: str | None = None


class CustomMetadataUpdateResponse(_Model):
    """Answer of the custom-metadata PUTs: the new checksum (None when the metadata is None)."""

    custom_metadata_checksum: str | None = Field(json_schema_extra={"readOnly": True})


# ------------------------------------------------------------------------------------------------------ me


class UserReadResponse(_Model):
    """The calling user (mirrors the identity provider's user)."""

    id: str
    email: str | None = None
    email_verified: bool | None = None
    name: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    nickname: str | None = None
    picture: str | None = None
    updated_at: datetime | None = None


class OrganizationReadResponse(_Model):
    """The caller's organization, including the credentials of its bucket (secret: never print them)."""

    id: str
    name: str | None = None
    display_name: str | None = None
    aignostics_bucket_hmac_access_key_id: str
    aignostics_bucket_hmac_secret_access_key: str = Field(repr=False)
    aignostics_bucket_name: str
    aignostics_bucket_protocol: str
    aignostics_logfire_token: str = Field(repr=False)
    aignostics_sentry_dsn: str = Field(repr=False)


class MeReadResponse(_Model):
    """Answer of ``GET /v1/me``."""

    user: UserReadResponse
    organization: OrganizationReadResponse


# -------------------------------------------------------------------------------------------------- access


class GrantCreateRequest(_Model):
    """Body of ``POST /v1/access/grants``."""

    resource_type: ResourceType
    resource_id: UUID
    subject_type: SubjectType
    subject_id: str | None = None
    subject_email: str | None = None
    relation: GrantRelation


class GrantReadResponse(_Model):
    """An access grant."""

    grant_id: UUID
    resource_type: ResourceType
    resource_id: UUID
    subject_type: SubjectType
    subject_id: str
    relation: GrantRelation
    created_by: str
    created_at: datetime
    revoked: bool


class ShareTokenCreateRequest(_Model):
    """Body of ``POST /v1/access/share-tokens`` (no expiry means never)."""

    expires_at: datetime | None = None


class ShareTokenCreateResponse(_Model):
    """A new share token, with its secret (returned only once, never stored)."""

    share_token_id: UUID
    share_token: str = Field(repr=False)
    created_at: datetime
    expires_at: datetime | None
    revoked: bool


class ShareTokenReadResponse(_Model):
    """A share token record, without its secret."""

    share_token_id: UUID
    created_at: datetime
    expires_at: datetime | None
    revoked: bool


# -------------------------------------------------------------------------------------------------- errors


class ValidationError(_Model):
    """One entry of a FastAPI validation error (422)."""

    loc: list[str | int]
    msg: str
    type: str
    input: Any = None
    ctx: JsonObject = Field(default_factory=dict)


class HTTPValidationError(_Model):
    """The body of a 422 answer."""

    detail: list[ValidationError] = Field(default_factory=list)
