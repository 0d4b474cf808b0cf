"""Every stream exit path ends exactly one span, under the right parent, with the right
outcome -- for every streamed surface: chat create, chat stream(), responses create,
responses stream(), sync and async."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable
from typing import Any

import openai
import pytest
from openai import AsyncOpenAI, OpenAI
from openai_helpers import MESSAGES, MODEL, TEXT, scenario

import tracekit
from tracekit import _attributes as attr
from tracekit._model import SpanData
from tracekit.testing import SpanCapture

Opener = Callable[[Any, dict[str, Any]], Any]

SURFACES: dict[str, Opener] = {
    "chat": lambda c, kw: c.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True, **kw),
    "chat_helper": lambda c, kw: c.chat.completions.stream(model=MODEL, messages=MESSAGES, **kw),
    "responses": lambda c, kw: c.responses.create(model=MODEL, input="hi", stream=True, **kw),
    "responses_helper": lambda c, kw: c.responses.stream(model=MODEL, input="hi", **kw),
}


def output_text(outputs: Any) -> str:
    if not outputs:
        return ""
    if "choices" in outputs:
        return outputs["choices"][0]["message"].get("content") or ""
    return "".join(p.get("text", "") for item in outputs.get("output") or [] for p in item.get("content") or [])


def check(
    captured: SpanCapture, parent_name: str, *, reason: str, status: str = "OK", incomplete: bool = False, full_text: bool = False
) -> SpanData:
    """Exactly one LLM span ended, under the parent span, with this outcome and a kept output."""
    spans = {s.name: s for s in captured.spans}
    llm = [s for s in captured.spans if s.span_type == "CHAT_MODEL"]
    assert len(llm) == 1, [s.name for s in captured.spans]
    span = llm[0]
    assert span.parent_id == spans[parent_name].span_id
    assert span.end_time_ns is not None
    assert span.status == status
    values = span.attributes
    assert values[attr.STREAM_END_REASON] == reason
    assert values.get(attr.STREAM_INCOMPLETE, False) is incomplete
    text = output_text(span.outputs)
    if full_text:
        assert text == TEXT
    else:
        assert text and TEXT.startswith(text) and text != TEXT  # the partial output is kept
    return span


def _enter(obj: Any) -> Any:
    return obj.__enter__() if obj.__class__.__name__.endswith("StreamManager") else obj


def _take(stream: Any, n: int) -> None:
    it = iter(stream)
    for _ in range(n):
        next(it)


@pytest.fixture(params=list(SURFACES))
def surface(request: pytest.FixtureRequest) -> Opener:
    return SURFACES[request.param]


def test_exhausted(client: OpenAI, surface: Opener, captured: SpanCapture) -> None:
    with tracekit.start_span("parent"):
        for _ in _enter(surface(client, {})):
            pass
    check(captured, "parent", reason="exhausted", full_text=True)


def test_break_then_close(client: OpenAI, surface: Opener, captured: SpanCapture) -> None:
    with tracekit.start_span("parent"):
        stream = _enter(surface(client, scenario("text", chunks=20)))
        _take(stream, 8)
        stream.close()
        stream.close()  # twice: still one end
    check(captured, "parent", reason="closed", incomplete=True)


def test_with_exit(client: OpenAI, surface: Opener, captured: SpanCapture) -> None:
    with tracekit.start_span("parent"):
        with surface(client, scenario("text", chunks=20)) as stream:
            _take(stream, 8)
        assert len([s for s in captured.spans if s.span_type == "CHAT_MODEL"]) == 1  # ended at with-exit
    check(captured, "parent", reason="closed", incomplete=True)


def test_abandoned_then_garbage_collected(client: OpenAI, surface: Opener, captured: SpanCapture) -> None:
    with tracekit.start_span("parent"):
        manager = surface(client, scenario("text", chunks=20))
        stream = _enter(manager)
        _take(stream, 8)
        del stream, manager
        gc.collect()
    check(captured, "parent", reason="abandoned", incomplete=True)


def test_cut_off_without_done(client: OpenAI, surface: Opener, captured: SpanCapture) -> None:
    with tracekit.start_span("parent"):
        for _ in _enter(surface(client, scenario("cutoff"))):
            pass
    check(captured, "parent", reason="exhausted", incomplete=True)


def test_disconnect_mid_stream(client: OpenAI, surface: Opener, captured: SpanCapture) -> None:
    with tracekit.start_span("parent"), pytest.raises(openai.APIConnectionError):
        for _ in _enter(surface(client, scenario("disconnect"))):
            pass
    span = check(captured, "parent", reason="error", status="ERROR", incomplete=True)
    assert span.attributes[attr.ERROR_TYPE] == "APIConnectionError"
    assert [e["name"] for e in span.events] == [attr.FIRST_TOKEN_EVENT, "exception"]


@pytest.mark.parametrize("name", ["chat", "chat_helper"])
def test_chat_error_event_mid_stream(client: OpenAI, captured: SpanCapture, name: str) -> None:
    with tracekit.start_span("parent"), pytest.raises(openai.APIError, match="server had an error"):
        for _ in _enter(SURFACES[name](client, scenario("midstream_error"))):
            pass
    span = check(captured, "parent", reason="error", status="ERROR", incomplete=True)
    assert span.attributes[attr.ERROR_TYPE] == "APIError"


@pytest.mark.parametrize("name", ["responses", "responses_helper"])
def test_responses_failed_mid_stream(client: OpenAI, captured: SpanCapture, name: str) -> None:
    # The Responses API reports the failure as events (`error`, `response.failed`): the
    # SDK raises nothing, the span still says ERROR.
    with tracekit.start_span("parent"):
        events = [e.type for e in _enter(SURFACES[name](client, scenario("midstream_error")))]
    assert events[-1] == "response.failed"
    span = check(captured, "parent", reason="exhausted", status="ERROR", incomplete=False)
    assert span.attributes[attr.ERROR_TYPE] == "server_error"
    assert span.outputs["status"] == "failed"


# --- async ---------------------------------------------------------------------------


async def _aenter(obj: Any) -> Any:
    return await obj.__aenter__() if obj.__class__.__name__.endswith("StreamManager") else await obj


async def _atake(stream: Any, n: int) -> None:
    it = stream.__aiter__()
    for _ in range(n):
        await it.__anext__()


@pytest.fixture(params=list(SURFACES))
def asurface(request: pytest.FixtureRequest) -> Opener:
    return SURFACES[request.param]


async def test_async_exhausted(aclient: AsyncOpenAI, asurface: Opener, captured: SpanCapture) -> None:
    with tracekit.start_span("parent"):
        async for _ in await _aenter(asurface(aclient, {})):
            pass
    check(captured, "parent", reason="exhausted", full_text=True)


async def test_async_break_then_close(aclient: AsyncOpenAI, asurface: Opener, captured: SpanCapture) -> None:
    with tracekit.start_span("parent"):
        stream = await _aenter(asurface(aclient, scenario("text", chunks=20)))
        await _atake(stream, 8)
        await stream.close()
    check(captured, "parent", reason="closed", incomplete=True)


async def test_async_with_exit(aclient: AsyncOpenAI, asurface: Opener, captured: SpanCapture) -> None:
    with tracekit.start_span("parent"):
        opened = asurface(aclient, scenario("text", chunks=20))
        if not opened.__class__.__name__.endswith("StreamManager"):
            opened = await opened
        async with opened as stream:
            await _atake(stream, 8)
    check(captured, "parent", reason="closed", incomplete=True)


async def test_async_task_cancelled(aclient: AsyncOpenAI, asurface: Opener, captured: SpanCapture) -> None:
    started = asyncio.Event()

    async def consume() -> None:
        with tracekit.start_span("parent"):
            headers = {"x-fake-scenario": "text", "x-fake-chunks": "20", "x-fake-delay": "0.05"}
            stream = await _aenter(asurface(aclient, {"extra_headers": headers}))
            async for _ in stream:
                started.set()

    task = asyncio.create_task(consume())
    await started.wait()
    await asyncio.sleep(0.12)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    span = check(captured, "parent", reason="cancelled", status="ERROR", incomplete=True)
    assert span.attributes[attr.ERROR_TYPE] == "CancelledError"


async def test_async_abandoned_then_garbage_collected(aclient: AsyncOpenAI, asurface: Opener, captured: SpanCapture) -> None:
    with tracekit.start_span("parent"):
        manager = asurface(aclient, scenario("text", chunks=20))
        stream = await _aenter(manager)
        await _atake(stream, 8)
        del stream, manager
        gc.collect()
    check(captured, "parent", reason="abandoned", incomplete=True)
