"""messages.create, sync and async, streamed and not: whole spans."""

from __future__ import annotations

import base64
from typing import Any

import anthropic
import pytest
from anthropic.types import Message
from anthropic_spans import (
    MODEL,
    USER,
    WEATHER_TOOL,
    WEATHER_TOOL_OPENAI,
    attributes,
    chat_attributes,
    dump,
    error_attributes,
    exception_event,
    only_span,
    scenario,
)

import tracekit
from tracekit.testing import SpanCapture
from tracekit.testing._fakeserver import FakeLLMServer


def test_create_text(client: anthropic.Anthropic, server: FakeLLMServer, captured: SpanCapture) -> None:
    with tracekit.start_span("app") as parent:
        message = client.messages.create(model=MODEL, max_tokens=64, system="Be brief.", messages=USER, stop_sequences=["END"])
    assert isinstance(message, Message)
    assert message.content[0].type == "text"
    span = next(s for s in captured.spans if s.name == f"chat {MODEL}")
    assert span.span_type == "CHAT_MODEL"
    assert span.status == "OK"
    assert span.parent_id == parent.span_id
    assert span.events == []
    inputs = {"model": MODEL, "max_tokens": 64, "system": "Be brief.", "messages": USER, "stop_sequences": ["END"]}
    assert attributes(span) == chat_attributes(server, inputs=inputs, message=dump(message))
    assert len(server.requests) == 1
    assert "x-api-key" not in str(span.attributes) and "sk-test" not in str(span.attributes)


def test_create_tool_use(client: anthropic.Anthropic, server: FakeLLMServer, captured: SpanCapture) -> None:
    message = client.messages.create(
        model=MODEL,
        max_tokens=64,
        messages=USER,
        tools=[WEATHER_TOOL],
        tool_choice={"type": "any"},
        **scenario("tool_call"),
    )
    block = message.content[0]
    assert block.type == "tool_use" and set(block.input) == {"city", "unit"}
    inputs = {
        "model": MODEL,
        "max_tokens": 64,
        "messages": USER,
        "tools": [WEATHER_TOOL],
        "tool_choice": {"type": "any"},
    }
    expected = chat_attributes(server, inputs=inputs, message=dump(message), tools=[WEATHER_TOOL_OPENAI])
    assert attributes(only_span(captured)) == expected


@pytest.mark.asyncio
async def test_async_create(aclient: anthropic.AsyncAnthropic, server: FakeLLMServer, captured: SpanCapture) -> None:
    message = await aclient.messages.create(model=MODEL, max_tokens=64, messages=USER, **scenario("cached_usage"))
    assert message.usage.cache_read_input_tokens == 100
    span = only_span(captured)
    inputs = {"model": MODEL, "max_tokens": 64, "messages": USER}
    assert attributes(span) == chat_attributes(server, inputs=inputs, message=dump(message))
    usage = attributes(span)["mlflow.chat.tokenUsage"]
    # Anthropic's input_tokens leave out the cache; the recorded input is the whole prompt
    assert usage["input_tokens"] == message.usage.input_tokens + 100 + 50
    assert usage["cache_read_input_tokens"] == 100 and usage["cache_creation_input_tokens"] == 50


def test_create_stream(client: anthropic.Anthropic, server: FakeLLMServer, captured: SpanCapture) -> None:
    stream = client.messages.create(model=MODEL, max_tokens=64, messages=USER, stream=True)
    assert isinstance(stream, anthropic.Stream)
    events = list(stream)
    span = only_span(captured)
    final = client.messages.create(model=MODEL, max_tokens=64, messages=USER)  # the same answer, whole
    expected_message = {**dump(final), "id": "msg_fake_1"}
    inputs = {"model": MODEL, "max_tokens": 64, "messages": USER, "stream": True}
    assert attributes(span) == chat_attributes(server, inputs=inputs, message=expected_message, stream=True, chunks=len(events))
    assert [e["name"] for e in span.events] == ["gen_ai.first_token"]


@pytest.mark.asyncio
async def test_async_create_stream(aclient: anthropic.AsyncAnthropic, server: FakeLLMServer, captured: SpanCapture) -> None:
    stream = await aclient.messages.create(
        model=MODEL, max_tokens=64, messages=USER, tools=[WEATHER_TOOL], stream=True, **scenario("tool_calls_2")
    )
    assert isinstance(stream, anthropic.AsyncStream)
    events = [event async for event in stream]
    span = only_span(captured)
    outputs = attributes(span)["mlflow.spanOutputs"]
    assert [b["type"] for b in outputs["content"]] == ["tool_use", "tool_use"]
    assert all(set(b["input"]) == {"city", "unit"} for b in outputs["content"])
    inputs = {"model": MODEL, "max_tokens": 64, "messages": USER, "tools": [WEATHER_TOOL], "stream": True}
    assert attributes(span) == chat_attributes(
        server, inputs=inputs, message=outputs, tools=[WEATHER_TOOL_OPENAI], stream=True, chunks=len(events)
    )
    assert outputs["stop_reason"] == "tool_use"


def test_content_blocks_recorded(client: anthropic.Anthropic, captured: SpanCapture) -> None:
    image = base64.b64encode(bytes(range(256)) * 8).decode()
    messages: list[dict[str, Any]] = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is in this picture?"},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": image}},
            ],
        },
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "Let me look.", "signature": "sig"},
                {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Oslo", "unit": "c"}},
            ],
        },
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "4 C"}]},
    ]
    client.messages.create(model=MODEL, max_tokens=64, messages=messages, tools=[WEATHER_TOOL])
    recorded = attributes(only_span(captured))["mlflow.spanInputs"]["messages"]
    assert recorded[0]["content"][1]["source"]["data"] == "<base64 image/png, 2048 bytes>"  # the block's media_type
    assert recorded[1:] == messages[1:]
    assert image not in str(only_span(captured).attributes)


def test_parameters_from_extra_body(client: anthropic.Anthropic, server: FakeLLMServer, captured: SpanCapture) -> None:
    # anthropic 2.12.0 dropped temperature/top_p/top_k keyword arguments: they travel in extra_body
    message = client.messages.create(
        model=MODEL, max_tokens=32, messages=USER, extra_body={"temperature": 0.2, "top_p": 0.9, "top_k": 5}
    )
    assert server.last_request is not None and server.last_request.json["temperature"] == 0.2
    inputs = {"model": MODEL, "max_tokens": 32, "messages": USER, "temperature": 0.2, "top_p": 0.9, "top_k": 5}
    assert attributes(only_span(captured)) == chat_attributes(server, inputs=inputs, message=dump(message))


def test_one_shot_iterator_is_not_consumed(client: anthropic.Anthropic, server: FakeLLMServer, captured: SpanCapture) -> None:
    client.messages.create(model=MODEL, max_tokens=32, messages=iter(USER))
    assert server.last_request is not None and server.last_request.json["messages"] == USER
    recorded = attributes(only_span(captured))["mlflow.spanInputs"]["messages"]
    assert recorded == "<iterator: not recorded, it can be read only once>"


@pytest.mark.parametrize(
    ("name", "status", "error"),
    [
        ("error_400", 400, anthropic.BadRequestError),
        ("error_429", 429, anthropic.RateLimitError),
        ("error_529", 529, anthropic.OverloadedError),
    ],
)
def test_create_error(
    client: anthropic.Anthropic, server: FakeLLMServer, captured: SpanCapture, name: str, status: int, error: type
) -> None:
    with pytest.raises(error) as info:
        client.messages.create(model=MODEL, max_tokens=32, messages=USER, **scenario(name))
    span = only_span(captured)
    assert span.status == "ERROR"
    inputs = {"model": MODEL, "max_tokens": 32, "messages": USER}
    assert attributes(span) == error_attributes(server, inputs=inputs, status=status, error_type=error.__qualname__)
    event = exception_event(span)
    assert event["exception.type"].endswith(error.__name__)
    assert event["exception.message"] == str(info.value)
    assert len(server.requests) == 1


@pytest.mark.asyncio
async def test_async_stream_error_before_first_event(
    aclient: anthropic.AsyncAnthropic, server: FakeLLMServer, captured: SpanCapture
) -> None:
    with pytest.raises(anthropic.OverloadedError):
        await aclient.messages.create(model=MODEL, max_tokens=32, messages=USER, stream=True, **scenario("error_529"))
    inputs = {"model": MODEL, "max_tokens": 32, "messages": USER, "stream": True}
    expected = error_attributes(server, inputs=inputs, status=529, error_type="OverloadedError", stream=True)
    assert attributes(only_span(captured)) == expected


def test_count_tokens_is_not_an_llm_span(client: anthropic.Anthropic, captured: SpanCapture) -> None:
    assert client.messages.count_tokens(model=MODEL, messages=USER).input_tokens > 0
    assert captured.spans == []
