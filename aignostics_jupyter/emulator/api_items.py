"""``/v1/runs/{run_id}/items``: list items, get one by external id, replace its custom metadata."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from aignostics_jupyter.client.models import CustomMetadataUpdateRequest, ItemState, ItemTerminationReason
from aignostics_jupyter.emulator.access import load_run
from aignostics_jupyter.emulator.api_runs import update_metadata
from aignostics_jupyter.emulator.auth import api_base, get_services, optional_principal, require_principal
from aignostics_jupyter.emulator.identity import Principal
from aignostics_jupyter.emulator.listing import check_jsonpath, order_by
from aignostics_jupyter.emulator.services import Services
from aignostics_jupyter.emulator.views import items_json

__all__ = ["router"]

router = APIRouter(prefix="/v1/runs/{run_id}/items", tags=["items"])

ITEM_SORT_FIELDS = {
    "item_id": "item_id",
    "external_id": "external_id",
    "custom_metadata": "custom_metadata",
    "terminated_at": "terminated_at",
    "termination_reason": "termination_reason",
    "state": "state",
}

Services_ = Annotated[Services, Depends(get_services)]
Caller = Annotated[Principal, Depends(require_principal)]
MaybeCaller = Annotated[Principal | None, Depends(optional_principal)]


@router.get("")
def list_items(
    *,
    request: Request,
    services: Services_,
    caller: MaybeCaller,
    run_id: UUID,
    share_token: str | None = None,
    item_id__in: Annotated[list[UUID] | None, Query()] = None,
    external_id__in: Annotated[list[str] | None, Query()] = None,
    state: ItemState | None = None,
    termination_reason: ItemTerminationReason | None = None,
    custom_metadata: Annotated[str | None, Query(max_length=1000)] = None,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=5, le=100)] = 50,
    sort: Annotated[list[str] | None, Query()] = None,
) -> list[dict[str, Any]]:
    """A page of a run's items, filtered and sorted."""
    load_run(services.db, str(run_id), caller, share_token=share_token)
    where = ["run_id = ?"]
    params: list[Any] = [str(run_id)]
    item_ids = [str(i) for i in item_id__in or []] + request.query_params.getlist("item_id__in[]")
    external_ids = list(external_id__in or []) + request.query_params.getlist("external_id__in[]")
    for column, values in (("item_id", item_ids), ("external_id", external_ids)):
        if values:
            where.append(f"{column} IN ({','.join('?' for _ in values)})")
            params += values
    if state is not None:
        where.append("state = ?")
        params.append(state.value)
    if termination_reason is not None:
        where.append("state = 'TERMINATED' AND termination_reason = ?")
        params.append(termination_reason.value)
    if check_jsonpath(custom_metadata) is not None:
        where.append("jsonpath_match(custom_metadata, ?)")
        params.append(custom_metadata)
    order = order_by(sort, ITEM_SORT_FIELDS, "seq ASC", "seq ASC")
    sql = f"SELECT * FROM items WHERE {' AND '.join(where)} ORDER BY {order} LIMIT ? OFFSET ?"  # noqa: S608
    rows = services.db.all(sql, [*params, page_size, (page - 1) * page_size])
    return items_json(services.db, rows, artifact_url=_artifact_url(request, services))


def _artifact_url(request: Request, services: Services) -> Callable[[str, str], str]:
    base = api_base(request)

    def sign(key: str, media_type: str) -> str:
        return services.internal_url(base, key, extra={"response-content-type": media_type})

    return sign


def _item_row(services: Services, run_id: UUID, external_id: str) -> Any:
    row = services.db.one("SELECT * FROM items WHERE run_id = ? AND external_id = ?", (str(run_id), external_id))
    if row is None:
        raise HTTPException(404, f"item with external_id {external_id!r} not found in run {run_id}")
    return row


@router.get("/{external_id:path}")
def get_item(
    *,
    request: Request,
    services: Services_,
    caller: MaybeCaller,
    run_id: UUID,
    external_id: str,
    share_token: str | None = None,
) -> dict[str, Any]:
    """One item by the caller's external id (a grant on just this item suffices)."""
    row = services.db.one("SELECT * FROM items WHERE run_id = ? AND external_id = ?", (str(run_id), external_id))
    parts = [row["item_id"]] if row is not None else []
    load_run(services.db, str(run_id), caller, share_token=share_token, parts=parts)
    item = _item_row(services, run_id, external_id)
    return items_json(services.db, [item], artifact_url=_artifact_url(request, services))[0]


@router.put("/{external_id:path}/custom-metadata")
def put_item_metadata(
    services: Services_, caller: Caller, run_id: UUID, external_id: str, body: CustomMetadataUpdateRequest
) -> dict[str, str | None]:
    """Replace an item's custom metadata (412 on checksum mismatch)."""
    load_run(services.db, str(run_id), caller, write=True)
    row = _item_row(services, run_id, external_id)
    return update_metadata(services, "items", "item_id", row["item_id"], body)
