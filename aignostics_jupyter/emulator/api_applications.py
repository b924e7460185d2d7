"""``/v1/applications``: applications, versions and version documents (307 to signed URLs)."""

from __future__ import annotations

import functools
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import RedirectResponse

from aignostics_jupyter.client.models import SEMVER_PATTERN
from aignostics_jupyter.emulator.auth import api_base, get_services, require_principal
from aignostics_jupyter.emulator.catalog import (
    APPLICATIONS,
    Application,
    DocumentSpec,
    Version,
    get_application,
    latest_version,
    semver_key,
)
from aignostics_jupyter.emulator.documents import document_id, document_key
from aignostics_jupyter.emulator.identity import Principal, get_org
from aignostics_jupyter.emulator.listing import raise_422
from aignostics_jupyter.emulator.services import Services

__all__ = ["router"]

router = APIRouter(prefix="/v1/applications", tags=["applications"])

Services_ = Annotated[Services, Depends(get_services)]
Caller = Annotated[Principal, Depends(require_principal)]
_SORT_FIELDS = ("application_id", "name", "description", "regulatory_classes")


def _version_json(version: Version) -> dict[str, str]:
    return {"number": version.number, "released_at": version.released_at}


def _visible(services: Services, caller: Principal) -> list[Application]:
    org = get_org(services.db, caller.org_id)
    return [a for a in APPLICATIONS if org is not None and org.can_use(a.application_id)]


def _application(services: Services, caller: Principal, application_id: str) -> Application:
    application = get_application(application_id)
    if application is None:
        raise HTTPException(404, f"application {application_id!r} not found")
    if application not in _visible(services, caller):
        raise HTTPException(403, f"application {application_id!r} is not available to your organization")
    return application


def _version(services: Services, caller: Principal, application_id: str, number: str) -> Version:
    application = _application(services, caller, application_id)
    version = next((v for v in application.versions if v.number == number), None)
    if version is None:
        raise HTTPException(404, f"version {number!r} of application {application_id!r} not found")
    return version


def _sort_value(name: str, application: Application) -> str:
    return str(getattr(application, name))


@router.get("")
def list_applications(
    services: Services_,
    caller: Caller,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(alias="page-size", ge=5, le=100)] = 50,
    sort: Annotated[list[str] | None, Query()] = None,
) -> list[dict[str, Any]]:
    """Applications assigned to the caller's organization, with their latest version."""
    applications = _visible(services, caller)
    for value in reversed(sort or ["application_id"]):
        name = value.lstrip("+-")
        if name not in _SORT_FIELDS:
            raise_422(
                ("query", "sort"), f"cannot sort by {name!r}; sortable fields are {', '.join(_SORT_FIELDS)}", value
            )
        applications.sort(key=functools.partial(_sort_value, name), reverse=value.startswith("-"))
    start = (page - 1) * page_size
    return [
        {
            "application_id": a.application_id,
            "name": a.name,
            "regulatory_classes": list(a.regulatory_classes),
            "description": a.description,
            "latest_version": _version_json(latest_version(a)),
        }
        for a in applications[start : start + page_size]
    ]


@router.get("/{application_id}")
def read_application(services: Services_, caller: Caller, application_id: str) -> dict[str, Any]:
    """One application with every version (sorted by SemVer)."""
    application = _application(services, caller, application_id)
    versions = sorted(application.versions, key=lambda v: semver_key(v.number))
    return {
        "application_id": application.application_id,
        "name": application.name,
        "regulatory_classes": list(application.regulatory_classes),
        "description": application.description,
        "versions": [_version_json(v) for v in versions],
    }


@router.get("/{application_id}/versions/{version}")
def version_details(
    services: Services_,
    caller: Caller,
    application_id: str,
    version: Annotated[str, Path(pattern=SEMVER_PATTERN)],
) -> dict[str, Any]:
    """The version's contract: input and output artifacts with their metadata schemas."""
    found = _version(services, caller, application_id, version)
    return {
        "version_number": found.number,
        "changelog": found.changelog,
        "input_artifacts": [a.as_input() for a in found.input_artifacts],
        "output_artifacts": [a.as_output() for a in found.output_artifacts],
        "released_at": found.released_at,
    }


def _document_json(application_id: str, version: Version, document: DocumentSpec) -> dict[str, Any]:
    return {
        "id": document_id(application_id, version.number, document.name),
        "name": document.name,
        "mime_type": document.mime_type,
        "visibility": "public",
        "created_at": version.released_at,
        "updated_at": version.released_at,
    }


def _document(
    services: Services, caller: Principal, application_id: str, number: str, name: str
) -> tuple[Version, DocumentSpec]:
    version = _version(services, caller, application_id, number)
    document = next((d for d in version.documents if d.name == name), None)
    if document is None:
        raise HTTPException(404, f"document {name!r} not found for {application_id} {number}")
    return version, document


@router.get("/{application_id}/versions/{version}/documents")
def list_documents(services: Services_, caller: Caller, application_id: str, version: str) -> list[dict[str, Any]]:
    """The version's public documents."""
    found = _version(services, caller, application_id, version)
    return [_document_json(application_id, found, d) for d in found.documents]


@router.get("/{application_id}/versions/{version}/documents/{name}")
def get_document(services: Services_, caller: Caller, application_id: str, version: str, name: str) -> dict[str, Any]:
    """Metadata of one document."""
    found, document = _document(services, caller, application_id, version, name)
    return _document_json(application_id, found, document)


@router.get("/{application_id}/versions/{version}/documents/{name}/file", status_code=307)
def document_file(
    *, request: Request, services: Services_, caller: Caller, application_id: str, version: str, name: str
) -> RedirectResponse:
    """307 to a signed URL that downloads the document as an attachment."""
    _document(services, caller, application_id, version, name)
    disposition = f'attachment; filename="{name}"'
    url = services.internal_url(
        api_base(request),
        document_key(application_id, version, name),
        extra={"response-content-disposition": disposition},
    )
    return RedirectResponse(
        url, status_code=307, headers={"Cache-Control": "no-store", "Content-Disposition": disposition}
    )


@router.get("/{application_id}/versions/{version}/documents/{name}/content", status_code=307)
def document_content(
    *, request: Request, services: Services_, caller: Caller, application_id: str, version: str, name: str
) -> RedirectResponse:
    """307 to a signed URL that serves the document with its stored content type."""
    _document(services, caller, application_id, version, name)
    url = services.internal_url(api_base(request), document_key(application_id, version, name))
    return RedirectResponse(url, status_code=307, headers={"Cache-Control": "no-store"})
