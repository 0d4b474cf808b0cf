"""messages.stream(): one span per helper, however the app reads it (events,
text_stream, get_final_message(), get_final_text()), sync and async."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anthropic
import pytest
from anthropic.lib.streaming import AsyncMessageStream, MessageStream
from anthropic_spans import (
    MODEL,
    USER,
    WEATHER_TOOL,
    WEATHER_TOOL_OPENAI,
    attributes,
    chat_attributes,
    dump,
    error_attributes,
    only_span,
    scenario,
)

import tracekit
from tracekit.testing import SpanCapture
from tracekit.testing._fakeserver import FakeLLMServer

INPUTS = {"model": MODEL, "max_tokens": 64, "messages": USER}


def wire_events(client: anthropic.Anthropic, captured: SpanCapture, **kwargs: Any) -> int:
    """How many events the same request streams through create(stream=True)."""
    count = len(list(client.messages.create(**INPUTS, stream=True, **kwargs)))
    captured.clear()
    return count


def _events(stream: Any) -> Any:
    return [event for event in stream]


def _text(stream: Any) -> Any:
    return "".join(stream.text_stream)


def _final_message(stream: Any) -> Any:
    return stream.get_final_message()


def _final_text(stream: Any) -> Any:
    return stream.get_final_text()


@pytest.mark.parametrize("read", [_events, _text, _final_message, _final_text], ids=lambda f: f.__name__)
def test_stream_helper(
    client: anthropic.Anthropic, server: FakeLLMServer, captured: SpanCapture, read: Callable[[Any], Any]
) -> None:
    with tracekit.start_span("app") as parent, client.messages.stream(**INPUTS) as stream:
        assert isinstance(stream, MessageStream)
        read(stream)
        assert len(captured.spans) == 0 or captured.spans[0].name == f"chat {MODEL}"  # ended with the stream
        final = stream.get_final_message()
    assert stream.get_final_text() == "Hello! This is the fake LLM server."
    assert len(server.requests) == 1
    spans = [s for s in captured.spans if s.name != "app"]
    assert len(spans) == 1
    span = spans[0]
    assert span.parent_id == parent.span_id and span.status == "OK"
    expected = chat_attributes(server, inputs=INPUTS, message=dump(final), stream=True, chunks=wire_events(client, captured))
    assert attributes(span) == expected


def test_stream_helper_tool_use(client: anthropic.Anthropic, server: FakeLLMServer, captured: SpanCapture) -> None:
    with client.messages.stream(**INPUTS, tools=[WEATHER_TOOL], **scenario("tool_call")) as stream:
        kinds = {event.type for event in stream}
        final = stream.get_final_message()
    assert "input_json" in kinds
    assert final.content[0].type == "tool_use" and set(final.content[0].input) == {"city", "unit"}
    span = only_span(captured)
    chunks = wire_events(client, captured, tools=[WEATHER_TOOL], **scenario("tool_call"))
    inputs = {**INPUTS, "tools": [WEATHER_TOOL]}
    assert attributes(span) == chat_attributes(
        server, inputs=inputs, message=dump(final), tools=[WEATHER_TOOL_OPENAI], stream=True, chunks=chunks
    )


def test_stream_helper_error_at_enter(client: anthropic.Anthropic, server: FakeLLMServer, captured: SpanCapture) -> None:
    with pytest.raises(anthropic.OverloadedError), client.messages.stream(**INPUTS, **scenario("error_529")):
        pytest.fail("the request failed; the body must not run")
    span = only_span(captured)
    assert span.status == "ERROR"
    assert attributes(span) == error_attributes(server, inputs=INPUTS, status=529, error_type="OverloadedError", stream=True)
    assert len(server.requests) == 1


def test_manager_never_entered_sends_nothing(client: anthropic.Anthropic, server: FakeLLMServer, captured: SpanCapture) -> None:
    manager = client.messages.stream(**INPUTS)
    assert isinstance(manager, anthropic.lib.streaming.MessageStreamManager)
    del manager
    assert server.requests == []
    span = only_span(captured)  # ended when the manager was collected
    assert attributes(span)["tracekit.stream.end_reason"] == "abandoned"


async def _aevents(stream: Any) -> Any:
    return [event async for event in stream]


async def _atext(stream: Any) -> Any:
    return "".join([text async for text in stream.text_stream])


async def _afinal_message(stream: Any) -> Any:
    return await stream.get_final_message()


async def _afinal_text(stream: Any) -> Any:
    return await stream.get_final_text()


@pytest.mark.asyncio
@pytest.mark.parametrize("read", [_aevents, _atext, _afinal_message, _afinal_text], ids=lambda f: f.__name__)
async def test_async_stream_helper(
    aclient: anthropic.AsyncAnthropic, server: FakeLLMServer, captured: SpanCapture, read: Any
) -> None:
    async with aclient.messages.stream(**INPUTS) as stream:
        assert isinstance(stream, AsyncMessageStream)
        await read(stream)
        final = await stream.get_final_message()
    assert len(server.requests) == 1
    span = only_span(captured)
    # the helper streamed 25 wire events: start, block start, 20 deltas, block stop, delta, stop
    expected = chat_attributes(server, inputs=INPUTS, message=dump(final), stream=True, chunks=25)
    assert attributes(span) == expected


@pytest.mark.asyncio
async def test_async_stream_helper_error_at_enter(
    aclient: anthropic.AsyncAnthropic, server: FakeLLMServer, captured: SpanCapture
) -> None:
    with pytest.raises(anthropic.BadRequestError):
        async with aclient.messages.stream(**INPUTS, **scenario("error_400")):
            pytest.fail("the request failed; the body must not run")
    assert attributes(only_span(captured)) == error_attributes(
        server, inputs=INPUTS, status=400, error_type="BadRequestError", stream=True
    )
