"""``/v1/runs``: list, create, get, cancel, delete artifacts, run custom metadata, artifact download."""

from __future__ import annotations

import json
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse

from aignostics_jupyter.client.models import CustomMetadataUpdateRequest, RunCreationRequest
from aignostics_jupyter.emulator.access import load_run
from aignostics_jupyter.emulator.auth import api_base, get_services, optional_principal, require_principal
from aignostics_jupyter.emulator.identity import INTERNAL_BUCKET, Principal
from aignostics_jupyter.emulator.listing import check_jsonpath, order_by
from aignostics_jupyter.emulator.run_validation import validate_run_request
from aignostics_jupyter.emulator.runstore import cancel_run, create_run, dumps, metadata_checksum
from aignostics_jupyter.emulator.services import Services
from aignostics_jupyter.emulator.views import runs_json

__all__ = ["router"]

router = APIRouter(prefix="/v1/runs", tags=["runs"])

RUN_SORT_FIELDS = {
    "run_id": "r.run_id",
    "application_id": "r.application_id",
    "version_number": "r.version_number",
    "custom_metadata": "r.custom_metadata",
    "submitted_at": "r.submitted_at",
    "submitted_by": "r.submitted_by",
    "terminated_at": "r.terminated_at",
    "termination_reason": "r.termination_reason",
    "state": "r.state",
}

Services_ = Annotated[Services, Depends(get_services)]
Caller = Annotated[Principal, Depends(require_principal)]
MaybeCaller = Annotated[Principal | None, Depends(optional_principal)]


@router.get("")
def list_runs(
    *,
    services: Services_,
    caller: Caller,
    application_id: str | None = None,
    application_version: str | None = None,
    external_id: str | None = None,
    custom_metadata: Annotated[str | None, Query(max_length=1000)] = None,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=5, le=100)] = 50,
    submitted_by: str | None = None,
    organization_id: str | None = None,
    for_organization: str | None = None,
    sort: Annotated[list[str] | None, Query()] = None,
) -> list[dict[str, Any]]:
    """List the caller's runs (or, for admins with ``for_organization``, the organization's)."""
    where: list[str] = []
    params: list[Any] = []
    if for_organization is not None:
        allowed = caller.role == "super_admin" or (caller.is_admin and for_organization == caller.org_id)
        if not allowed:
            raise HTTPException(403, "only admins of that organization may list its runs")
        where.append("r.org_id = ?")
        params.append(for_organization)
    else:
        where.append("r.submitted_by = ?")
        params.append(caller.user_id)
    simple = {"r.application_id": application_id, "r.version_number": application_version}
    if submitted_by is not None:
        simple["r.submitted_by"] = caller.user_id if submitted_by == "me" else submitted_by
    if organization_id is not None:
        simple["r.org_id"] = caller.org_id if organization_id == "my_org" else organization_id
    for column, value in simple.items():
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    if external_id is not None:
        where.append("EXISTS (SELECT 1 FROM items i WHERE i.run_id = r.run_id AND i.external_id = ?)")
        params.append(external_id)
    if check_jsonpath(custom_metadata) is not None:
        where.append("jsonpath_match(r.custom_metadata, ?)")
        params.append(custom_metadata)
    order = order_by(sort, RUN_SORT_FIELDS, "r.submitted_at DESC", "r.seq DESC")
    # A deferred join: the sort only carries keys, and full rows are read for one page.
    sql = (
        f"SELECT r.* FROM runs r JOIN (SELECT r.seq FROM runs r WHERE {' AND '.join(where)} "  # noqa: S608
        f"ORDER BY {order} LIMIT ? OFFSET ?) AS page ON page.seq = r.seq ORDER BY {order}"
    )
    rows = services.db.all(sql, [*params, page_size, (page - 1) * page_size])
    return runs_json(services.db, rows)


@router.post("", status_code=201)
def create_run_route(services: Services_, caller: Caller, body: RunCreationRequest) -> dict[str, str]:
    """Validate and queue a run; its items are processed in the background."""
    version = validate_run_request(services.db, caller, body)
    run_id = create_run(services.db, caller, body, version)
    if services.runner is not None:
        services.runner.wake()
    return {"run_id": run_id}


@router.get("/{run_id}")
def get_run(services: Services_, caller: MaybeCaller, run_id: UUID, share_token: str | None = None) -> dict[str, Any]:
    """One run with its statistics."""
    row = load_run(services.db, str(run_id), caller, share_token=share_token)
    return runs_json(services.db, [row])[0]


@router.post("/{run_id}/cancel", status_code=202)
def cancel(services: Services_, caller: Caller, run_id: UUID) -> JSONResponse:
    """Cancel a run that has not terminated: pending items are skipped (409 when already terminated)."""
    load_run(services.db, str(run_id), caller, write=True)
    done = cancel_run(
        services.db,
        str(run_id),
        reason="CANCELED_BY_USER",
        item_message="The run was cancelled by the user before the item was processed.",
    )
    if not done:
        raise HTTPException(409, "the run has already terminated or was cancelled")
    return JSONResponse({}, status_code=202)


@router.delete("/{run_id}/artifacts")
def delete_artifacts(services: Services_, caller: Caller, run_id: UUID) -> dict[str, Any]:
    """Delete every output artifact of a terminated run (downloads then answer 410)."""
    run = load_run(services.db, str(run_id), caller, write=True)
    if run["state"] != "TERMINATED":
        raise HTTPException(409, "output artifacts can only be deleted once the run has terminated")
    rows = services.db.all(
        "SELECT output_artifact_id, storage_key FROM output_artifacts WHERE run_id = ? AND output = 'AVAILABLE'",
        (str(run_id),),
    )
    for row in rows:
        if row["storage_key"]:
            services.blobs.delete(INTERNAL_BUCKET, row["storage_key"])
        services.db.execute(
            "UPDATE output_artifacts SET output = 'DELETED_BY_USER', metadata = NULL WHERE output_artifact_id = ?",
            (row["output_artifact_id"],),
        )
    return {}


def update_metadata(
    services: Services, table: str, key: str, value: str, body: CustomMetadataUpdateRequest
) -> dict[str, str | None]:
    """Replace custom metadata with the optimistic checksum check (412 on mismatch)."""
    with services.db.transaction() as conn:
        row = conn.execute(f"SELECT custom_metadata_checksum FROM {table} WHERE {key} = ?", (value,)).fetchone()  # noqa: S608
        current = row["custom_metadata_checksum"]
        if body.custom_metadata_checksum is not None and body.custom_metadata_checksum != current:
            raise HTTPException(
                412,
                f"custom_metadata_checksum {body.custom_metadata_checksum!r} does not match the current {current!r}",
            )
        checksum = metadata_checksum(body.custom_metadata)
        conn.execute(
            f"UPDATE {table} SET custom_metadata = ?, custom_metadata_checksum = ? WHERE {key} = ?",  # noqa: S608
            (dumps(body.custom_metadata), checksum, value),
        )
    return {"custom_metadata_checksum": checksum}


@router.put("/{run_id}/custom-metadata")
def put_run_metadata(
    services: Services_, caller: Caller, run_id: UUID, body: CustomMetadataUpdateRequest
) -> dict[str, str | None]:
    """Replace a run's custom metadata."""
    load_run(services.db, str(run_id), caller, write=True)
    return update_metadata(services, "runs", "run_id", str(run_id), body)


@router.get("/{run_id}/artifacts/{artifact_id}/file", status_code=307)
def artifact_file(
    *,
    request: Request,
    services: Services_,
    caller: MaybeCaller,
    run_id: UUID,
    artifact_id: UUID,
    share_token: str | None = None,
) -> RedirectResponse:
    """307 to a short-lived signed URL of the artifact (410 once deleted); item and artifact grants suffice."""
    row = services.db.one(
        "SELECT * FROM output_artifacts WHERE output_artifact_id = ? AND run_id = ?", (str(artifact_id), str(run_id))
    )
    parts = [row["item_id"], row["output_artifact_id"]] if row is not None else []
    load_run(services.db, str(run_id), caller, share_token=share_token, parts=parts)
    if row is None:
        raise HTTPException(404, f"artifact {artifact_id} not found in run {run_id}")
    if row["output"] in ("DELETED_BY_USER", "DELETED_BY_SYSTEM"):
        raise HTTPException(410, f"artifact {artifact_id} has been deleted")
    if row["output"] != "AVAILABLE" or not row["storage_key"]:
        raise HTTPException(404, f"artifact {artifact_id} has no file (state {row['state']})")
    metadata = json.loads(row["metadata"] or "{}")
    media_type = metadata.get("media_type") or metadata.get("mime_type") or "application/octet-stream"
    url = services.internal_url(api_base(request), row["storage_key"], extra={"response-content-type": media_type})
    return RedirectResponse(url, status_code=307, headers={"Cache-Control": "no-store"})
