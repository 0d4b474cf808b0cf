"""Fixtures for the CLI tests: a fixed store, UTC time, and a clean environment."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_traces import sample_store


@pytest.fixture(autouse=True)
def _stable_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    # Local time is part of the output: pin it. Keep the user's own store out of reach.
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    monkeypatch.setenv("TRACEKIT_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("TRACEKIT_TRACKING_URI", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def sample_db(tmp_path: Path) -> Path:
    return sample_store(tmp_path)
