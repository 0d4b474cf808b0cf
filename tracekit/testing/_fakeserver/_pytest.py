"""Pytest fixtures for the fake LLM server (registered by tracekit's pytest plugin).

``fake_llm_server`` is one server for the whole session; ``fake_llm`` is the
same server reset before and after each test (default ``text`` scenario, no
recorded requests, ids restarting at 1).

Example::

    def test_reply(fake_llm):
        client = OpenAI(base_url=fake_llm.openai_base_url, api_key="k", max_retries=0)
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
        assert fake_llm.last_request.json["model"] == "m"
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ._server import FakeLLMServer

__all__ = ["fake_llm", "fake_llm_server"]


@pytest.fixture(scope="session")
def fake_llm_server() -> Iterator[FakeLLMServer]:
    """A started :class:`FakeLLMServer` shared by the whole test session."""
    with FakeLLMServer() as server:
        yield server


@pytest.fixture
def fake_llm(fake_llm_server: FakeLLMServer) -> Iterator[FakeLLMServer]:
    """The session server, reset to a clean state for this test."""
    fake_llm_server.reset()
    yield fake_llm_server
    fake_llm_server.reset()
