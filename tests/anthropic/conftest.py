"""Fixtures for the anthropic provider tests: one fake server, sync/async clients
against it (no retries), and autolog on for every test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anthropic
import pytest

import tracekit
from tracekit.testing._fakeserver import FakeLLMServer


@pytest.fixture(autouse=True)
def _autolog() -> Iterator[None]:
    tracekit.anthropic.autolog()
    yield
    tracekit.anthropic.autolog(disable=True)


@pytest.fixture
def client(server: FakeLLMServer) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(base_url=server.anthropic_base_url, api_key="sk-test", max_retries=0) as c:
        yield c


@pytest.fixture
async def aclient(server: FakeLLMServer) -> Any:
    async with anthropic.AsyncAnthropic(base_url=server.anthropic_base_url, api_key="sk-test", max_retries=0) as c:
        yield c
