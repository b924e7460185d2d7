"""The local platform's SQLite database (WAL mode): schema, one shared connection, transactions.

Every request thread and the runner share one connection behind a re-entrant lock; SQLite serialises writers
anyway and the platform's working set is small. ``jsonpath_match(json, expr)`` is registered as an SQL function
so custom-metadata filters run inside queries, next to pagination.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from aignostics_jupyter.emulator.jsonpath import compile_jsonpath

__all__ = ["Database", "Row"]

Row = sqlite3.Row

_SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS orgs (
    org_id TEXT PRIMARY KEY, name TEXT, display_name TEXT, bucket_name TEXT NOT NULL UNIQUE,
    hmac_key_id TEXT NOT NULL UNIQUE, hmac_secret TEXT NOT NULL, applications TEXT
);
CREATE TABLE IF NOT EXISTS users (
    user_id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES orgs(org_id), email TEXT UNIQUE, name TEXT,
    given_name TEXT, family_name TEXT, nickname TEXT, role TEXT NOT NULL, created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS refresh_tokens (
    token_hash TEXT PRIMARY KEY, user_id TEXT NOT NULL, client_id TEXT NOT NULL, scope TEXT NOT NULL,
    family TEXT NOT NULL, created_at REAL NOT NULL, expires_at REAL NOT NULL, used INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS device_codes (
    device_code_hash TEXT PRIMARY KEY, user_code TEXT NOT NULL UNIQUE, client_id TEXT NOT NULL,
    scope TEXT NOT NULL, status TEXT NOT NULL, user_id TEXT, expires_at REAL NOT NULL,
    interval INTEGER NOT NULL, last_poll REAL
);
CREATE TABLE IF NOT EXISTS auth_codes (
    code_hash TEXT PRIMARY KEY, client_id TEXT NOT NULL, redirect_uri TEXT NOT NULL, code_challenge TEXT,
    scope TEXT NOT NULL, user_id TEXT NOT NULL, expires_at REAL NOT NULL, used INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS runs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL UNIQUE, application_id TEXT NOT NULL,
    version_number TEXT NOT NULL, org_id TEXT NOT NULL, submitted_by TEXT NOT NULL, submitted_at TEXT NOT NULL,
    state TEXT NOT NULL, termination_reason TEXT, error_code TEXT, error_message TEXT,
    custom_metadata TEXT, custom_metadata_checksum TEXT, terminated_at TEXT, due_date TEXT, deadline TEXT,
    callback_context TEXT
);
CREATE INDEX IF NOT EXISTS runs_by_submitter ON runs(submitted_by, submitted_at);
CREATE INDEX IF NOT EXISTS runs_by_org ON runs(org_id, submitted_at);
CREATE INDEX IF NOT EXISTS runs_by_state ON runs(state);
CREATE TABLE IF NOT EXISTS items (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, item_id TEXT NOT NULL UNIQUE, run_id TEXT NOT NULL,
    org_id TEXT NOT NULL, external_id TEXT NOT NULL, custom_metadata TEXT, custom_metadata_checksum TEXT,
    state TEXT NOT NULL, termination_reason TEXT, error_code TEXT, error_message TEXT, terminated_at TEXT,
    queue_key TEXT NOT NULL, attempt INTEGER NOT NULL DEFAULT 0, UNIQUE(run_id, external_id)
);
CREATE INDEX IF NOT EXISTS items_by_run ON items(run_id, seq);
CREATE INDEX IF NOT EXISTS items_queue ON items(state, queue_key);
CREATE INDEX IF NOT EXISTS items_run_queue ON items(run_id, state, queue_key);
CREATE INDEX IF NOT EXISTS items_org_queue ON items(state, org_id, queue_key);
CREATE INDEX IF NOT EXISTS items_by_external ON items(external_id);
CREATE TABLE IF NOT EXISTS input_artifacts (
    input_artifact_id TEXT PRIMARY KEY, item_id TEXT NOT NULL, name TEXT NOT NULL, download_url TEXT NOT NULL,
    metadata TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS inputs_by_item ON input_artifacts(item_id);
CREATE TABLE IF NOT EXISTS output_artifacts (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, output_artifact_id TEXT NOT NULL UNIQUE, item_id TEXT NOT NULL,
    run_id TEXT NOT NULL, name TEXT NOT NULL, metadata TEXT, state TEXT NOT NULL, termination_reason TEXT,
    output TEXT NOT NULL, error_code TEXT, error_message TEXT, storage_key TEXT
);
CREATE INDEX IF NOT EXISTS outputs_by_item ON output_artifacts(item_id, seq);
CREATE INDEX IF NOT EXISTS outputs_by_run ON output_artifacts(run_id);
CREATE TABLE IF NOT EXISTS grants (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, grant_id TEXT NOT NULL UNIQUE, resource_type TEXT NOT NULL,
    resource_id TEXT NOT NULL, resource_org TEXT NOT NULL, subject_type TEXT NOT NULL, subject_id TEXT NOT NULL,
    relation TEXT NOT NULL, created_by TEXT NOT NULL, created_at TEXT NOT NULL, revoked INTEGER NOT NULL DEFAULT 0,
    revoked_at TEXT
);
CREATE INDEX IF NOT EXISTS grants_by_resource ON grants(resource_id);
CREATE TABLE IF NOT EXISTS share_tokens (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, share_token_id TEXT NOT NULL UNIQUE, secret_hash TEXT NOT NULL UNIQUE,
    created_by TEXT NOT NULL, created_at TEXT NOT NULL, expires_at TEXT, revoked INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS upload_parts (
    bucket TEXT NOT NULL, key TEXT NOT NULL, upload_id TEXT NOT NULL, offset INTEGER NOT NULL,
    size INTEGER NOT NULL, crc32c TEXT NOT NULL, PRIMARY KEY (bucket, key, upload_id, offset)
);
CREATE TABLE IF NOT EXISTS objects (
    bucket TEXT NOT NULL, key TEXT NOT NULL, size INTEGER NOT NULL, crc32c TEXT NOT NULL,
    last_modified TEXT NOT NULL, content_type TEXT, PRIMARY KEY (bucket, key)
);
"""


def _jsonpath_match(document: str | None, expression: str) -> int:
    if document is None:
        return 0
    return int(compile_jsonpath(expression).matches(json.loads(document)))


class Database:
    """One SQLite database file in WAL mode, shared by all threads of the local platform.

    Args:
        path: The database file (created with its schema when missing).
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA foreign_keys=ON")
        self._conn.create_function("jsonpath_match", 2, _jsonpath_match, deterministic=True)
        self._depth = 0
        with self.transaction():
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    self._conn.execute(statement)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Hold the lock and run the block in one transaction (nested calls join the outer one).

        Yields:
            The connection.
        """
        with self._lock:
            outer = self._depth == 0
            if outer:
                self._conn.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield self._conn
            except BaseException:
                self._depth -= 1
                if outer:
                    self._conn.execute("ROLLBACK")
                raise
            self._depth -= 1
            if outer:
                self._conn.execute("COMMIT")

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """Run a query and return every row."""
        with self._lock:
            return list(self._conn.execute(sql, params).fetchall())

    def one(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        """Run a query and return its first row, or None."""
        with self._lock:
            row: sqlite3.Row | None = self._conn.execute(sql, params).fetchone()
            return row

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement in its own transaction (or the current one) and return the changed row count."""
        with self.transaction() as conn:
            return conn.execute(sql, params).rowcount

    def get_value(self, name: str) -> str | None:
        """Read a value from the key-value table."""
        row = self.one("SELECT value FROM kv WHERE name = ?", (name,))
        return None if row is None else str(row["value"])

    def set_value(self, name: str, value: str) -> None:
        """Write a value to the key-value table."""
        self.execute("INSERT OR REPLACE INTO kv(name, value) VALUES (?, ?)", (name, value))

    def close(self) -> None:
        """Close the connection (checkpointing the WAL)."""
        with self._lock:
            self._conn.close()
