"""``/v1/me`` and ``/v1/access``: grants (viewer only) and share tokens (secret shown once)."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Query

from aignostics_jupyter.client.models import (
    GrantCreateRequest,
    GrantRelation,
    ResourceType,
    ShareTokenCreateRequest,
    SubjectType,
)
from aignostics_jupyter.emulator.access import can_manage, hash_secret
from aignostics_jupyter.emulator.auth import get_services, require_principal
from aignostics_jupyter.emulator.db import Row
from aignostics_jupyter.emulator.identity import Principal, get_org, get_principal
from aignostics_jupyter.emulator.listing import order_by, raise_422
from aignostics_jupyter.emulator.runstore import now_iso, to_utc_iso
from aignostics_jupyter.emulator.services import Services

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["access"])

Services_ = Annotated[Services, Depends(get_services)]
Caller = Annotated[Principal, Depends(require_principal)]

_GRANT_SORT = {k: k for k in ("grant_id", "resource_type", "resource_id", "subject_type", "subject_id", "relation",
                               "created_by", "created_at", "revoked")}  # fmt: skip
_TOKEN_SORT = {k: k for k in ("share_token_id", "created_at", "expires_at", "revoked", "created_by")}


@router.get("/me")
def me(services: Services_, caller: Caller) -> dict[str, Any]:
    """The caller and its organization, with the bucket's HMAC key pair."""
    org = get_org(services.db, caller.org_id)
    if org is None:  # pragma: no cover - users always belong to a seeded org
        raise HTTPException(404, "organization not found")
    return {
        "user": {
            "id": caller.user_id,
            "email": caller.email,
            "email_verified": True,
            "name": caller.name,
            "given_name": caller.given_name,
            "family_name": caller.family_name,
            "nickname": caller.nickname,
            "picture": None,
            "updated_at": None,
        },
        "organization": {
            "id": org.org_id,
            "name": org.name,
            "display_name": org.display_name,
            "aignostics_bucket_hmac_access_key_id": org.hmac_key_id,
            "aignostics_bucket_hmac_secret_access_key": org.hmac_secret,
            "aignostics_bucket_name": org.bucket_name,
            "aignostics_bucket_protocol": "http",
            "aignostics_logfire_token": "",
            "aignostics_sentry_dsn": "",
        },
    }


# ---------------------------------------------------------------------------------------------------------- grants


def _grant_json(row: Row) -> dict[str, Any]:
    return {
        "grant_id": row["grant_id"],
        "resource_type": row["resource_type"],
        "resource_id": row["resource_id"],
        "subject_type": row["subject_type"],
        "subject_id": row["subject_id"],
        "relation": row["relation"],
        "created_by": row["created_by"],
        "created_at": row["created_at"],
        "revoked": bool(row["revoked"]),
    }


def _resource_org(services: Services, caller: Principal, resource_type: ResourceType, resource_id: str) -> str:
    """The organization owning a resource the caller may share (404 unknown, 403 not the caller's to share)."""
    db = services.db
    if resource_type is ResourceType.SHARE_TOKEN:
        row = db.one("SELECT created_by FROM share_tokens WHERE share_token_id = ?", (resource_id,))
        if row is None or row["created_by"] != caller.user_id:
            raise HTTPException(404, f"share token {resource_id} not found")
        return caller.org_id
    queries = {
        ResourceType.RUN: "SELECT * FROM runs WHERE run_id = ?",
        ResourceType.ITEM: "SELECT r.* FROM runs r JOIN items i ON i.run_id = r.run_id WHERE i.item_id = ?",
        ResourceType.OUTPUT_ARTIFACT: (
            "SELECT r.* FROM runs r JOIN output_artifacts o ON o.run_id = r.run_id WHERE o.output_artifact_id = ?"
        ),
    }
    run = db.one(queries[resource_type], (resource_id,))
    if run is None or (run["org_id"] != caller.org_id and caller.role != "super_admin"):
        raise HTTPException(404, f"{resource_type.value} {resource_id} not found")
    if not can_manage(caller, run):
        raise HTTPException(403, f"only the submitter or an organization admin may share {resource_type.value}s")
    return str(run["org_id"])


def _subject_id(services: Services, caller: Principal, body: GrantCreateRequest) -> str:
    if body.subject_type is SubjectType.USER:
        user = None
        if body.subject_id:
            user = get_principal(services.db, body.subject_id)
        elif body.subject_email:
            user = get_principal(services.db, email=body.subject_email)
        if user is None:
            raise HTTPException(404, "the subject user does not exist")
        return user.user_id
    if body.subject_type is SubjectType.SHARE_TOKEN:
        row = services.db.one("SELECT * FROM share_tokens WHERE share_token_id = ?", (body.subject_id or "",))
        if row is None or row["created_by"] != caller.user_id:
            raise HTTPException(404, f"share token {body.subject_id} not found")
        if row["revoked"]:
            raise HTTPException(409, "the share token has been revoked")
        return str(row["share_token_id"])
    org_id = body.subject_id or caller.org_id
    if get_org(services.db, org_id) is None:
        raise HTTPException(404, f"organization {org_id!r} not found")
    return org_id


@router.post("/access/grants", status_code=201)
def create_grant(services: Services_, caller: Caller, body: GrantCreateRequest) -> dict[str, Any]:
    """Share a resource with a subject (viewer relation only)."""
    if body.relation is not GrantRelation.VIEWER:
        raise_422(("body", "relation"), "only 'viewer' grants can be created", body.relation.value)
    resource_id = str(body.resource_id)
    resource_org = _resource_org(services, caller, body.resource_type, resource_id)
    subject_id = _subject_id(services, caller, body)
    grant_id = str(uuid.uuid4())
    services.db.execute(
        "INSERT INTO grants (grant_id, resource_type, resource_id, resource_org, subject_type, subject_id, relation, "
        "created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (grant_id, body.resource_type.value, resource_id, resource_org, body.subject_type.value, subject_id,
         body.relation.value, caller.user_id, now_iso()),
    )  # fmt: skip
    return _grant_json(_grant_row(services, grant_id))


def _grant_row(services: Services, grant_id: str) -> Row:
    row = services.db.one("SELECT * FROM grants WHERE grant_id = ?", (grant_id,))
    if row is None:
        raise HTTPException(404, f"grant {grant_id} not found")
    return row


def _grant_scope(caller: Principal) -> tuple[str, list[Any]]:
    if caller.role == "super_admin":
        return "1 = 1", []
    if caller.is_admin:
        return "(resource_org = ? OR created_by = ?)", [caller.org_id, caller.user_id]
    return (
        "(created_by = ? OR resource_id IN (SELECT run_id FROM runs WHERE submitted_by = ?) "
        "OR (subject_type = 'user' AND subject_id = ?))",
        [caller.user_id, caller.user_id, caller.user_id],
    )


@router.get("/access/grants")
def list_grants(
    *,
    services: Services_,
    caller: Caller,
    resource_type: ResourceType | None = None,
    resource_id: UUID | None = None,
    subject_type: SubjectType | None = None,
    subject_id: str | None = None,
    relation: Annotated[list[GrantRelation] | None, Query()] = None,
    revoked: bool | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=5, le=100)] = 50,
    sort: Annotated[list[str] | None, Query()] = None,
) -> list[dict[str, Any]]:
    """Grants the caller may see: an admin's organization's, otherwise those on the caller's runs."""
    scope, params = _grant_scope(caller)
    where = [scope]
    filters = {
        "resource_type": resource_type.value if resource_type else None,
        "resource_id": str(resource_id) if resource_id else None,
        "subject_type": subject_type.value if subject_type else None,
        "subject_id": subject_id,
        "revoked": None if revoked is None else int(revoked),
    }
    for column, value in filters.items():
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    if relation:
        where.append(f"relation IN ({','.join('?' for _ in relation)})")
        params += [r.value for r in relation]
    order = order_by(sort, _GRANT_SORT, "created_at DESC", "seq DESC")
    rows = services.db.all(
        f"SELECT * FROM grants WHERE {' AND '.join(where)} ORDER BY {order} LIMIT ? OFFSET ?",  # noqa: S608
        [*params, page_size, (page - 1) * page_size],
    )
    return [_grant_json(r) for r in rows]


def _visible_grant(services: Services, caller: Principal, grant_id: UUID) -> Row:
    row = _grant_row(services, str(grant_id))
    scope, params = _grant_scope(caller)
    if services.db.one(f"SELECT 1 FROM grants WHERE grant_id = ? AND {scope}", [str(grant_id), *params]) is None:  # noqa: S608
        if row["resource_org"] == caller.org_id:
            raise HTTPException(403, "you may not see this grant")
        raise HTTPException(404, f"grant {grant_id} not found")
    return row


@router.get("/access/grants/{grant_id}")
def get_grant(services: Services_, caller: Caller, grant_id: UUID) -> dict[str, Any]:
    """One grant."""
    return _grant_json(_visible_grant(services, caller, grant_id))


@router.delete("/access/grants/{grant_id}")
def revoke_grant(services: Services_, caller: Caller, grant_id: UUID) -> dict[str, Any]:
    """Revoke a grant (409 when it already is)."""
    row = _visible_grant(services, caller, grant_id)
    if row["created_by"] != caller.user_id and not (caller.is_admin and row["resource_org"] == caller.org_id):
        raise HTTPException(403, "only the grant's creator or an organization admin may revoke it")
    if row["revoked"]:
        raise HTTPException(409, "the grant is already revoked")
    services.db.execute("UPDATE grants SET revoked = 1, revoked_at = ? WHERE grant_id = ?", (now_iso(), str(grant_id)))
    return _grant_json(_grant_row(services, str(grant_id)))


# ---------------------------------------------------------------------------------------------------- share tokens


def _token_json(row: Row) -> dict[str, Any]:
    return {
        "share_token_id": row["share_token_id"],
        "created_at": row["created_at"],
        "expires_at": row["expires_at"],
        "revoked": bool(row["revoked"]),
    }


@router.post("/access/share-tokens", status_code=201)
def create_share_token(services: Services_, caller: Caller, body: ShareTokenCreateRequest) -> dict[str, Any]:
    """Mint a share token; its secret is in this answer only."""
    expires_at = to_utc_iso(body.expires_at)
    if body.expires_at is not None and expires_at is not None and expires_at <= datetime.now(UTC).isoformat():
        raise_422(("body", "expires_at"), "expires_at must be in the future", str(body.expires_at))
    token_id = str(uuid.uuid4())
    secret = f"lpst_{secrets.token_urlsafe(32)}"
    services.db.execute(
        "INSERT INTO share_tokens (share_token_id, secret_hash, created_by, created_at, expires_at) "
        "VALUES (?, ?, ?, ?, ?)",
        (token_id, hash_secret(secret), caller.user_id, now_iso(), expires_at),
    )
    return {**_token_json(_token_row(services, caller, UUID(token_id))), "share_token": secret}


def _token_row(services: Services, caller: Principal, token_id: UUID) -> Row:
    row = services.db.one("SELECT * FROM share_tokens WHERE share_token_id = ?", (str(token_id),))
    if row is None:
        raise HTTPException(404, f"share token {token_id} not found")
    if row["created_by"] != caller.user_id and caller.role != "super_admin":
        creator = get_principal(services.db, row["created_by"])
        if creator is not None and creator.org_id == caller.org_id:
            raise HTTPException(403, "this share token belongs to someone else")
        raise HTTPException(404, f"share token {token_id} not found")
    return row


@router.get("/access/share-tokens")
def list_share_tokens(
    *,
    services: Services_,
    caller: Caller,
    run_id: UUID | None = None,
    created_by: str | None = None,
    revoked: bool | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=5, le=100)] = 50,
    sort: Annotated[list[str] | None, Query()] = None,
) -> list[dict[str, Any]]:
    """The caller's share tokens (super admins: all)."""
    where: list[str] = []
    params: list[Any] = []
    if caller.role != "super_admin":
        where.append("created_by = ?")
        params.append(caller.user_id)
    if created_by is not None:
        where.append("created_by = ?")
        params.append(caller.user_id if created_by == "me" else created_by)
    if revoked is not None:
        where.append("revoked = ?")
        params.append(int(revoked))
    if run_id is not None:
        where.append(
            "share_token_id IN (SELECT subject_id FROM grants WHERE subject_type = 'share_token' AND resource_id = ?)"
        )
        params.append(str(run_id))
    order = order_by(sort, _TOKEN_SORT, "created_at DESC", "seq DESC")
    clause = " AND ".join(where) or "1 = 1"
    rows = services.db.all(
        f"SELECT * FROM share_tokens WHERE {clause} ORDER BY {order} LIMIT ? OFFSET ?",  # noqa: S608
        [*params, page_size, (page - 1) * page_size],
    )
    return [_token_json(r) for r in rows]


@router.get("/access/share-tokens/{share_token_id}")
def get_share_token(services: Services_, caller: Caller, share_token_id: UUID) -> dict[str, Any]:
    """One share token record (never its secret)."""
    return _token_json(_token_row(services, caller, share_token_id))


@router.delete("/access/share-tokens/{share_token_id}")
def revoke_share_token(services: Services_, caller: Caller, share_token_id: UUID) -> dict[str, Any]:
    """Revoke a share token: it stops working whatever grants exist (409 when already revoked)."""
    row = _token_row(services, caller, share_token_id)
    if row["revoked"]:
        raise HTTPException(409, "the share token is already revoked")
    services.db.execute("UPDATE share_tokens SET revoked = 1 WHERE share_token_id = ?", (str(share_token_id),))
    return _token_json(_token_row(services, caller, share_token_id))
