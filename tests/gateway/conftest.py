"""A real ``mlflow server`` with its AI Gateway (one per session), endpoints configured
over REST in front of tracekit's fake LLM server, and the SDK clients pointed at them."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from export.mlflow_server import GATEWAY_ENV, MlflowServer, mlflow_binary

import tracekit
from tracekit.testing import FakeLLMServer

from .gateway_setup import Endpoint, create_endpoint
from .linking import noting_llm_spans

OPENAI_MODEL = "gpt-4o-mini"
ANTHROPIC_MODEL = "claude-haiku-4-5"
GEMINI_MODEL = "gemini-2.5-flash"


def _need_mlflow() -> None:
    if mlflow_binary() is not None:
        return
    reason = "no mlflow binary: set TK_MLFLOW_BIN or create .venv-mlflow (pip install 'mlflow[auth,genai]==3.17.2')"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason)  # CI must run these tests, never skip them
    pytest.skip(reason)


@dataclass(frozen=True)
class Gateway:
    """The MLflow server (tracking + AI Gateway) and its endpoints."""

    server: MlflowServer
    fake: FakeLLMServer
    openai: Endpoint
    anthropic: Endpoint
    gemini: Endpoint

    @property
    def uri(self) -> str:
        return self.server.uri


@pytest.fixture(scope="session")
def gateway_fake() -> Iterator[FakeLLMServer]:
    """The fake provider behind the gateway (its own instance: the gateway's calls must not
    mix with the suite's shared fake)."""
    with FakeLLMServer() as fake:
        yield fake


@pytest.fixture(scope="session")
def gateway(tmp_path_factory: pytest.TempPathFactory, gateway_fake: FakeLLMServer) -> Iterator[Gateway]:
    _need_mlflow()
    server = MlflowServer(tmp_path_factory.mktemp("mlflow-gateway"), env=GATEWAY_ENV)
    server.start()
    try:
        server.wait_healthy()
        fake = gateway_fake
        yield Gateway(
            server,
            fake,
            create_endpoint(server.uri, provider="openai", model=OPENAI_MODEL, api_base=fake.url + "/v1"),
            create_endpoint(server.uri, provider="anthropic", model=ANTHROPIC_MODEL, api_base=fake.url + "/v1"),
            # The native `gemini` provider ignores api_base (mlflow 3.17.2); the `databricks`
            # provider sends the same native JSON to {api_base}/serving-endpoints/<model>/v1beta/...
            create_endpoint(server.uri, provider="databricks", model=GEMINI_MODEL, api_base=fake.url),
        )
    finally:
        server.stop()


@pytest.fixture
def user_experiment(gateway: Gateway) -> Iterator[str]:
    """tracekit exports to the gateway's server, into a fresh experiment; autolog on."""
    name = f"tk-gw-{uuid.uuid4().hex[:10]}"
    tracekit.set_tracking_uri(gateway.uri)
    tracekit.set_experiment(name)
    tracekit.autolog()
    try:
        with noting_llm_spans():
            yield name
    finally:
        tracekit.autolog(disable=True)
