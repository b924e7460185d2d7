"""Who may see or change a run: its submitter, admins of its organization, grant holders, share-token holders.

Reading a run (and its items and artifacts) needs one of those; changing it (cancel, delete artifacts, metadata)
needs to be its submitter or an admin of its organization. A run the caller may not see answers 403 when it
belongs to the caller's own organization and 404 otherwise, so other organizations' run ids leak nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime

from fastapi import HTTPException

from aignostics_jupyter.emulator.db import Database, Row
from aignostics_jupyter.emulator.identity import Principal

__all__ = ["hash_secret", "load_run", "share_token_id_for", "user_has_grant"]


def hash_secret(secret: str) -> str:
    """How share-token secrets are stored (never in clear)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def share_token_id_for(db: Database, secret: str) -> str | None:
    """The id of an active (not revoked, not expired) share token with this secret."""
    row = db.one("SELECT * FROM share_tokens WHERE secret_hash = ?", (hash_secret(secret),))
    if row is None or row["revoked"]:
        return None
    if row["expires_at"] and datetime.fromisoformat(row["expires_at"]) < datetime.now(UTC):
        return None
    return str(row["share_token_id"])


def _marks(values: Sequence[str]) -> str:
    return ",".join("?" for _ in values)


def user_has_grant(db: Database, principal: Principal, resource_ids: Sequence[str]) -> bool:
    """Whether an active grant on any of the resources covers this user (directly or through its organization)."""
    row = db.one(
        f"SELECT 1 FROM grants WHERE resource_id IN ({_marks(resource_ids)}) AND revoked = 0 AND ("  # noqa: S608
        "(subject_type = 'user' AND subject_id = ?) OR (subject_type = 'organization_user' AND subject_id = ?) "
        "OR (subject_type = 'organization_admin' AND subject_id = ? AND ?))",
        (*resource_ids, principal.user_id, principal.org_id, principal.org_id, int(principal.is_admin)),
    )
    return row is not None


def _token_has_grant(db: Database, token_id: str, resource_ids: Sequence[str]) -> bool:
    row = db.one(
        f"SELECT 1 FROM grants WHERE resource_id IN ({_marks(resource_ids)}) AND revoked = 0 "  # noqa: S608
        "AND subject_type = 'share_token' AND subject_id = ?",
        (*resource_ids, token_id),
    )
    return row is not None


def can_manage(principal: Principal, run: Row) -> bool:
    """Submitter, admin of the run's organization, or super admin."""
    if principal.role == "super_admin":
        return True
    return run["submitted_by"] == principal.user_id or (principal.is_admin and run["org_id"] == principal.org_id)


def load_run(
    db: Database,
    run_id: str,
    principal: Principal | None,
    *,
    share_token: str | None = None,
    write: bool = False,
    parts: Sequence[str] = (),
) -> Row:
    """Fetch a run the caller may read (or, with ``write``, change).

    Args:
        db: The database.
        run_id: The run.
        principal: The authenticated caller, if any.
        share_token: A share token secret from the query, if any.
        write: Whether the caller wants to change the run.
        parts: Ids of the item or artifact being read; grants on them count too (item and artifact grants).

    Raises:
        HTTPException: 401 without any credential, 403/404 as described in the module docstring.
    """
    if principal is None and share_token is None:
        raise HTTPException(
            401, "not authenticated: send a bearer token or a share_token", {"WWW-Authenticate": "Bearer"}
        )
    run = db.one("SELECT * FROM runs WHERE run_id = ?", (run_id,))
    if run is None:
        raise HTTPException(404, f"run {run_id} not found")
    if principal is not None and can_manage(principal, run):
        return run
    if write:
        if principal is not None and principal.org_id == run["org_id"]:
            raise HTTPException(403, "only the submitter or an organization admin may change this run")
        raise HTTPException(404, f"run {run_id} not found")
    resources = [run_id, *parts]
    if principal is not None and user_has_grant(db, principal, resources):
        return run
    if share_token is not None:
        token_id = share_token_id_for(db, share_token)
        if token_id is not None and _token_has_grant(db, token_id, resources):
            return run
        if principal is None:
            raise HTTPException(403, "the share token is not valid for this run (unknown, revoked or expired)")
    if principal is not None and principal.org_id == run["org_id"]:
        raise HTTPException(403, "you do not have access to this run")
    raise HTTPException(404, f"run {run_id} not found")
