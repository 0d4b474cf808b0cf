"""The schema version in PRAGMA user_version: created, kept, newer refused."""

from __future__ import annotations

import sqlite3

import pytest
from store_spans import make_span

from tracekit._store import SCHEMA_VERSION, SQLiteStore, StoreSchemaError, _schema


def test_new_store_has_current_version(store: SQLiteStore) -> None:
    store.write_spans([make_span(1, 1)])
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_newer_schema_is_refused_with_a_clear_error(store: SQLiteStore) -> None:
    store.write_spans([make_span(1, 1)])
    with sqlite3.connect(store.path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    fresh = SQLiteStore(store.path)  # a new process would see it on first open
    with pytest.raises(StoreSchemaError, match=r"schema version 2.*upgrade tracekit"):
        fresh.list_traces()
    with pytest.raises(StoreSchemaError):
        fresh.write_spans([make_span(2, 1)])


def test_older_schema_is_migrated(store: SQLiteStore, monkeypatch: pytest.MonkeyPatch) -> None:
    store.write_spans([make_span(1, 1)])
    migrations = {**_schema.MIGRATIONS, SCHEMA_VERSION + 1: ("ALTER TABLE traces ADD COLUMN extra TEXT",)}
    monkeypatch.setattr(_schema, "MIGRATIONS", migrations)
    monkeypatch.setattr(_schema, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    fresh = SQLiteStore(store.path)
    assert fresh.count() == 1
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1
        columns = [row[1] for row in conn.execute("PRAGMA table_info(traces)")]
    assert "extra" in columns
