"""What a 20-chunk stream costs tracekit on the app's thread, per provider.

Real SDK chunk/event objects are captured once from the fake server (the default
``text`` scenario: 20 content chunks), then replayed through the core's stream
proxy with each provider's endpoint, as in ``core_micro.py``: the caller thread's
CPU time, minimum over repeats, minus iterating the same chunks bare. Also the
end-of-stream accumulation alone (chunks -> the response the span records).

    .venv/bin/python bench/stream_accumulate.py          # prints JSON
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
os.environ.setdefault("TRACEKIT_HOME", tempfile.mkdtemp(prefix="tracekit-micro-"))

from core_micro import thread_us  # noqa: E402


class Chunks:
    def __init__(self, chunks: list[Any]) -> None:
        self.chunks = chunks

    def __iter__(self) -> Any:
        return iter(self.chunks)

    def close(self) -> None:
        pass


def _capture(provider: str) -> tuple[list[Any], dict[str, Any]]:
    from _apps import _CONTENTS, _SYSTEM, _USER, MESSAGES, App

    client = App(provider).client
    if provider == "openai":
        kwargs = {"model": "gpt-4o-mini", "messages": MESSAGES, "stream": True, "stream_options": {"include_usage": True}}
        return list(client.chat.completions.create(**kwargs)), kwargs
    if provider == "anthropic":
        kwargs = {"model": "claude-sonnet-4-5", "max_tokens": 256, "system": _SYSTEM, "messages": _USER, "stream": True}
        return list(client.messages.create(**kwargs)), kwargs
    kwargs = {"model": "gemini-2.5-flash", "contents": _CONTENTS}
    return list(client.models.generate_content_stream(**kwargs)), kwargs


def _bind(accumulate: Any, chunks: list[Any]) -> Any:
    return lambda: accumulate(chunks)


def main() -> dict[str, Any]:
    import tracekit
    from tracekit import _llm
    from tracekit._providers.anthropic import _mapping as _anthropic_mapping
    from tracekit._providers.anthropic._patches import MessagesEndpoint
    from tracekit._providers.gemini import _accumulate as _gemini_accumulate
    from tracekit._providers.gemini._patches import _STREAM
    from tracekit._providers.openai import _accumulate as _openai_accumulate
    from tracekit._providers.openai._patches import ChatEndpoint
    from tracekit._span import open_span

    endpoints: dict[str, Any] = {"openai": ChatEndpoint(), "anthropic": MessagesEndpoint(), "gemini": _STREAM}
    accumulators: dict[str, Any] = {
        "openai": _openai_accumulate.accumulate_chat,
        "anthropic": _anthropic_mapping.accumulate,
        "gemini": _gemini_accumulate.merge_stream,
    }
    out: dict[str, Any] = {}
    for provider, endpoint in endpoints.items():
        chunks, kwargs = _capture(provider)

        def stream(endpoint: Any = endpoint, chunks: list[Any] = chunks, kwargs: dict[str, Any] = kwargs) -> None:
            span = open_span("chat", endpoint.span_type)
            call = _llm.Call(span, endpoint, None, kwargs)
            for _ in _llm.SyncStreamProxy(Chunks(chunks), call):
                pass

        def bare(chunks: list[Any] = chunks) -> None:
            for _ in Chunks(chunks):
                pass

        for _ in range(100):
            stream()
        tracekit.flush()
        accumulate: Any = accumulators[provider]
        out[provider] = {
            "chunks": len(chunks),
            "stream_us": round(thread_us(stream, n=200) - thread_us(bare, n=200), 1),
            "accumulate_us": round(thread_us(_bind(accumulate, chunks), n=100), 1),
        }
        tracekit.flush()
    return out


if __name__ == "__main__":
    print(json.dumps(main(), indent=1))
