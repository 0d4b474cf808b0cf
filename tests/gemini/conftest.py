"""Fixtures for the gemini provider tests: one fake server, google-genai clients on it
(sync and ``client.aio``), and autolog on for every test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from gemini_spans import make_client

import tracekit
from tracekit.testing._fakeserver import FakeLLMServer


@pytest.fixture(autouse=True)
def _autolog() -> Iterator[None]:
    tracekit.gemini.autolog()
    yield
    tracekit.gemini.autolog(disable=True)


@pytest.fixture
def client(server: FakeLLMServer) -> Iterator[Any]:
    c = make_client(server)
    yield c
    c.close()


@pytest.fixture
async def aclient(server: FakeLLMServer) -> AsyncIterator[Any]:
    c = make_client(server)
    yield c.aio
    await c.aio.aclose()
    c.close()
