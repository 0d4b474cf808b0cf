"""Fixtures for the OpenAI autolog tests: the fake LLM server, patched SDK, clients.

Every test drives the real openai SDK over real HTTP against the fake server, with
``max_retries=0`` so that an error scenario reaches the server exactly once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from openai import AsyncOpenAI, OpenAI

import tracekit.openai
from tracekit.testing._fakeserver import FakeLLMServer


@pytest.fixture(autouse=True)
def _autolog() -> Iterator[None]:
    tracekit.openai.autolog()
    yield
    tracekit.openai.autolog(disable=True)


@pytest.fixture
def client(server: FakeLLMServer) -> Iterator[OpenAI]:
    with OpenAI(base_url=server.openai_base_url, api_key="sk-secret-test-key", max_retries=0) as c:
        yield c


@pytest.fixture
async def aclient(server: FakeLLMServer) -> AsyncIterator[AsyncOpenAI]:
    async with AsyncOpenAI(base_url=server.openai_base_url, api_key="sk-secret-test-key", max_retries=0) as c:
        yield c
