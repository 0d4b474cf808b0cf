"""Fixtures for the fake server's own tests: the server and real SDK clients on it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from tracekit.testing._fakeserver import FakeLLMServer
from tracekit.testing._fakeserver._pytest import fake_llm, fake_llm_server

__all__ = ["fake_llm", "fake_llm_server"]


@pytest.fixture
def server(fake_llm: FakeLLMServer) -> FakeLLMServer:
    return fake_llm


@pytest.fixture
def openai_client(server: FakeLLMServer) -> Iterator[Any]:
    import openai

    with openai.OpenAI(base_url=server.openai_base_url, api_key="sk-test", max_retries=0) as client:
        yield client


@pytest.fixture
async def async_openai_client(server: FakeLLMServer) -> AsyncIterator[Any]:
    import openai

    async with openai.AsyncOpenAI(base_url=server.openai_base_url, api_key="sk-test", max_retries=0) as client:
        yield client


@pytest.fixture
def anthropic_client(server: FakeLLMServer) -> Iterator[Any]:
    import anthropic

    with anthropic.Anthropic(base_url=server.anthropic_base_url, api_key="sk-ant-test", max_retries=0) as client:
        yield client


@pytest.fixture
async def async_anthropic_client(server: FakeLLMServer) -> AsyncIterator[Any]:
    import anthropic

    async with anthropic.AsyncAnthropic(base_url=server.anthropic_base_url, api_key="sk-ant-test", max_retries=0) as client:
        yield client


def make_genai_client(base_url: str, **http_options: Any) -> Any:
    from google import genai
    from google.genai import types

    return genai.Client(
        api_key="gemini-test", http_options=types.HttpOptions(base_url=base_url, api_version="v1beta", **http_options)
    )


@pytest.fixture
def genai_client(server: FakeLLMServer) -> Iterator[Any]:
    client = make_genai_client(server.gemini_base_url)
    yield client
    client.close()


@pytest.fixture
async def async_genai_client(server: FakeLLMServer) -> AsyncIterator[Any]:
    client = make_genai_client(server.gemini_base_url)
    yield client
    await client.aio.aclose()
    client.close()
