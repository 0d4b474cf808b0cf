"""A real ``mlflow server`` with its AI Gateway (one per session), endpoints configured
over REST in front of tracekit's fake LLM server, and the SDK clients pointed at them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from export.mlflow_server import MlflowServer

import tracekit
from tracekit.testing import FakeLLMServer

from .gateway_setup import Endpoint, create_endpoint
from .linking import noting_llm_spans

OPENAI_MODEL = "gpt-4o-mini"
ANTHROPIC_MODEL = "claude-haiku-4-5"
GEMINI_MODEL = "gemini-2.5-flash"


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
def gateway(mlflow_server: MlflowServer, gateway_fake: FakeLLMServer) -> Iterator[Gateway]:
    """The session's MLflow server (started with the gateway's settings) with three
    endpoints routed to ``gateway_fake``."""
    server, fake = mlflow_server, gateway_fake
    yield Gateway(
        server,
        fake,
        create_endpoint(server.uri, provider="openai", model=OPENAI_MODEL, api_base=fake.url + "/v1"),
        create_endpoint(server.uri, provider="anthropic", model=ANTHROPIC_MODEL, api_base=fake.url + "/v1"),
        # The native `gemini` provider ignores api_base (mlflow 3.17.2); the `databricks`
        # provider sends the same native JSON to {api_base}/serving-endpoints/<model>/v1beta/...
        create_endpoint(server.uri, provider="databricks", model=GEMINI_MODEL, api_base=fake.url),
    )


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
