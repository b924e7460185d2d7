"""Runs, items and output artifacts in the database, and the state machine that moves them.

States follow the spec (notes §1.4): items and artifacts go PENDING → PROCESSING → TERMINATED with a termination
reason; a run is PROCESSING while any item is, falls back to PENDING while none is, and is TERMINATED with
``ALL_ITEMS_PROCESSED`` once every item is, or earlier with ``CANCELED_BY_USER`` / ``CANCELED_BY_SYSTEM`` (the
remaining items are SKIPPED). Every change happens in one transaction, so a crash never leaves half a change.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
import zlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from aignostics_jupyter.client.models import RunCreationRequest
from aignostics_jupyter.emulator.catalog import Version
from aignostics_jupyter.emulator.db import Database
from aignostics_jupyter.emulator.identity import Principal

__all__ = [
    "THRESHOLD_ERROR_CODE",
    "cancel_run",
    "create_run",
    "dumps",
    "metadata_checksum",
    "now_iso",
    "recompute_run",
    "requeue_interrupted",
    "skip_items",
    "to_utc_iso",
]

THRESHOLD_ERROR_CODE = "SCHEDULER.ITEMS_WITH_ERROR_THRESHOLD_REACHED"
_FAR_FUTURE = "9999-12-31T23:59:59+00:00"


def now_iso() -> str:
    """The current time as an ISO-8601 UTC string (the format every stored timestamp uses)."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def to_utc_iso(value: datetime | None) -> str | None:
    """A datetime as a stored timestamp (naive values are taken as UTC)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def dumps(value: Any) -> str | None:
    """Canonical JSON (sorted keys, compact), or None for None."""
    return None if value is None else json.dumps(value, sort_keys=True, separators=(",", ":"))


def metadata_checksum(value: dict[str, Any] | None) -> str | None:
    """The custom-metadata checksum: CRC32 of the canonical JSON as 8 hex digits (None for no metadata).

    Example:
        >>> metadata_checksum({"a": 1})
        '561bacaf'
    """
    text = dumps(value)
    return None if text is None else f"{zlib.crc32(text.encode()):08x}"


def create_run(db: Database, principal: Principal, body: RunCreationRequest, version: Version) -> str:
    """Store a validated run with its items (PENDING), input artifacts and pending output artifacts.

    Returns:
        The new run id.
    """
    run_id = str(uuid.uuid4())
    due = to_utc_iso(body.scheduling.due_date) if body.scheduling else None
    deadline = to_utc_iso(body.scheduling.deadline) if body.scheduling else None
    with db.transaction() as conn:
        cursor = conn.execute(
            "INSERT INTO runs (run_id, application_id, version_number, org_id, submitted_by, submitted_at, state, "
            "custom_metadata, custom_metadata_checksum, due_date, deadline, callback_context) "
            "VALUES (?, ?, ?, ?, ?, ?, 'PENDING', ?, ?, ?, ?, ?)",
            (
                run_id,
                body.application_id,
                version.number,
                principal.org_id,
                principal.user_id,
                now_iso(),
                dumps(body.custom_metadata),
                metadata_checksum(body.custom_metadata),
                due,
                deadline,
                dumps(body.callback_context),
            ),
        )
        run_seq = cursor.lastrowid or 0
        for index, item in enumerate(body.items):
            item_id = str(uuid.uuid4())
            conn.execute(
                "INSERT INTO items (item_id, run_id, org_id, external_id, custom_metadata, custom_metadata_checksum, "
                "state, queue_key) VALUES (?, ?, ?, ?, ?, ?, 'PENDING', ?)",
                (
                    item_id,
                    run_id,
                    principal.org_id,
                    item.external_id,
                    dumps(item.custom_metadata),
                    metadata_checksum(item.custom_metadata),
                    f"{due or _FAR_FUTURE}|{run_seq:012d}|{index:06d}",
                ),
            )
            for artifact in item.input_artifacts:
                conn.execute(
                    "INSERT INTO input_artifacts VALUES (?, ?, ?, ?, ?)",
                    (str(uuid.uuid4()), item_id, artifact.name, artifact.download_url, dumps(artifact.metadata)),
                )
            for output in version.output_artifacts:
                conn.execute(
                    "INSERT INTO output_artifacts (output_artifact_id, item_id, run_id, name, state, output) "
                    "VALUES (?, ?, ?, ?, 'PENDING', 'NONE')",
                    (str(uuid.uuid4()), item_id, run_id, output.name),
                )
    return run_id


def recompute_run(conn: sqlite3.Connection, run_id: str) -> None:
    """Derive a run's state from its items (TERMINATED runs stay terminated)."""
    run = conn.execute("SELECT state FROM runs WHERE run_id = ?", (run_id,)).fetchone()
    if run is None or run["state"] == "TERMINATED":
        return
    counts = dict(conn.execute("SELECT state, COUNT(*) FROM items WHERE run_id = ? GROUP BY state", (run_id,)))
    if counts.get("PROCESSING"):
        conn.execute("UPDATE runs SET state = 'PROCESSING' WHERE run_id = ?", (run_id,))
    elif counts.get("PENDING"):
        conn.execute("UPDATE runs SET state = 'PENDING' WHERE run_id = ?", (run_id,))
    else:
        conn.execute(
            "UPDATE runs SET state = 'TERMINATED', termination_reason = 'ALL_ITEMS_PROCESSED', terminated_at = ? "
            "WHERE run_id = ?",
            (now_iso(), run_id),
        )


def skip_items(conn: sqlite3.Connection, item_ids: Sequence[str], message: str, *, code: str | None = None) -> None:
    """Terminate items as SKIPPED (with their pending artifacts)."""
    now = now_iso()
    for item_id in item_ids:
        conn.execute(
            "UPDATE items SET state = 'TERMINATED', termination_reason = 'SKIPPED', error_code = ?, "
            "error_message = ?, terminated_at = ? WHERE item_id = ?",
            (code, message, now, item_id),
        )
        conn.execute(
            "UPDATE output_artifacts SET state = 'TERMINATED', termination_reason = 'SKIPPED', output = 'NONE' "
            "WHERE item_id = ? AND state != 'TERMINATED'",
            (item_id,),
        )


def cancel_run(
    db: Database,
    run_id: str,
    *,
    reason: str,
    item_message: str,
    error_code: str | None = None,
    error_message: str | None = None,
    item_code: str | None = None,
) -> bool:
    """Terminate a run early: every unfinished item is SKIPPED (work in flight is discarded when it returns).

    Returns:
        False when the run was already terminated.
    """
    with db.transaction() as conn:
        run = conn.execute("SELECT state FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        if run is None or run["state"] == "TERMINATED":
            return False
        open_items = [
            r["item_id"]
            for r in conn.execute("SELECT item_id FROM items WHERE run_id = ? AND state != 'TERMINATED'", (run_id,))
        ]
        skip_items(conn, open_items, item_message, code=item_code)
        conn.execute(
            "UPDATE runs SET state = 'TERMINATED', termination_reason = ?, error_code = ?, error_message = ?, "
            "terminated_at = ? WHERE run_id = ?",
            (reason, error_code, error_message, now_iso(), run_id),
        )
    return True


def requeue_interrupted(db: Database) -> int:
    """After a restart: put items that were PROCESSING back into the queue.

    Returns:
        How many items were requeued.
    """
    with db.transaction() as conn:
        rows = conn.execute("SELECT item_id, run_id FROM items WHERE state = 'PROCESSING'").fetchall()
        for row in rows:
            conn.execute("UPDATE items SET state = 'PENDING' WHERE item_id = ?", (row["item_id"],))
            conn.execute(
                "UPDATE output_artifacts SET state = 'PENDING', output = 'NONE', metadata = NULL "
                "WHERE item_id = ? AND state != 'TERMINATED'",
                (row["item_id"],),
            )
        for run_id in {row["run_id"] for row in rows}:
            recompute_run(conn, run_id)
    return len(rows)
