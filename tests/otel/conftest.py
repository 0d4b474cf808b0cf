"""Fixtures for the OpenTelemetry-backend tests: one real Phoenix server per session."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from .phoenix_server import PhoenixServer, venv_python


@pytest.fixture(scope="session")
def phoenix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PhoenixServer]:
    if venv_python() is None:
        if os.environ.get("CI"):
            pytest.fail("no Phoenix virtualenv in CI: scripts/test.sh must create .venv-phoenix")
        pytest.skip("no Phoenix virtualenv (.venv-phoenix); `bash scripts/test.sh` creates it")
    server = PhoenixServer(tmp_path_factory.mktemp("phoenix"))
    server.start()
    try:
        yield server
    finally:
        server.stop()
