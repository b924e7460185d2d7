"""Custom metadata the way the official SDK writes and searches it (the reserved ``sdk`` key).

Runs carry ``custom_metadata.sdk`` (schema 0.0.4: tags, note, submission, user agent, user, scheduling) and
items carry theirs (schema 0.0.3: tags, the bucket object they were uploaded to), so runs submitted here show
their notes and tags in the official Launchpad and CLI, and the other way round. Searches by tag or note send
one JSONPath ``like_regex`` expression, as the SDK does, and finish the rest on the client.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from aignostics_jupyter.client.models import MeReadResponse, RunReadResponse

__all__ = [
    "ITEM_SCHEMA_VERSION",
    "NONCE_KEY",
    "RUN_SCHEMA_VERSION",
    "item_sdk_metadata",
    "note_query",
    "run_matches",
    "run_sdk_metadata",
    "tags_query",
]

RUN_SCHEMA_VERSION = "0.0.4"
ITEM_SCHEMA_VERSION = "0.0.3"
#: Top-level custom-metadata key holding this client's submission id (to find a run whose creation answer was lost).
NONCE_KEY = "aignostics_jupyter"
_REGEX_SPECIAL = re.compile(r"([.^$*+?()\[\]{}|\\])")


def _iso(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="seconds")


def _json_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def tags_query(tags: Iterable[str]) -> str:
    """Return the JSONPath matching runs with any of ``tags`` (all-tags matching is done client-side).

    Example:
        >>> tags_query(["b", "a"])
        '$.sdk.tags ? (@ like_regex "^(a|b)$")'
    """
    alternatives = "|".join(_REGEX_SPECIAL.sub(r"\\\1", t) for t in sorted(set(tags)))
    return f"$.sdk.tags ? (@ like_regex {_json_string(f'^({alternatives})$')})"


def note_query(pattern: str, *, case_insensitive: bool = True) -> str:
    """Return the JSONPath matching runs whose note matches a regular expression.

    Example:
        >>> note_query("cohort 1")
        '$.sdk.note ? (@ like_regex "cohort 1" flag "i")'
    """
    flag = ' flag "i"' if case_insensitive else ""
    return f"$.sdk.note ? (@ like_regex {_json_string(pattern)}{flag})"


def run_matches(
    run: RunReadResponse, *, tags: Iterable[str] | None, note: str | None, case_insensitive: bool = True
) -> bool:
    """Tell whether a run has every tag in ``tags`` and a note matching ``note`` (client-side finish)."""
    sdk = (run.custom_metadata or {}).get("sdk") or {}
    if tags is not None and not set(tags) <= set(sdk.get("tags") or []):
        return False
    if note is not None:
        flags = re.IGNORECASE if case_insensitive else 0
        if not isinstance(sdk.get("note"), str) or not re.search(note, sdk["note"], flags):
            return False
    return True


def _initiator(environ: Mapping[str, str]) -> str:
    if environ.get("AIGNOSTICS_BRIDGE_VERSION"):
        return "bridge"
    if environ.get("PYTEST_CURRENT_TEST"):
        return "test"
    return "user"


def run_sdk_metadata(
    *,
    now: datetime,
    user_agent: str,
    me: MeReadResponse | None,
    tags: Iterable[str] | None = None,
    note: str | None = None,
    due_date: datetime | None = None,
    deadline: datetime | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Build a run's ``custom_metadata.sdk`` block (schema 0.0.4)."""
    env = os.environ if environ is None else environ
    block: dict[str, Any] = {
        "schema_version": RUN_SCHEMA_VERSION,
        "created_at": _iso(now),
        "updated_at": _iso(now),
        "submission": {"date": _iso(now), "interface": "script", "initiator": _initiator(env)},
        "user_agent": user_agent,
    }
    if tags:
        block["tags"] = sorted(set(tags))
    if note:
        block["note"] = note
    if me is not None:
        block["user"] = {
            "organization_id": me.organization.id,
            "organization_name": me.organization.name,
            "user_email": me.user.email,
            "user_id": me.user.id,
        }
    if due_date or deadline:
        block["scheduling"] = {
            "due_date": _iso(due_date) if due_date else None,
            "deadline": _iso(deadline) if deadline else None,
        }
    return block


def item_sdk_metadata(
    *,
    now: datetime,
    tags: Iterable[str] | None = None,
    bucket_name: str | None = None,
    object_key: str | None = None,
    signed_download_url: str | None = None,
) -> dict[str, Any]:
    """Build an item's ``custom_metadata.sdk`` block (schema 0.0.3)."""
    block: dict[str, Any] = {
        "schema_version": ITEM_SCHEMA_VERSION,
        "created_at": _iso(now),
        "updated_at": _iso(now),
    }
    if tags:
        block["tags"] = sorted(set(tags))
    if bucket_name and object_key:
        block["platform_bucket"] = {
            "bucket_name": bucket_name,
            "object_key": object_key,
            "signed_download_url": signed_download_url,
        }
    return block
