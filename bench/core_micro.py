"""tracekit's own cost, isolated from the SDK and from a noisy machine.

The SDK's work is replaced by a canned result (a real ``ChatCompletion`` / real
``ChatCompletionChunk`` objects captured once from the fake server), and the cost is
the *thread* CPU time of the caller (not wall time: a busy machine preempts, it does
not add instructions), the minimum over repeats. Also: the background export's CPU
per span for the local store, measured on captured spans.

    .venv/bin/python bench/core_micro.py          # prints JSON
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
os.environ.setdefault("TRACEKIT_HOME", tempfile.mkdtemp(prefix="tracekit-micro-"))


def thread_us(fn: Callable[[], Any], n: int = 500, repeats: int = 7) -> float:
    best = float("inf")
    for _ in range(repeats):
        t = time.thread_time_ns()
        for _ in range(n):
            fn()
        best = min(best, (time.thread_time_ns() - t) / n / 1e3)
    return best


def main() -> dict[str, Any]:
    import wrapt
    from _apps import MESSAGES, App
    from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor

    import tracekit
    from tracekit import _llm, _tracer
    from tracekit._providers.openai import _accumulate as _openai_accumulate
    from tracekit._providers.openai._patches import ChatEndpoint
    from tracekit._span import open_span
    from tracekit._store import SQLiteSpanExporter

    app = App("openai")
    canned = app.client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    chunks = list(
        app.client.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
        )
    )
    resource = app.client.chat.completions
    endpoint = ChatEndpoint()

    def sdk(*args: Any, **kwargs: Any) -> Any:
        return canned

    bound = wrapt.FunctionWrapper(sdk, _llm._sync_wrapper(endpoint, None)).__get__(resource, type(resource))

    def plain() -> Any:
        return bound(model="gpt-4o-mini", messages=MESSAGES)

    def bare() -> Any:
        return sdk(model="gpt-4o-mini", messages=MESSAGES)

    @tracekit.trace(name="bench_parent")
    def nested(question: str = "hello") -> Any:
        return plain()

    class Chunks:
        def __iter__(self) -> Any:
            return iter(chunks)

        def close(self) -> None:
            pass

    def stream() -> None:
        span = open_span("chat gpt-4o-mini", endpoint.span_type)
        call = _llm.Call(span, endpoint, resource, {"model": "gpt-4o-mini", "messages": MESSAGES, "stream": True})
        for _ in _llm.SyncStreamProxy(Chunks(), call):
            pass

    def bare_stream() -> None:
        for _ in Chunks():
            pass

    captured: list[ReadableSpan] = []

    class Capture(SpanProcessor):
        def on_end(self, span: ReadableSpan) -> None:
            if len(captured) < 2000:
                captured.append(span)

    for _ in range(200):
        plain()
        nested()
        stream()
    tracekit.flush()
    out: dict[str, Any] = {"chunks": len(chunks)}
    out["plain_us"] = thread_us(plain) - thread_us(bare)
    out["nested_us"] = thread_us(nested) - thread_us(bare)
    out["stream_us"] = thread_us(stream, n=200) - thread_us(bare_stream, n=200)
    tracekit.flush()
    # the end-of-stream merge tracekit runs (plain dicts), against the SDK's accumulator it replaced
    out["stream_accumulate_us"] = thread_us(lambda: _openai_accumulate.accumulate_chat(chunks), n=100)
    out["stream_accumulate_sdk_us"] = thread_us(lambda: _openai_accumulate.sdk_accumulate_chat(chunks), n=100)
    out["stream_without_accumulate_us"] = out["stream_us"] - out["stream_accumulate_us"]
    # the local store's CPU per span, on spans like the benchmark's (1 chat + 1 parent per trace)
    capture = Capture()
    _tracer.add_span_processor(capture)
    for _ in range(1000):
        nested()
    _tracer.remove_span_processor(capture)
    tracekit.flush()
    exporter = SQLiteSpanExporter(os.path.join(os.environ["TRACEKIT_HOME"], "micro.db"))
    exporter.export(captured[:10])
    batch = captured[10:]
    t = time.thread_time_ns()
    for i in range(0, len(batch), 512):
        exporter.export(batch[i : i + 512])
    out["store_cpu_us_per_span"] = (time.thread_time_ns() - t) / len(batch) / 1e3
    return out


if __name__ == "__main__":
    print(json.dumps(main(), indent=1))
