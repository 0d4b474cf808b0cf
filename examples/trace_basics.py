"""Tracing your own code: @trace in its shapes, start_span, trace tags, reading a trace back.

Run: python examples/trace_basics.py   (writes to the local store; see `tracekit traces list`)
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import tracekit


@tracekit.trace(span_type=tracekit.SpanType.RETRIEVER)
def retrieve(query: str, k: int = 2) -> list[str]:
    return [f"doc-{i} about {query}" for i in range(k)]


@tracekit.trace(span_type=tracekit.SpanType.TOOL)
def score(doc: str) -> float:
    return len(doc) / 100


@tracekit.trace
def stream_words(text: str):  # a generator: its span ends when it is exhausted or closed
    yield from text.split()


@tracekit.trace(name="pipeline", span_type=tracekit.SpanType.AGENT)
async def pipeline(question: str) -> dict[str, object]:
    tracekit.update_current_trace(session_id="example-session", tags={"example": "basics"})
    docs = retrieve(question)
    with ThreadPoolExecutor(max_workers=2) as pool:  # bind_context carries the trace into threads
        scores = list(pool.map(tracekit.bind_context(score), docs))
    with tracekit.start_span("summarize", span_type="PARSER", inputs={"n": len(docs)}) as span:
        summary = " ".join(stream_words(docs[0]))
        span.set_outputs(summary)
    await asyncio.sleep(0)
    return {"best": docs[scores.index(max(scores))], "summary": summary}


def main() -> None:
    print(asyncio.run(pipeline("weather in Oslo")))
    trace = tracekit.get_trace(tracekit.get_last_trace_id() or "")
    assert trace is not None
    for span in sorted(trace.spans, key=lambda s: s.start_time_ns):
        print(f"{span.span_type:10} {span.name:12} {span.duration_ms:8.2f} ms  parent={span.parent_id}")


if __name__ == "__main__":
    main()
