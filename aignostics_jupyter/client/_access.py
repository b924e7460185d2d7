"""Sharing runs: access grants and share tokens (``/v1/access…``).

Workflow: create a share token, grant it ``viewer`` on a run, hand the secret to the recipient, who passes it
as ``share_token=`` to the run, items and artifact reads.

Example:
    >>> token = client.access.create_share_token()  # doctest: +SKIP
    >>> client.access.create_grant("run", run_id, "share_token", subject_id=str(token.share_token_id))  # doctest: +SKIP
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from urllib.parse import quote
from uuid import UUID

from aignostics_jupyter.client._http import ApiCore, decode_json
from aignostics_jupyter.client._pagination import Pages
from aignostics_jupyter.client.models import (
    GrantCreateRequest,
    GrantReadResponse,
    GrantRelation,
    ResourceType,
    ShareTokenCreateRequest,
    ShareTokenCreateResponse,
    ShareTokenReadResponse,
    SubjectType,
)

__all__ = ["Access"]


def _seg(value: object) -> str:
    return quote(str(value), safe="")


class Access:
    """Grants and share tokens of the caller."""

    def __init__(self, core: ApiCore) -> None:
        self._core = core

    # ------------------------------------------------------------------------------------------ grants

    def create_grant(
        self,
        resource_type: ResourceType | str,
        resource_id: str | UUID,
        subject_type: SubjectType | str,
        *,
        subject_id: str | None = None,
        subject_email: str | None = None,
        relation: GrantRelation | str = GrantRelation.VIEWER,
    ) -> GrantReadResponse:
        """Share a resource with a subject (only ``viewer`` grants can be created)."""
        body = GrantCreateRequest(
            resource_type=ResourceType(resource_type),
            resource_id=UUID(str(resource_id)),
            subject_type=SubjectType(subject_type),
            subject_id=subject_id,
            subject_email=subject_email,
            relation=GrantRelation(relation),
        )
        return GrantReadResponse.model_validate(self._mutate("POST", "/access/grants", body.model_dump(mode="json")))

    def list_grants(
        self,
        *,
        resource_type: ResourceType | str | None = None,
        resource_id: str | UUID | None = None,
        subject_type: SubjectType | str | None = None,
        subject_id: str | None = None,
        relation: Iterable[GrantRelation | str] | None = None,
        revoked: bool | None = None,
        sort: str | builtins.list[str] | None = None,
        page_size: int = 100,
        nocache: bool = False,
    ) -> Pages[GrantReadResponse]:
        """List grants lazily (org admins see their org's, users those on what they submitted)."""
        params: dict[str, Any] = {
            "resource_type": resource_type,
            "resource_id": resource_id,
            "subject_type": subject_type,
            "subject_id": subject_id,
            "relation": builtins.list(relation) if relation is not None else None,
            "revoked": revoked,
            "sort": sort,
        }
        return self._pages("/access/grants", params, GrantReadResponse.model_validate, page_size, nocache)

    def get_grant(self, grant_id: str | UUID, *, nocache: bool = False) -> GrantReadResponse:
        """Return one grant."""
        data = self._core.get_json(f"/access/grants/{_seg(grant_id)}", family="run", nocache=nocache)
        return GrantReadResponse.model_validate(data)

    def revoke_grant(self, grant_id: str | UUID) -> GrantReadResponse:
        """Revoke a grant (409 when already revoked)."""
        return GrantReadResponse.model_validate(self._mutate("DELETE", f"/access/grants/{_seg(grant_id)}", None))

    # ------------------------------------------------------------------------------------ share tokens

    def create_share_token(self, *, expires_at: datetime | None = None) -> ShareTokenCreateResponse:
        """Mint a share token; its secret is in the answer only (never shown in reprs)."""
        body = ShareTokenCreateRequest(expires_at=expires_at).model_dump(mode="json")
        return ShareTokenCreateResponse.model_validate(self._mutate("POST", "/access/share-tokens", body))

    def list_share_tokens(
        self,
        *,
        run_id: str | UUID | None = None,
        created_by: str | None = None,
        revoked: bool | None = None,
        sort: str | builtins.list[str] | None = None,
        page_size: int = 100,
        nocache: bool = False,
    ) -> Pages[ShareTokenReadResponse]:
        """List the caller's share tokens lazily (without their secrets)."""
        params: dict[str, Any] = {"run_id": run_id, "created_by": created_by, "revoked": revoked, "sort": sort}
        return self._pages("/access/share-tokens", params, ShareTokenReadResponse.model_validate, page_size, nocache)

    def get_share_token(self, share_token_id: str | UUID, *, nocache: bool = False) -> ShareTokenReadResponse:
        """Return one share token record (without the secret)."""
        data = self._core.get_json(f"/access/share-tokens/{_seg(share_token_id)}", family="run", nocache=nocache)
        return ShareTokenReadResponse.model_validate(data)

    def revoke_share_token(self, share_token_id: str | UUID) -> ShareTokenReadResponse:
        """Revoke a share token: it stops working whatever grants exist (409 when already revoked)."""
        data = self._mutate("DELETE", f"/access/share-tokens/{_seg(share_token_id)}", None)
        return ShareTokenReadResponse.model_validate(data)

    def share_run(self, run_id: str | UUID, *, expires_at: datetime | None = None) -> ShareTokenCreateResponse:
        """Create a share token and grant it ``viewer`` on a run; return the token (with its secret)."""
        token = self.create_share_token(expires_at=expires_at)
        self.create_grant(ResourceType.RUN, run_id, SubjectType.SHARE_TOKEN, subject_id=str(token.share_token_id))
        return token

    # ------------------------------------------------------------------------------------------- wire

    def _mutate(self, method: str, path: str, body: Any) -> Any:
        try:
            response = self._core.request(method, path, family="run_submit", json=body)
        finally:
            self._core.mutated()
        return decode_json(response, f"{method} {path}")

    def _pages(self, path: str, params: dict[str, Any], parse: Any, page_size: int, nocache: bool) -> Pages[Any]:
        def fetch(page: int, size: int) -> builtins.list[Any]:
            data = self._core.get_json(
                path, family="run", params={**params, "page": page, "page_size": size}, nocache=nocache
            )
            return builtins.list(data or [])

        return Pages(fetch, parse, page_size=page_size)
