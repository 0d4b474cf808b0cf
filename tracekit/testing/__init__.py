"""Tools for testing traced apps offline: a fake LLM server and an in-memory span capture.

>>> from tracekit.testing import FakeLLMServer, capture
>>> with FakeLLMServer() as server, capture() as captured:
...     client = OpenAI(base_url=server.openai_base_url, api_key="test")
...     client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
>>> [span.name for span in captured.spans]
['chat gpt-4o-mini']

See docs/testing.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tracekit.testing._capture import SpanCapture, capture
from tracekit.testing._fakeserver import (
    SCENARIOS,
    FakeLLM,
    FakeLLMServer,
    FakeRequest,
    FakeResponse,
    ScenarioError,
    ScenarioOptions,
    StreamChunk,
)

# FakeTransport / AsyncFakeTransport subclass httpx2 classes (they come with the provider
# SDKs), so they load on first access, through the fake server package's own hook
from tracekit.testing._fakeserver import __getattr__ as __getattr__

if TYPE_CHECKING:
    from tracekit.testing._fakeserver import AsyncFakeTransport, FakeTransport

__all__ = [
    "SCENARIOS",
    "AsyncFakeTransport",
    "FakeLLM",
    "FakeLLMServer",
    "FakeRequest",
    "FakeResponse",
    "FakeTransport",
    "ScenarioError",
    "ScenarioOptions",
    "SpanCapture",
    "StreamChunk",
    "capture",
]
