"""Fixtures for the export tests: a real MLflow server (one per session), a fault
proxy, LLM-shaped traces, and a helper to run a script in a fresh process."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import tracekit

from .mlflow_server import MlflowServer, mlflow_binary
from .proxy import FaultProxy


def _need_mlflow() -> None:
    if mlflow_binary() is None:
        pytest.skip(
            "no mlflow binary: set TK_MLFLOW_BIN, create .venv-mlflow (pip install 'mlflow[auth]'), or put mlflow on PATH"
        )


@pytest.fixture(scope="session")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    """An MLflow server with ``--app-name basic-auth``."""
    _need_mlflow()
    server = MlflowServer(tmp_path_factory.mktemp("mlflow-auth"), basic_auth=True)
    server.start()
    try:
        server.wait_healthy()
        yield server
    finally:
        server.stop()


@pytest.fixture
def experiment() -> str:
    """A fresh experiment name."""
    return f"tk-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def proxy(mlflow_server: MlflowServer) -> Iterator[FaultProxy]:
    p = FaultProxy(mlflow_server.uri)
    yield p
    p.close()


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Short retry budget, so outage tests run in seconds."""
    monkeypatch.setenv("TRACEKIT_EXPORT_RETRY_BUDGET", "2")


def run_script(body: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``body`` in a fresh interpreter with ``env`` added to a clean environment."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("TRACEKIT_", "MLFLOW_", "OTEL_"))}
    base.update(env)
    script = f"import sys; sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})\n" + textwrap.dedent(body)
    return subprocess.run([sys.executable, "-c", script], env=base, timeout=timeout, capture_output=True, text=True)


def cli(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run the ``tracekit`` CLI in a fresh process."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("TRACEKIT_", "MLFLOW_", "OTEL_"))}
    base.update(env)
    return subprocess.run([sys.executable, "-m", "tracekit", *args], env=base, timeout=timeout, capture_output=True, text=True)


def simple_trace(name: str = "work", i: int = 0) -> str:
    """One small trace (a CHAIN root and a CHAT_MODEL child); returns its id."""
    with tracekit.start_span(name, span_type="CHAIN", inputs={"i": i}) as root:
        with tracekit.start_span("llm", span_type="CHAT_MODEL", inputs={"messages": [{"role": "user", "content": "hi"}]}):
            pass
        root.set_outputs(i)
    assert root.trace_id is not None
    return root.trace_id
