"""A fake LLM server speaking the OpenAI, Anthropic and Gemini wire protocols.

Real SDK clients (openai, anthropic, google-genai) talk to it unchanged, over
HTTP (:class:`FakeLLMServer`) or in process (:class:`FakeTransport` /
:class:`AsyncFakeTransport`, imported lazily because they need ``httpx2``).
See ``docs/testing.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._app import FakeLLM
from ._model import FakeRequest, FakeResponse, StreamChunk
from ._scenarios import SCENARIOS, ScenarioError, ScenarioOptions
from ._server import FakeLLMServer

if TYPE_CHECKING:
    from ._transport import AsyncFakeTransport, FakeTransport

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
    "StreamChunk",
]


def __getattr__(name: str) -> Any:
    # The transports subclass httpx2 classes; import them only when asked for,
    # so `import tracekit.testing` works without any SDK installed.
    if name in ("FakeTransport", "AsyncFakeTransport"):
        from . import _transport

        return getattr(_transport, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
