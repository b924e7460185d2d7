"""Items of a run (``/v1/runs/{run_id}/items…``): lazy filtered lists, lookup by external id, metadata."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote
from uuid import UUID

from aignostics_jupyter.client._http import ApiCore, decode_json
from aignostics_jupyter.client._pagination import Pages
from aignostics_jupyter.client.models import (
    CustomMetadataUpdateRequest,
    CustomMetadataUpdateResponse,
    ItemResultReadResponse,
    ItemState,
    ItemTerminationReason,
)
from aignostics_jupyter.exceptions import NotFoundError

__all__ = ["Items"]


def _seg(value: object) -> str:
    return quote(str(value), safe="")


def _as_list(value: str | Iterable[str] | None) -> list[str] | None:
    if value is None:
        return None
    return [value] if isinstance(value, str) else [str(v) for v in value]


def put_custom_metadata(
    core: ApiCore, path: str, custom_metadata: Mapping[str, Any] | None, checksum: str | None
) -> str | None:
    """PUT a run's or an item's custom metadata (never retried; clears the read cache); return the new checksum."""
    body = CustomMetadataUpdateRequest(
        custom_metadata=dict(custom_metadata) if custom_metadata is not None else None,
        custom_metadata_checksum=checksum,
    )
    try:
        response = core.request("PUT", path, family="run_submit", json=body.model_dump(mode="json"))
    finally:
        core.mutated()
    data = decode_json(response, f"PUT {path}") or {"custom_metadata_checksum": None}
    return CustomMetadataUpdateResponse.model_validate(data).custom_metadata_checksum


class Items:
    """Items of runs (reached as ``client.runs.items(...)``, ``client.runs.item(...)``)."""

    def __init__(self, core: ApiCore) -> None:
        self._core = core

    def list(
        self,
        run_id: str | UUID,
        *,
        item_ids: Iterable[str | UUID] | None = None,
        external_ids: str | Iterable[str] | None = None,
        state: ItemState | str | None = None,
        termination_reason: ItemTerminationReason | str | None = None,
        custom_metadata: str | None = None,
        sort: str | Iterable[str] | None = None,
        page_size: int = 50,
        share_token: str | None = None,
        nocache: bool = False,
    ) -> Pages[ItemResultReadResponse]:
        """List a run's items lazily, with the spec's filters."""
        params: dict[str, Any] = {
            "item_id__in": [str(i) for i in item_ids] if item_ids is not None else None,
            "external_id__in": _as_list(external_ids),
            "state": state,
            "termination_reason": termination_reason,
            "custom_metadata": custom_metadata,
            "sort": _as_list(sort),
            "share_token": share_token,
        }
        path = f"/runs/{_seg(run_id)}/items"

        def fetch(page: int, size: int) -> list[Any]:
            data = self._core.get_json(
                path, family="run", params={**params, "page": page, "page_size": size}, nocache=nocache
            )
            return list(data or [])

        return Pages(fetch, ItemResultReadResponse.model_validate, page_size=page_size)

    def get(
        self, run_id: str | UUID, external_id: str, *, share_token: str | None = None, nocache: bool = False
    ) -> ItemResultReadResponse:
        """Return one item by the external id given at submission.

        External ids containing ``/`` (local paths, URLs) are looked up through the list filter, since a
        slash cannot travel inside one path segment through every proxy.
        """
        if "/" in external_id:
            found = self.list(
                run_id, external_ids=[external_id], share_token=share_token, nocache=nocache, page_size=5
            ).first()
            if found is None:
                raise NotFoundError(f"The run {run_id} has no item with external id {external_id!r}")
            return found
        path = f"/runs/{_seg(run_id)}/items/{_seg(external_id)}"
        data = self._core.get_json(path, family="run", params={"share_token": share_token}, nocache=nocache)
        return ItemResultReadResponse.model_validate(data)

    def update_metadata(
        self,
        run_id: str | UUID,
        external_id: str,
        custom_metadata: Mapping[str, Any] | None,
        *,
        checksum: str | None = None,
    ) -> str | None:
        """Replace an item's custom metadata; with ``checksum`` the write fails (412) if someone changed it first.

        Returns:
            The new checksum.
        """
        path = f"/runs/{_seg(run_id)}/items/{_seg(external_id)}/custom-metadata"
        return put_custom_metadata(self._core, path, custom_metadata, checksum)
