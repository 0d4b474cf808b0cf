"""Fixtures for the LiteLLM tests: a real LiteLLM Proxy (its own virtualenv, made by
scripts/test.sh) with tracekit's callback, upstream the fake LLM server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from openai import OpenAI

from tests.export.mlflow_server import MlflowServer
from tracekit.testing import FakeLLMServer

from .proxy import MASTER_KEY, LiteLLMProxy, need_litellm


@pytest.fixture(scope="module")
def store_proxy(tmp_path_factory: pytest.TempPathFactory, fake_llm_server: FakeLLMServer) -> Iterator[LiteLLMProxy]:
    """A proxy whose spans go to a local store file (``proxy.store_path``)."""
    need_litellm()
    workdir = tmp_path_factory.mktemp("litellm")
    store_path = workdir / "traces.db"
    proxy = LiteLLMProxy(workdir, fake_llm_server.url, {"TRACEKIT_TRACKING_URI": f"sqlite:///{store_path}"})
    proxy.store_path = store_path  # type: ignore[attr-defined]
    proxy.start()
    try:
        proxy.wait_ready()
        yield proxy
    finally:
        proxy.stop()


@pytest.fixture
def store_path(store_proxy: LiteLLMProxy) -> Path:
    path: Path = store_proxy.store_path  # type: ignore[attr-defined]
    return path


@pytest.fixture
def client(store_proxy: LiteLLMProxy) -> OpenAI:
    """The OpenAI SDK pointed at the proxy with its master key."""
    return OpenAI(base_url=f"{store_proxy.base_url}/v1", api_key=MASTER_KEY, max_retries=0)


@pytest.fixture(scope="session")
def litellm_mlflow_server(mlflow_server: MlflowServer) -> MlflowServer:
    """The session's MLflow server (tests/conftest.py)."""
    return mlflow_server


@pytest.fixture(scope="module")
def mlflow_proxy(
    tmp_path_factory: pytest.TempPathFactory, fake_llm_server: FakeLLMServer, litellm_mlflow_server: MlflowServer
) -> Iterator[LiteLLMProxy]:
    """A proxy whose spans go to the MLflow server, experiment ``proxy.experiment``."""
    need_litellm()
    experiment = f"tk-litellm-{uuid.uuid4().hex[:8]}"
    env = {"MLFLOW_TRACKING_URI": litellm_mlflow_server.uri, "MLFLOW_EXPERIMENT_NAME": experiment}
    proxy = LiteLLMProxy(tmp_path_factory.mktemp("litellm-mlflow"), fake_llm_server.url, env)
    proxy.experiment = experiment  # type: ignore[attr-defined]
    proxy.start()
    try:
        proxy.wait_ready()
        yield proxy
    finally:
        proxy.stop()
