"""Every way a stream can end ends its span exactly once, under the right parent, with
the right outcome: exhaustion, an error mid-stream, break + close, closing() exit,
task cancellation and garbage collection -- sync and async.

google-genai 3.4.0 hands the app a generator of its own around the per-request
generator that tracekit wraps; closing the outer one drops (rather than closes) the
inner one, so an early close is recorded as ``abandoned`` -- at once for sync
streams, a few event-loop iterations later for async ones (the SDK's inner async
generator is closed by the loop's async-generator finalizer).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from typing import Any

import pytest
from gemini_spans import MODEL, PROMPT, TEXT, error_attributes, settle
from google.genai import errors

import tracekit
from tracekit.testing import SpanCapture
from tracekit.testing._fakeserver import FakeLLMServer


def _llm_span(captured: SpanCapture) -> tuple[Any, Any]:
    """(the LLM span, the root span) of the one trace; asserts the LLM span ended once."""
    spans = captured.spans
    llm = [s for s in spans if s.span_type == "CHAT_MODEL"]
    roots = [s for s in spans if s.parent_id is None]
    assert len(llm) == 1 and len(roots) == 1, [s.name for s in spans]
    assert llm[0].parent_id == roots[0].span_id
    assert llm[0].end_time_ns is not None
    return llm[0], roots[0]


def _text(span: Any) -> str:
    import json

    outputs = json.loads(span.attributes["mlflow.spanOutputs"])
    return "".join(p["text"] for p in outputs["candidates"][0]["content"]["parts"])


def _assert_outcome(span: Any, *, end_reason: str, chunks: int, status: str = "OK") -> None:
    assert span.status == status
    assert span.attributes["tracekit.stream.end_reason"] == end_reason
    assert span.attributes["tracekit.stream.chunks"] == chunks
    assert span.attributes.get("tracekit.stream.incomplete", False) is (end_reason != "exhausted")


# --- sync ------------------------------------------------------------------------------


def test_sync_exhausted(client: Any, captured: SpanCapture) -> None:
    with tracekit.start_span("app"):
        chunks = list(client.models.generate_content_stream(model=MODEL, contents=PROMPT))
    span, _ = _llm_span(captured)
    _assert_outcome(span, end_reason="exhausted", chunks=len(chunks))
    assert _text(span) == TEXT


def test_sync_midstream_error(client: Any, server: FakeLLMServer, captured: SpanCapture) -> None:
    server.set_scenario("midstream_error")
    seen = []
    with pytest.raises(errors.ServerError) as raised, tracekit.start_span("app"):
        for chunk in client.models.generate_content_stream(model=MODEL, contents=PROMPT):
            seen.append(chunk.text)
    span, root = _llm_span(captured)
    _assert_outcome(span, end_reason="error", chunks=10, status="ERROR")
    assert _text(span) == "".join(seen)  # the partial answer is kept
    assert {k: span.attributes[k] for k in error_attributes(500, "")} == error_attributes(500, "ServerError")
    [event] = [e for e in span.events if e["name"] == "exception"]
    assert event["attributes"]["exception.type"].endswith("ServerError")
    assert root.status == "ERROR" and raised.value.code == 500


def test_sync_break_then_close(client: Any, captured: SpanCapture) -> None:
    with tracekit.start_span("app"):
        stream = client.models.generate_content_stream(model=MODEL, contents=PROMPT)
        for chunk in stream:
            first = chunk.text
            break
        stream.close()
        span, _ = _llm_span_ended_before_root(captured)
    _assert_outcome(span, end_reason="abandoned", chunks=1)
    assert _text(span) == first


def _llm_span_ended_before_root(captured: SpanCapture) -> tuple[Any, None]:
    """Inside the root span: the LLM span already ended (once)."""
    [span] = captured.spans
    assert span.span_type == "CHAT_MODEL" and span.end_time_ns is not None
    return span, None


def test_sync_closing_exit(client: Any, captured: SpanCapture) -> None:
    with tracekit.start_span("app"):
        with contextlib.closing(client.models.generate_content_stream(model=MODEL, contents=PROMPT)) as stream:
            next(stream)
            next(stream)
        _llm_span_ended_before_root(captured)
    span, _ = _llm_span(captured)
    _assert_outcome(span, end_reason="abandoned", chunks=2)


def test_sync_garbage_collected(client: Any, captured: SpanCapture) -> None:
    with tracekit.start_span("app"):
        stream = client.models.generate_content_stream(model=MODEL, contents=PROMPT)
        next(stream)
        del stream
        gc.collect()
        _llm_span_ended_before_root(captured)
    span, _ = _llm_span(captured)
    _assert_outcome(span, end_reason="abandoned", chunks=1)


def test_sync_cut_off_stream(client: Any, server: FakeLLMServer, captured: SpanCapture) -> None:
    # the server ends the stream without a finish reason: the SDK ends iteration
    # normally (nothing to resume from); the span keeps the partial answer and is
    # marked incomplete
    server.set_scenario("cutoff")
    with tracekit.start_span("app"):
        chunks = list(client.models.generate_content_stream(model=MODEL, contents=PROMPT))
    span, _ = _llm_span(captured)
    assert span.attributes["tracekit.stream.end_reason"] == "exhausted"
    assert span.attributes["tracekit.stream.incomplete"] is True
    assert span.attributes["tracekit.stream.chunks"] == len(chunks) == 10
    assert "gen_ai.response.finish_reasons" not in span.attributes
    assert _text(span) == "".join(c.text for c in chunks)


async def test_async_cut_off_stream(aclient: Any, server: FakeLLMServer, captured: SpanCapture) -> None:
    server.set_scenario("cutoff")
    async with tracekit.start_span("app"):
        chunks = [c async for c in await aclient.models.generate_content_stream(model=MODEL, contents=PROMPT)]
    span, _ = _llm_span(captured)
    assert span.status == "OK"
    assert span.attributes["tracekit.stream.incomplete"] is True
    assert _text(span) == "".join(c.text for c in chunks)


# --- async -----------------------------------------------------------------------------


async def test_async_exhausted(aclient: Any, captured: SpanCapture) -> None:
    async with tracekit.start_span("app"):
        chunks = [c async for c in await aclient.models.generate_content_stream(model=MODEL, contents=PROMPT)]
    span, _ = _llm_span(captured)
    _assert_outcome(span, end_reason="exhausted", chunks=len(chunks))


async def test_async_midstream_error(aclient: Any, server: FakeLLMServer, captured: SpanCapture) -> None:
    server.set_scenario("midstream_error")
    with pytest.raises(errors.ServerError):
        async with tracekit.start_span("app"):
            async for _ in await aclient.models.generate_content_stream(model=MODEL, contents=PROMPT):
                pass
    span, _ = _llm_span(captured)
    _assert_outcome(span, end_reason="error", chunks=10, status="ERROR")
    assert span.attributes["http.response.status_code"] == 500


async def test_async_break_then_aclose(aclient: Any, captured: SpanCapture) -> None:
    async with tracekit.start_span("app"):
        stream = await aclient.models.generate_content_stream(model=MODEL, contents=PROMPT)
        async for _ in stream:
            break
        await stream.aclose()
        await settle(captured, 1)
        _llm_span_ended_before_root(captured)
    span, _ = _llm_span(captured)
    _assert_outcome(span, end_reason="abandoned", chunks=1)


async def test_async_garbage_collected(aclient: Any, captured: SpanCapture) -> None:
    async with tracekit.start_span("app"):
        stream = await aclient.models.generate_content_stream(model=MODEL, contents=PROMPT)
        await stream.__anext__()
        del stream
        gc.collect()
        await settle(captured, 1)
        _llm_span_ended_before_root(captured)
    span, _ = _llm_span(captured)
    _assert_outcome(span, end_reason="abandoned", chunks=1)


async def test_async_task_cancelled(aclient: Any, server: FakeLLMServer, captured: SpanCapture) -> None:
    server.set_scenario("text", delay=0.05)
    got_one = asyncio.Event()

    async def consume() -> None:
        async with tracekit.start_span("app"):
            async for _ in await aclient.models.generate_content_stream(model=MODEL, contents=PROMPT):
                got_one.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(got_one.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    span, root = _llm_span(captured)
    assert (span.status, span.attributes["tracekit.stream.end_reason"]) == ("ERROR", "cancelled")
    assert span.attributes["tracekit.stream.incomplete"] is True
    assert 1 <= span.attributes["tracekit.stream.chunks"] < 20
    assert root.end_time_ns is not None
