"""Validation of ``POST /v1/runs`` as the platform does it, with messages naming the item and the field."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import urlsplit

from fastapi import HTTPException
from jsonschema import Draft7Validator

from aignostics_jupyter.client.models import ItemCreationRequest, RunCreationRequest
from aignostics_jupyter.emulator.catalog import Version, get_application, get_version, latest_version
from aignostics_jupyter.emulator.db import Database
from aignostics_jupyter.emulator.identity import Principal, get_org

__all__ = ["MAX_CALLBACK_CONTEXT", "validate_run_request"]

MAX_CALLBACK_CONTEXT = 1024
_MAX_REPORTED = 5


def _field(path: list[str | int]) -> str:
    return ".".join(str(p) for p in path) or "(root)"


def _item_errors(index: int, item: ItemCreationRequest, version: Version) -> list[str]:
    where = f"items[{index}] (external_id {item.external_id!r})"
    expected = {a.name: a for a in version.input_artifacts}
    names = [a.name for a in item.input_artifacts]
    repeated = sorted({n for n in names if names.count(n) > 1})
    errors = [f"{where}: input artifact {n!r} is given more than once" for n in repeated]
    for name in names:
        if name not in expected:
            wanted = ", ".join(repr(n) for n in expected)
            errors.append(f"{where}: unknown input artifact {name!r}; version {version.number} expects {wanted}")
    errors += [f"{where}: input artifact {n!r} is missing" for n in expected if n not in names]
    for artifact in item.input_artifacts:
        if urlsplit(artifact.download_url).scheme not in ("http", "https"):
            errors.append(f"{where}: input artifact {artifact.name!r}: download_url must be an http(s) URL")
        spec = expected.get(artifact.name)
        if spec is None:
            continue
        validator = Draft7Validator(spec.metadata_schema)
        for error in sorted(validator.iter_errors(artifact.metadata), key=lambda e: list(e.absolute_path)):
            field = _field(list(error.absolute_path))
            errors.append(f"{where}: input artifact {artifact.name!r} metadata field {field!r}: {error.message}")
    return errors


def validate_run_request(db: Database, principal: Principal, body: RunCreationRequest) -> Version:
    """Check a run request against the catalog and the input artifact schemas.

    Returns:
        The version that will run (the latest by SemVer when none was named).

    Raises:
        HTTPException: 404 unknown application or version, 403 application not assigned to the caller's
            organization, 400 for invalid items (up to five problems, each naming item and field).
    """
    application = get_application(body.application_id)
    if application is None:
        raise HTTPException(404, f"application {body.application_id!r} not found")
    org = get_org(db, principal.org_id)
    if org is None or not org.can_use(application.application_id):
        raise HTTPException(403, f"application {body.application_id!r} is not available to your organization")
    if body.version_number is None:
        version = latest_version(application)
    else:
        found = get_version(application.application_id, body.version_number)
        if found is None:
            raise HTTPException(
                404, f"version {body.version_number!r} of application {body.application_id!r} not found"
            )
        version = found
    errors: list[str] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(body.items):
        if item.external_id in seen:
            errors.append(
                f"items[{index}]: external_id {item.external_id!r} is not unique in the run "
                f"(also items[{seen[item.external_id]}])"
            )
        seen.setdefault(item.external_id, index)
        errors += _item_errors(index, item, version)
    if body.callback_context is not None and len(json.dumps(body.callback_context)) > MAX_CALLBACK_CONTEXT:
        errors.append(f"callback_context is larger than {MAX_CALLBACK_CONTEXT} bytes")
    deadline = body.scheduling.deadline if body.scheduling else None
    if deadline is not None:
        aware = deadline if deadline.tzinfo else deadline.replace(tzinfo=UTC)
        if aware <= datetime.now(UTC):
            errors.append("scheduling.deadline is in the past")
    if errors:
        more = f" (and {len(errors) - _MAX_REPORTED} more)" if len(errors) > _MAX_REPORTED else ""
        raise HTTPException(400, "Invalid run: " + "; ".join(errors[:_MAX_REPORTED]) + more)
    return version
