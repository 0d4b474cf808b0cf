"""with_raw_response / with_streaming_response: the app gets the SDK's APIResponse;
the span still holds the Message, streamed or not."""

from __future__ import annotations

from typing import Any

import anthropic
import pytest
from anthropic._response import APIResponse, AsyncAPIResponse
from anthropic_spans import MODEL, USER, attributes, chat_attributes, dump, only_span

from tracekit.testing import SpanCapture
from tracekit.testing._fakeserver import FakeLLMServer

INPUTS: dict[str, Any] = {"model": MODEL, "max_tokens": 64, "messages": USER}


def test_raw_response(client: anthropic.Anthropic, server: FakeLLMServer, captured: SpanCapture) -> None:
    raw = client.messages.with_raw_response.create(**INPUTS)
    assert isinstance(raw, APIResponse) and raw.request_id == "req_fake_1"
    span = only_span(captured)  # ended at return: the body was already read
    message = raw.parse()
    assert attributes(span) == chat_attributes(server, inputs=INPUTS, message=dump(message))


def test_raw_response_stream(client: anthropic.Anthropic, server: FakeLLMServer, captured: SpanCapture) -> None:
    raw = client.messages.with_raw_response.create(**INPUTS, stream=True)
    assert isinstance(raw, APIResponse)
    assert captured.spans == []
    stream = raw.parse()
    assert isinstance(stream, anthropic.Stream) and raw.parse() is stream
    events = list(stream)
    span = only_span(captured)
    final = client.messages.create(**INPUTS)
    expected = chat_attributes(
        server,
        inputs={**INPUTS, "stream": True},
        message={**dump(final), "id": "msg_fake_1"},
        stream=True,
        chunks=len(events),
    )
    assert attributes(span) == expected


def test_streaming_response(client: anthropic.Anthropic, server: FakeLLMServer, captured: SpanCapture) -> None:
    with client.messages.with_streaming_response.create(**INPUTS) as response:
        assert captured.spans == []  # the body is not read yet
        message = response.parse()
    values = attributes(only_span(captured))
    assert values["mlflow.spanOutputs"] == dump(message)
    assert values["gen_ai.response.finish_reasons"] == ["end_turn"]


def test_streaming_response_closed_unread(client: anthropic.Anthropic, captured: SpanCapture) -> None:
    with client.messages.with_streaming_response.create(**INPUTS):
        pass
    span = only_span(captured)
    values = attributes(span)
    # a non-streamed call closed unread ends as a call that returned nothing, as openai's
    # does: no stream bookkeeping for a call that streamed nothing
    assert "mlflow.spanOutputs" not in values and not any(key.startswith("tracekit.stream") for key in values)
    assert span.status == "OK"


@pytest.mark.asyncio
async def test_async_raw_response(aclient: anthropic.AsyncAnthropic, server: FakeLLMServer, captured: SpanCapture) -> None:
    raw = await aclient.messages.with_raw_response.create(**INPUTS)
    assert isinstance(raw, AsyncAPIResponse)
    message = await raw.parse()
    assert attributes(only_span(captured)) == chat_attributes(server, inputs=INPUTS, message=dump(message))
    captured.clear()

    raw = await aclient.messages.with_raw_response.create(**INPUTS, stream=True)
    stream = await raw.parse()
    assert isinstance(stream, anthropic.AsyncStream)
    events = [event async for event in stream]
    values = attributes(only_span(captured))
    assert values["tracekit.stream.chunks"] == len(events)
    assert values["mlflow.spanOutputs"]["content"] == dump(message)["content"]
    captured.clear()

    async with aclient.beta.messages.with_streaming_response.create(**INPUTS) as response:
        beta_message = await response.parse()
    assert attributes(only_span(captured))["mlflow.spanOutputs"] == dump(beta_message)
