"""The local store's SQLite schema and its migrations.

The schema version lives in ``PRAGMA user_version``. Each entry of ``MIGRATIONS``
takes the file from version ``n - 1`` to ``n``; a file written by a newer tracekit
(a version above ``SCHEMA_VERSION``) is refused rather than misread.
"""

from __future__ import annotations

import sqlite3
from typing import Final

SCHEMA_VERSION: Final = 1

_V1: Final = (
    # One row per span. Ids are lowercase hex; trace_id is in the tr-<hex> form so it
    # can be compared with what users type. ``summary`` holds the few attributes that
    # feed the trace summary, so re-summarizing a trace never reads inputs/outputs.
    """
    CREATE TABLE spans (
        trace_id       TEXT    NOT NULL,
        span_id        TEXT    NOT NULL,
        parent_id      TEXT,
        name           TEXT    NOT NULL,
        start_ns       INTEGER NOT NULL,
        end_ns         INTEGER,
        status         TEXT    NOT NULL,
        status_message TEXT,
        attributes     TEXT    NOT NULL,
        events         TEXT    NOT NULL,
        resource       TEXT    NOT NULL,
        summary        TEXT    NOT NULL,
        PRIMARY KEY (trace_id, span_id)
    ) WITHOUT ROWID
    """,
    # One row per trace, kept up to date by every write so that listing reads one row
    # per trace. updated_ns tells an uploader that a trace changed after its upload.
    """
    CREATE TABLE traces (
        trace_id         TEXT    PRIMARY KEY,
        name             TEXT    NOT NULL,
        start_ns         INTEGER NOT NULL,
        end_ns           INTEGER,
        status           TEXT    NOT NULL,
        tags             TEXT    NOT NULL,
        metadata         TEXT    NOT NULL,
        session_id       TEXT,
        user_id          TEXT,
        input_tokens     INTEGER,
        output_tokens    INTEGER,
        total_tokens     INTEGER,
        token_usage      TEXT,
        span_count       INTEGER NOT NULL,
        request_preview  TEXT,
        response_preview TEXT,
        updated_ns       INTEGER NOT NULL
    )
    """,
    "CREATE INDEX traces_by_start ON traces (start_ns DESC)",
    # Which traces went to which destination (e.g. an MLflow server URI + experiment).
    """
    CREATE TABLE uploads (
        trace_id    TEXT    NOT NULL,
        destination TEXT    NOT NULL,
        uploaded_ns INTEGER NOT NULL,
        PRIMARY KEY (trace_id, destination)
    ) WITHOUT ROWID
    """,
)

MIGRATIONS: Final[dict[int, tuple[str, ...]]] = {1: _V1}


class StoreSchemaError(RuntimeError):
    """The store file has a schema this tracekit cannot read (written by a newer one)."""


def ensure_schema(conn: sqlite3.Connection, path: str) -> None:
    """Create or migrate the schema of an autocommit connection, in one transaction.

    ``BEGIN IMMEDIATE`` takes the write lock up front, so two processes that open a
    fresh file at once serialize here (the second sees the first one's schema)
    instead of both trying to create the tables.
    """
    version = _user_version(conn)
    if version == SCHEMA_VERSION:
        return
    _check_not_newer(version, path)
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = _user_version(conn)  # re-read under the lock: another process may have won
        _check_not_newer(version, path)
        for target in range(version + 1, SCHEMA_VERSION + 1):
            for statement in MIGRATIONS[target]:
                conn.execute(statement)
        # PRAGMA does not take parameters; the value is our own integer constant.
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION:d}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _user_version(conn: sqlite3.Connection) -> int:
    row = conn.execute("PRAGMA user_version").fetchone()
    return int(row[0])


def _check_not_newer(version: int, path: str) -> None:
    if version > SCHEMA_VERSION:
        raise StoreSchemaError(
            f"the trace store {path} has schema version {version}, but this tracekit reads"
            f" up to version {SCHEMA_VERSION}: upgrade tracekit to read it"
        )
