"""Suite-wide rules: strict mode (an internal error fails the test), and an isolated
tracekit home, configuration and pipeline for every test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import _span_dump  # tests/ is on sys.path (rootdir conftest)
import pytest
from export.mlflow_server import GATEWAY_ENV, MlflowServer, mlflow_binary

import tracekit
from tracekit import _config, _errors, _tracer
from tracekit.testing import FakeLLMServer, SpanCapture, capture

_DUMP: dict[str, list[dict[str, object]]] = {}


def pytest_sessionfinish(session: pytest.Session) -> None:
    path = _span_dump.target()
    if path is not None:
        _span_dump.write(path, _DUMP)


_ENV_TO_CLEAR = [k for k in os.environ if k.startswith(("TRACEKIT_", "MLFLOW_", "OTEL_"))]


@pytest.fixture(autouse=True)
def _tracekit_isolation(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key in _ENV_TO_CLEAR:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("TRACEKIT_HOME", str(tmp_path / "tracekit-home"))
    _tracer.shutdown(timeout=5)
    _config.reset()
    _errors.reset()
    _errors.set_strict(True)
    if _span_dump.target() is None:
        yield
    else:
        with capture() as dumped:
            yield
            _tracer.shutdown(timeout=10)
        _DUMP[request.node.nodeid] = _span_dump.records(dumped.readable_spans)
    _tracer.shutdown(timeout=10)
    _config.reset()
    reported = list(_errors.reported)
    _errors.reset()
    if reported and request.node.get_closest_marker("allow_internal_errors") is None:
        place, exc = reported[0]
        pytest.fail(f"tracekit swallowed an internal error in {place}: {exc!r}", pytrace=False)


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    """One real MLflow server (SQLite backend, loopback) for the whole session, shared by
    the export, gateway and LiteLLM tests (each uses experiments of its own). Started
    with what its AI Gateway needs to route to a fake provider and to write its mirror
    spans into a caller's trace (``GATEWAY_ENV``): a server costs ~25 s and a dozen
    processes, so one is enough."""
    if mlflow_binary() is None:
        message = "no mlflow binary: set TK_MLFLOW_BIN or run `bash scripts/test.sh` (it creates .venv-mlflow)"
        if os.environ.get("CI", "").lower() in ("1", "true"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    server = MlflowServer(tmp_path_factory.mktemp("mlflow"), env=GATEWAY_ENV)
    server.start()
    try:
        server.wait_healthy()
        yield server
    finally:
        server.stop()


@pytest.fixture
def captured() -> Iterator[SpanCapture]:
    """Every tracekit span that ends during the test, in memory."""
    with capture() as spans:
        yield spans


@pytest.fixture
def server(fake_llm: FakeLLMServer) -> FakeLLMServer:
    """The fake LLM server (started once per session), reset around each test."""
    return fake_llm


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    """Point tracekit at a fresh local store file and return its path."""
    path = tmp_path / "traces.db"
    tracekit.set_tracking_uri(f"sqlite:///{path}")
    return path
