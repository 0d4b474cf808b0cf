"""Fixtures for the LangChain autolog tests: real langchain-core / langchain-openai /
langgraph against the fake LLM server, with and without the OpenAI autolog.

The newest releases come with tracekit's ``dev`` extra; the oldest supported ones run
the same files from ``.venv-langchain-oldest`` (created by scripts/test.sh). Without
LangChain the tests skip locally and fail under CI=true.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from typing import Any

import pytest

import tracekit
import tracekit.langchain
import tracekit.openai
from tracekit.testing import FakeLLM, FakeLLMServer
from tracekit.testing._fakeserver import FakeRequest, FakeResponse

_MISSING: str | None = None
try:
    import langchain_core  # noqa: F401
    import langchain_openai  # noqa: F401
    import langgraph  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the environment
    if os.environ.get("CI"):
        raise
    _MISSING = f"tests/langchain_autolog not collected: LangChain is not installed ({exc}); pip install -e '.[dev]'"
    collect_ignore_glob = ["test_*.py"]


MODEL = "gpt-4o-mini"
API_KEY = "sk-secret-test-key"


def pytest_report_header(config: pytest.Config) -> str | None:
    return _MISSING


class AgentLLM(FakeLLM):
    """The fake model as an agent sees it: a tool call first, then -- once the last
    message is a tool result -- a text answer (the ``text`` scenario), so an agent loop ends."""

    def handle(self, request: FakeRequest) -> FakeResponse:
        body = request.json if isinstance(request.json, dict) else {}
        messages = body.get("messages") or []
        last = messages[-1] if messages and isinstance(messages[-1], dict) else {}
        content = last.get("content")
        tool_result = last.get("role") == "tool" or (
            isinstance(content, list) and any(isinstance(b, dict) and b.get("type") == "tool_result" for b in content)
        )
        if tool_result and "x-fake-scenario" not in request.headers:
            request = dataclasses.replace(request, headers={**request.headers, "x-fake-scenario": "text"})
        return super().handle(request)


@pytest.fixture
def server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer(app=AgentLLM("tool_call")) as s:
        yield s


@pytest.fixture(autouse=True)
def _langchain_autolog() -> Iterator[None]:
    tracekit.langchain.autolog()
    yield
    tracekit.langchain.autolog(disable=True)


@pytest.fixture(params=["langchain", "langchain+openai"])
def provider(request: pytest.FixtureRequest) -> Iterator[bool]:
    """Both ways a LangChain app is traced: LangChain's runs alone, and with the OpenAI
    autolog on too (each model call must still be one span). Yields True for the latter."""
    on = request.param == "langchain+openai"
    if on:
        tracekit.openai.autolog()
    yield on
    if on:
        tracekit.openai.autolog(disable=True)


@pytest.fixture
def llm(server: FakeLLMServer) -> Any:
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(model=MODEL, base_url=server.openai_base_url, api_key=API_KEY, max_retries=0)
