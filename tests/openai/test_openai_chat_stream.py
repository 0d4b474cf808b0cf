"""chat.completions streamed: create(stream=True), the stream() helper, raw forms."""

from __future__ import annotations

from typing import Any

import openai
from openai import AsyncOpenAI, OpenAI
from openai.lib.streaming.chat import ChatCompletionStream, ChatCompletionStreamManager
from openai_helpers import (
    MESSAGES,
    MODEL,
    TEXT,
    TOOLS,
    attrs,
    base_attrs,
    only_span,
    scenario,
    stream_attrs,
    usage_attrs,
    without_timing,
)

from tracekit import _attributes as attr
from tracekit._model import SpanData
from tracekit.testing import SpanCapture
from tracekit.testing._fakeserver import FakeLLMServer

INCLUDE_USAGE = {"include_usage": True}


def expected(
    server: FakeLLMServer, chunks: int, *, usage: Any = None, finish: str = "stop", response_id: str, **extra: Any
) -> dict[str, Any]:
    values = base_attrs(server) | stream_attrs(chunks)
    values[attr.GEN_AI_OUTPUT_TYPE] = "text"
    values[attr.GEN_AI_RESPONSE_ID] = response_id
    values[attr.GEN_AI_FINISH_REASONS] = [finish]
    if usage is not None:
        values.update(usage_attrs(usage["prompt_tokens"], usage["completion_tokens"]))
    values.update(extra)
    return values


def assert_ttft(span: SpanData) -> None:
    ttft = span.attributes[attr.STREAM_TTFT_MS]
    assert 0 < ttft < 10_000
    [event] = [e for e in span.events if e["name"] == attr.FIRST_TOKEN_EVENT]
    assert event["attributes"]["time_to_first_token_ms"] == ttft


def test_create_stream_text(client: OpenAI, server: FakeLLMServer, captured: SpanCapture) -> None:
    stream = client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True, stream_options=INCLUDE_USAGE)
    assert isinstance(stream, openai.Stream)
    chunks = list(stream)

    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == TEXT
    span = only_span(captured)
    assert span.inputs == {"model": MODEL, "messages": MESSAGES, "stream": True, "stream_options": INCLUDE_USAGE}
    usage = chunks[-1].usage.to_dict()
    assert span.outputs == {
        "id": chunks[0].id,
        "object": "chat.completion",
        "created": chunks[0].created,
        "model": MODEL,
        "system_fingerprint": "fp_fake",
        "service_tier": "default",
        "usage": usage,
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "logprobs": None,
                "message": {"role": "assistant", "content": TEXT, "refusal": None},
            }
        ],
    }
    assert without_timing(attrs(span)) == expected(server, len(chunks), usage=usage, response_id=chunks[0].id)
    assert_ttft(span)


def test_create_stream_tool_calls_with_statement(client: OpenAI, server: FakeLLMServer, captured: SpanCapture) -> None:
    with client.chat.completions.create(
        model=MODEL, messages=MESSAGES, tools=TOOLS, stream=True, **scenario("tool_calls_2")
    ) as stream:
        chunks = list(stream)

    span = only_span(captured)
    calls = span.outputs["choices"][0]["message"]["tool_calls"]
    assert [c["function"]["name"] for c in calls] == ["get_weather", "get_weather"]
    assert [c["id"] for c in calls] == [f"call_fake_1_{i}" for i in range(2)]
    assert all(c["function"]["arguments"] == '{"location":"text"}' for c in calls)
    assert without_timing(attrs(span)) == expected(
        server, len(chunks), finish="tool_calls", response_id=chunks[0].id, **{attr.CHAT_TOOLS: TOOLS}
    )


async def test_async_create_stream(aclient: AsyncOpenAI, server: FakeLLMServer, captured: SpanCapture) -> None:
    stream = await aclient.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True, stream_options=INCLUDE_USAGE)
    assert isinstance(stream, openai.AsyncStream)
    chunks = [c async for c in stream]

    span = only_span(captured)
    assert span.outputs["choices"][0]["message"]["content"] == TEXT
    usage = chunks[-1].usage.to_dict()
    assert without_timing(attrs(span)) == expected(server, len(chunks), usage=usage, response_id=chunks[0].id)
    assert_ttft(span)


def test_stream_helper_events_and_final_completion(client: OpenAI, server: FakeLLMServer, captured: SpanCapture) -> None:
    manager = client.chat.completions.stream(model=MODEL, messages=MESSAGES, tools=TOOLS, stream_options=INCLUDE_USAGE)
    assert isinstance(manager, ChatCompletionStreamManager)
    with manager as stream:
        assert isinstance(stream, ChatCompletionStream)
        deltas = [e.delta for e in stream if e.type == "content.delta"]
        final = stream.get_final_completion()

    assert "".join(deltas) == TEXT == final.choices[0].message.content
    assert len(server.requests) == 1
    span = only_span(captured)
    assert span.inputs == {"model": MODEL, "messages": MESSAGES, "tools": TOOLS, "stream_options": INCLUDE_USAGE}
    assert span.outputs["choices"][0]["message"] == {"role": "assistant", "content": TEXT, "refusal": None}
    assert span.outputs["usage"] == final.usage.to_dict()
    values = without_timing(attrs(span))
    assert values[attr.STREAM_CHUNKS] > 0
    chunks = values[attr.STREAM_CHUNKS]
    assert values == expected(server, chunks, usage=final.usage.to_dict(), response_id=final.id, **{attr.CHAT_TOOLS: TOOLS})


def test_stream_helper_get_final_completion_alone(client: OpenAI, captured: SpanCapture) -> None:
    with client.chat.completions.stream(model=MODEL, messages=MESSAGES) as stream:
        final = stream.get_final_completion()
        assert stream.until_done() is stream

    span = only_span(captured)
    assert span.attributes[attr.STREAM_END_REASON] == "exhausted"
    assert span.outputs["choices"][0]["message"]["content"] == final.choices[0].message.content == TEXT


async def test_async_stream_helper(aclient: AsyncOpenAI, server: FakeLLMServer, captured: SpanCapture) -> None:
    async with aclient.chat.completions.stream(model=MODEL, messages=MESSAGES, tools=TOOLS, **scenario("tool_call")) as stream:
        events = [e.type async for e in stream]
        final = await stream.get_final_completion()

    assert "tool_calls.function.arguments.done" in events
    assert len(server.requests) == 1
    span = only_span(captured)
    call = final.choices[0].message.tool_calls[0]
    assert span.outputs["choices"][0]["message"]["tool_calls"] == [
        {"id": call.id, "type": "function", "function": {"name": "get_weather", "arguments": call.function.arguments}}
    ]
    assert span.attributes[attr.STREAM_END_REASON] == "exhausted"
    assert span.attributes[attr.GEN_AI_FINISH_REASONS] == ["tool_calls"]


def test_stream_helper_http_error(client: OpenAI, server: FakeLLMServer, captured: SpanCapture) -> None:
    try:
        with client.chat.completions.stream(model=MODEL, messages=MESSAGES, **scenario("error_429")):
            raise AssertionError("not reached")
    except openai.RateLimitError:
        pass

    span = only_span(captured)
    assert span.status == "ERROR"
    assert (span.attributes[attr.HTTP_STATUS_CODE], span.attributes[attr.ERROR_TYPE]) == (429, "RateLimitError")
    assert [e["name"] for e in span.events] == ["exception"]
    # the request failed at __enter__: a failed call, as create(stream=True) failing is
    # (and as anthropic's messages.stream() is): no stream existed, so no stream bookkeeping
    assert not [key for key in span.attributes if key.startswith("tracekit.stream.")]
    assert len(server.requests) == 1


def test_with_raw_response_stream(client: OpenAI, server: FakeLLMServer, captured: SpanCapture) -> None:
    raw = client.chat.completions.with_raw_response.create(model=MODEL, messages=MESSAGES, stream=True)
    assert raw.headers["x-request-id"]
    stream = raw.parse()
    assert isinstance(stream, openai.Stream)
    assert raw.parse() is stream
    del raw  # the stream carries the call on
    assert captured.spans == []
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)

    assert text == TEXT
    span = only_span(captured)
    assert span.outputs["choices"][0]["message"]["content"] == TEXT
    assert span.attributes[attr.STREAM_END_REASON] == "exhausted"


async def test_async_with_streaming_response_stream(aclient: AsyncOpenAI, captured: SpanCapture) -> None:
    async with aclient.chat.completions.with_streaming_response.create(model=MODEL, messages=MESSAGES, stream=True) as raw:
        stream = await raw.parse()
        assert isinstance(stream, openai.AsyncStream)
        text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])

    assert text == TEXT
    span = only_span(captured)
    assert span.outputs["choices"][0]["message"]["content"] == TEXT
    assert span.attributes[attr.STREAM_END_REASON] == "exhausted"


def test_empty_stream(client: OpenAI, server: FakeLLMServer, captured: SpanCapture) -> None:
    chunks = list(client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True, **scenario("empty_stream")))

    assert chunks == []
    span = only_span(captured)
    assert (span.status, span.outputs) == ("OK", None)
    values = attrs(span)
    assert (values[attr.STREAM_CHUNKS], values[attr.STREAM_END_REASON]) == (0, "exhausted")
    assert attr.STREAM_TTFT_MS not in values
