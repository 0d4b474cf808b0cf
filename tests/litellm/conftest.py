"""Fixtures for the LiteLLM tests: a real LiteLLM Proxy (its own virtualenv, made by
scripts/setup_litellm.sh) with tracekit's callback, upstream the fake LLM server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from openai import OpenAI

from tracekit.testing import FakeLLMServer

from .proxy import MASTER_KEY, LiteLLMProxy, need_litellm


@pytest.fixture(scope="module")
def store_proxy(tmp_path_factory: pytest.TempPathFactory, fake_llm_server: FakeLLMServer) -> Iterator[LiteLLMProxy]:
    """A proxy whose spans go to a local store file (``proxy.store_path``)."""
    need_litellm()
    workdir = tmp_path_factory.mktemp("litellm")
    store_path = workdir / "traces.db"
    proxy = LiteLLMProxy(workdir, fake_llm_server.url_for(""), {"TRACEKIT_TRACKING_URI": f"sqlite:///{store_path}"})
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
