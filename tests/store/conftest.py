"""Fixtures for the local-store tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tracekit._store import SQLiteStore


@pytest.fixture
def store(tmp_path: Path) -> SQLiteStore:
    return SQLiteStore(tmp_path / "home" / "traces.db")
