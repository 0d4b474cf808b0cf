"""Tools for testing traced apps offline: a fake LLM server and an in-memory span capture.

>>> from tracekit.testing import FakeLLMServer, capture
>>> with FakeLLMServer() as server, capture() as captured:
...     client = OpenAI(base_url=server.openai_base_url, api_key="test")
...     client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
"""

from __future__ import annotations

from tracekit.testing._capture import SpanCapture, capture

__all__ = ["SpanCapture", "capture"]
