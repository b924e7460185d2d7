"""Database rows → the spec's response bodies (RunReadResponse, ItemResultReadResponse, …) as plain dicts.

Batches are serialised with a fixed number of queries (statistics, artifacts), so a page of 100 runs or items
costs a handful of SQL statements, not hundreds.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from aignostics_jupyter.emulator.db import Database, Row

__all__ = ["items_json", "runs_json"]


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _placeholders(values: Sequence[Any]) -> str:
    return ",".join("?" for _ in values)


def _statistics(db: Database, run_ids: list[str]) -> dict[str, dict[str, int]]:
    stats = {
        run_id: {
            "item_count": 0,
            "item_pending_count": 0,
            "item_processing_count": 0,
            "item_user_error_count": 0,
            "item_system_error_count": 0,
            "item_skipped_count": 0,
            "item_succeeded_count": 0,
        }
        for run_id in run_ids
    }
    if not run_ids:
        return stats
    rows = db.all(
        "SELECT run_id, state, termination_reason, COUNT(*) AS n FROM items "  # noqa: S608
        f"WHERE run_id IN ({_placeholders(run_ids)}) GROUP BY run_id, state, termination_reason",
        run_ids,
    )
    for row in rows:
        entry = stats[row["run_id"]]
        entry["item_count"] += row["n"]
        if row["state"] == "PENDING":
            entry["item_pending_count"] += row["n"]
        elif row["state"] == "PROCESSING":
            entry["item_processing_count"] += row["n"]
        else:
            name = {
                "SUCCEEDED": "item_succeeded_count",
                "USER_ERROR": "item_user_error_count",
                "SYSTEM_ERROR": "item_system_error_count",
                "SKIPPED": "item_skipped_count",
            }[row["termination_reason"]]
            entry[name] += row["n"]
    return stats


def _preceding(db: Database, queue_key: str, org_id: str | None) -> int:
    if org_id is None:
        row = db.one("SELECT COUNT(*) AS n FROM items WHERE state = 'PENDING' AND queue_key < ?", (queue_key,))
    else:
        row = db.one(
            "SELECT COUNT(*) AS n FROM items WHERE state = 'PENDING' AND queue_key < ? AND org_id = ?",
            (queue_key, org_id),
        )
    return 0 if row is None else int(row["n"])


def runs_json(db: Database, rows: Sequence[Row]) -> list[dict[str, Any]]:
    """Serialise runs as RunReadResponse bodies."""
    run_ids = [row["run_id"] for row in rows]
    stats = _statistics(db, run_ids)
    out = []
    for row in rows:
        statistics = stats[row["run_id"]]
        succeeded = statistics["item_succeeded_count"]
        output = "FULL" if succeeded and succeeded == statistics["item_count"] else "PARTIAL" if succeeded else "NONE"
        preceding_org = preceding_platform = None
        if row["state"] != "TERMINATED" and statistics["item_pending_count"]:
            first = db.one(
                "SELECT MIN(queue_key) AS k FROM items WHERE run_id = ? AND state = 'PENDING'", (row["run_id"],)
            )
            if first is not None and first["k"] is not None:
                preceding_platform = _preceding(db, first["k"], None)
                preceding_org = _preceding(db, first["k"], row["org_id"])
        scheduling = None
        if row["due_date"] or row["deadline"]:
            scheduling = {"due_date": row["due_date"], "deadline": row["deadline"]}
        out.append(
            {
                "run_id": row["run_id"],
                "application_id": row["application_id"],
                "version_number": row["version_number"],
                "state": row["state"],
                "output": output,
                "termination_reason": row["termination_reason"],
                "error_code": row["error_code"],
                "error_message": row["error_message"],
                "statistics": statistics,
                "custom_metadata": _loads(row["custom_metadata"]),
                "custom_metadata_checksum": row["custom_metadata_checksum"],
                "submitted_at": row["submitted_at"],
                "submitted_by": row["submitted_by"],
                "organization_id": row["org_id"],
                "terminated_at": row["terminated_at"],
                "num_preceding_items_org": preceding_org,
                "num_preceding_items_platform": preceding_platform,
                "scheduling": scheduling,
            }
        )
    return out


def items_json(
    db: Database, rows: Sequence[Row], *, artifact_url: Callable[[str, str], str] | None = None
) -> list[dict[str, Any]]:
    """Serialise items as ItemResultReadResponse bodies (with their input and output artifacts).

    Args:
        db: The database.
        rows: Item rows.
        artifact_url: ``(storage_key, media_type) -> signed URL`` for the deprecated ``download_url`` of available
            artifacts (None: always null).
    """
    item_ids = [row["item_id"] for row in rows]
    inputs: dict[str, list[dict[str, Any]]] = {i: [] for i in item_ids}
    outputs: dict[str, list[dict[str, Any]]] = {i: [] for i in item_ids}
    if item_ids:
        marks = _placeholders(item_ids)
        for art in db.all(f"SELECT * FROM input_artifacts WHERE item_id IN ({marks}) ORDER BY rowid", item_ids):  # noqa: S608
            inputs[art["item_id"]].append(
                {
                    "input_artifact_id": art["input_artifact_id"],
                    "name": art["name"],
                    "metadata": _loads(art["metadata"]),
                    "download_url": art["download_url"],
                }
            )
        for art in db.all(f"SELECT * FROM output_artifacts WHERE item_id IN ({marks}) ORDER BY seq", item_ids):  # noqa: S608
            metadata = _loads(art["metadata"])
            url = None
            if artifact_url is not None and art["output"] == "AVAILABLE" and art["storage_key"]:
                media_type = (metadata or {}).get("media_type") or "application/octet-stream"
                url = artifact_url(art["storage_key"], media_type)
            outputs[art["item_id"]].append(
                {
                    "output_artifact_id": art["output_artifact_id"],
                    "name": art["name"],
                    "metadata": metadata,
                    "state": art["state"],
                    "termination_reason": art["termination_reason"],
                    "output": art["output"],
                    "error_code": art["error_code"],
                    "error_message": art["error_message"],
                    "download_url": url,
                }
            )
    out = []
    for row in rows:
        pending = row["state"] == "PENDING"
        out.append(
            {
                "item_id": row["item_id"],
                "external_id": row["external_id"],
                "custom_metadata": _loads(row["custom_metadata"]),
                "custom_metadata_checksum": row["custom_metadata_checksum"],
                "queue_position_org": _preceding(db, row["queue_key"], row["org_id"]) if pending else None,
                "queue_position_platform": _preceding(db, row["queue_key"], None) if pending else None,
                "state": row["state"],
                "output": "FULL" if row["termination_reason"] == "SUCCEEDED" else "NONE",
                "termination_reason": row["termination_reason"],
                "error_code": row["error_code"],
                "error_message": row["error_message"],
                "terminated_at": row["terminated_at"],
                "input_artifacts": inputs[row["item_id"]],
                "output_artifacts": outputs[row["item_id"]],
            }
        )
    return out
