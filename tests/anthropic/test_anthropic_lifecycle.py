"""Every stream exit path ends exactly one span, under the right parent, with the
right outcome: create(stream=True) and the messages.stream() helper, sync and async."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import anthropic
import pytest
from anthropic_spans import MODEL, USER, attributes, only_span, scenario

import tracekit
from tracekit.testing import SpanCapture
from tracekit.testing._fakeserver import FakeLLMServer

INPUTS: dict[str, Any] = {"model": MODEL, "max_tokens": 64, "messages": USER}
SURFACES = ["create", "helper"]


def open_stream(client: anthropic.Anthropic, surface: str, **kwargs: Any) -> tuple[Any, Any]:
    """(stream, manager-or-None) for a surface, already entered."""
    if surface == "create":
        return client.messages.create(**INPUTS, stream=True, **kwargs), None
    manager = client.messages.stream(**INPUTS, **kwargs)
    return manager.__enter__(), manager


def the_span(captured: SpanCapture, parent: Any) -> Any:
    spans = [s for s in captured.spans if s.name == f"chat {MODEL}"]
    assert len(spans) == 1, [s.name for s in captured.spans]
    span = spans[0]
    assert span.parent_id == parent.span_id and span.end_time_ns is not None
    return span


def partial_text(span: Any) -> str:
    content = attributes(span)["mlflow.spanOutputs"]["content"]
    return "".join(block.get("text", "") for block in content)


@pytest.mark.parametrize("surface", SURFACES)
def test_exhausted(client: anthropic.Anthropic, captured: SpanCapture, surface: str) -> None:
    with tracekit.start_span("app") as parent:
        stream, _ = open_stream(client, surface)
        for _ in stream:
            pass
        span = the_span(captured, parent)  # ended on exhaustion, before the app span
    values = attributes(span)
    assert span.status == "OK" and values["tracekit.stream.end_reason"] == "exhausted"
    assert "tracekit.stream.incomplete" not in values
    assert values["gen_ai.response.finish_reasons"] == ["end_turn"]


@pytest.mark.parametrize("surface", SURFACES)
def test_midstream_error(client: anthropic.Anthropic, captured: SpanCapture, surface: str) -> None:
    with tracekit.start_span("app") as parent:
        stream, _ = open_stream(client, surface, **scenario("midstream_error"))
        with pytest.raises(anthropic.APIStatusError, match="overloaded_error"):
            for _ in stream:
                pass
    span = the_span(captured, parent)
    values = attributes(span)
    assert span.status == "ERROR"
    assert values["tracekit.stream.end_reason"] == "error"
    assert values["tracekit.stream.incomplete"] is True
    assert values["error.type"] == "APIStatusError"
    assert values["http.response.status_code"] == 200  # the error came inside a 200 SSE body
    assert partial_text(span) == "Hello! This is the f"  # the 10 of 20 pieces that arrived
    assert "gen_ai.response.finish_reasons" not in values
    assert [e["name"] for e in span.events] == ["gen_ai.first_token", "exception"]


@pytest.mark.parametrize("surface", SURFACES)
def test_break_then_close(client: anthropic.Anthropic, captured: SpanCapture, surface: str) -> None:
    with tracekit.start_span("app") as parent:
        stream, _ = open_stream(client, surface)
        for event in stream:
            if event.type == "content_block_delta":
                break
        stream.close()
        span = the_span(captured, parent)
    values = attributes(span)
    assert span.status == "OK"
    assert values["tracekit.stream.end_reason"] == "closed"
    assert values["tracekit.stream.incomplete"] is True
    assert partial_text(span) == "He"


@pytest.mark.parametrize("surface", SURFACES)
def test_with_exit(client: anthropic.Anthropic, captured: SpanCapture, surface: str) -> None:
    with tracekit.start_span("app") as parent:
        if surface == "create":
            with client.messages.create(**INPUTS, stream=True) as stream:
                next(iter(stream))
        else:
            with client.messages.stream(**INPUTS) as stream:
                next(iter(stream))
        span = the_span(captured, parent)
    values = attributes(span)
    assert values["tracekit.stream.end_reason"] == "closed" and values["tracekit.stream.incomplete"] is True
    assert values["tracekit.stream.chunks"] == 1


@pytest.mark.parametrize("surface", SURFACES)
def test_garbage_collected(client: anthropic.Anthropic, captured: SpanCapture, surface: str) -> None:
    with tracekit.start_span("app") as parent:
        stream, manager = open_stream(client, surface)
        next(iter(stream))
        del stream, manager
        gc.collect()
        span = the_span(captured, parent)
    values = attributes(span)
    assert values["tracekit.stream.end_reason"] == "abandoned" and values["tracekit.stream.incomplete"] is True


@pytest.mark.parametrize("surface", SURFACES)
def test_cut_off_without_message_stop(client: anthropic.Anthropic, captured: SpanCapture, surface: str) -> None:
    with tracekit.start_span("app") as parent:
        stream, _ = open_stream(client, surface, **scenario("cutoff"))
        for _ in stream:  # the SDK ends quietly when the body ends early
            pass
    values = attributes(the_span(captured, parent))
    assert values["tracekit.stream.end_reason"] == "exhausted"
    assert values["tracekit.stream.incomplete"] is True
    assert values["mlflow.spanOutputs"]["stop_reason"] is None


# --- async ------------------------------------------------------------------------------


async def aopen_stream(client: anthropic.AsyncAnthropic, surface: str, **kwargs: Any) -> tuple[Any, Any]:
    if surface == "create":
        return await client.messages.create(**INPUTS, stream=True, **kwargs), None
    manager = client.messages.stream(**INPUTS, **kwargs)
    return await manager.__aenter__(), manager


@pytest.mark.asyncio
@pytest.mark.parametrize("surface", SURFACES)
async def test_async_exhausted_and_error(aclient: anthropic.AsyncAnthropic, captured: SpanCapture, surface: str) -> None:
    with tracekit.start_span("app") as parent:
        stream, _ = await aopen_stream(aclient, surface)
        async for _ in stream:
            pass
        broken, _ = await aopen_stream(aclient, surface, **scenario("midstream_error"))
        with pytest.raises(anthropic.APIStatusError):
            async for _ in broken:
                pass
    spans = [s for s in captured.spans if s.name.startswith("chat")]
    assert [s.parent_id for s in spans] == [parent.span_id] * 2
    assert [attributes(s)["tracekit.stream.end_reason"] for s in spans] == ["exhausted", "error"]
    assert [s.status for s in spans] == ["OK", "ERROR"]


@pytest.mark.asyncio
@pytest.mark.parametrize("surface", SURFACES)
async def test_async_break_close_and_with_exit(aclient: anthropic.AsyncAnthropic, captured: SpanCapture, surface: str) -> None:
    with tracekit.start_span("app") as parent:
        stream, _ = await aopen_stream(aclient, surface)
        async for _ in stream:
            break
        await stream.close()
        if surface == "create":
            async with await aclient.messages.create(**INPUTS, stream=True) as stream:
                await stream.__anext__()
        else:
            async with aclient.messages.stream(**INPUTS) as stream:
                await stream.__anext__()
    spans = [s for s in captured.spans if s.name.startswith("chat")]
    assert [s.parent_id for s in spans] == [parent.span_id] * 2
    assert [attributes(s)["tracekit.stream.end_reason"] for s in spans] == ["closed", "closed"]
    assert all(attributes(s)["tracekit.stream.incomplete"] for s in spans)


@pytest.mark.asyncio
@pytest.mark.parametrize("surface", SURFACES)
async def test_async_cancelled(
    aclient: anthropic.AsyncAnthropic, server: FakeLLMServer, captured: SpanCapture, surface: str
) -> None:
    started = asyncio.Event()

    async def consume() -> None:
        stream, _ = await aopen_stream(aclient, surface, extra_headers={"x-fake-delay": "0.5"})
        async for _ in stream:
            started.set()

    with tracekit.start_span("app") as parent:
        task = asyncio.create_task(consume())
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    span = [s for s in captured.spans if s.name.startswith("chat")]
    assert len(span) == 1 and span[0].parent_id == parent.span_id
    values = attributes(span[0])
    assert values["tracekit.stream.end_reason"] == "cancelled" and values["tracekit.stream.incomplete"] is True


@pytest.mark.asyncio
@pytest.mark.parametrize("surface", SURFACES)
async def test_async_garbage_collected(aclient: anthropic.AsyncAnthropic, captured: SpanCapture, surface: str) -> None:
    with tracekit.start_span("app") as parent:
        stream, manager = await aopen_stream(aclient, surface)
        await stream.__anext__()
        await stream.close()  # release the connection; the proxy must still end once
        del stream, manager
        gc.collect()
    spans = [s for s in captured.spans if s.name.startswith("chat")]
    assert len(spans) == 1 and spans[0].parent_id == parent.span_id
    assert attributes(spans[0])["tracekit.stream.end_reason"] == "closed"


@pytest.mark.asyncio
async def test_async_abandoned_without_close(aclient: anthropic.AsyncAnthropic, captured: SpanCapture) -> None:
    stream, _ = await aopen_stream(aclient, "create")
    await stream.__anext__()
    del stream
    gc.collect()
    values = attributes(only_span(captured))
    assert values["tracekit.stream.end_reason"] == "abandoned"
