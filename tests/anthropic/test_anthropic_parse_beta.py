"""messages.parse and beta.messages.{create, stream, parse}, sync and async."""

from __future__ import annotations

from typing import Any

import anthropic
import pydantic
import pytest
from anthropic_spans import MODEL, USER, WEATHER_TOOL, WEATHER_TOOL_OPENAI, attributes, chat_attributes, dump, only_span

from tracekit.testing import SpanCapture
from tracekit.testing._fakeserver import FakeLLMServer

INPUTS: dict[str, Any] = {"model": MODEL, "max_tokens": 64, "messages": USER}


class Weather(pydantic.BaseModel):
    city: str
    celsius: int


def _format_input() -> dict[str, Any]:
    return {"type": f"{__name__}.Weather", "schema": Weather.model_json_schema()}


def test_parse(client: anthropic.Anthropic, server: FakeLLMServer, captured: SpanCapture) -> None:
    message = client.messages.parse(**INPUTS, output_format=Weather)
    assert isinstance(message.parsed_output, Weather)
    assert server.last_request is not None and "output_config" in server.last_request.json
    inputs = {**INPUTS, "output_format": _format_input()}
    assert attributes(only_span(captured)) == chat_attributes(server, inputs=inputs, message=dump(message))


@pytest.mark.asyncio
async def test_async_parse(aclient: anthropic.AsyncAnthropic, server: FakeLLMServer, captured: SpanCapture) -> None:
    message = await aclient.messages.parse(**INPUTS, output_format=Weather)
    assert isinstance(message.parsed_output, Weather)
    inputs = {**INPUTS, "output_format": _format_input()}
    assert attributes(only_span(captured)) == chat_attributes(server, inputs=inputs, message=dump(message))


def test_stream_helper_with_output_format(client: anthropic.Anthropic, server: FakeLLMServer, captured: SpanCapture) -> None:
    with client.messages.stream(**INPUTS, output_format=Weather) as stream:
        final = stream.get_final_message()
    assert isinstance(final.parsed_output, Weather)
    values = attributes(only_span(captured))
    assert values["mlflow.spanInputs"]["output_format"] == _format_input()
    assert values["mlflow.spanOutputs"] == dump(final)


def test_beta_create_and_stream(client: anthropic.Anthropic, server: FakeLLMServer, captured: SpanCapture) -> None:
    betas = ["token-efficient-tools-2025-02-19"]
    message = client.beta.messages.create(**INPUTS, tools=[WEATHER_TOOL], betas=betas)
    assert isinstance(message, anthropic.types.beta.BetaMessage)
    inputs = {**INPUTS, "tools": [WEATHER_TOOL], "betas": betas}
    expected = chat_attributes(server, inputs=inputs, message=dump(message), tools=[WEATHER_TOOL_OPENAI])
    assert attributes(only_span(captured)) == expected
    captured.clear()

    with client.beta.messages.stream(**INPUTS, betas=betas) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == "Hello! This is the fake LLM server."
    values = attributes(only_span(captured))
    assert values["mlflow.spanOutputs"] == dump(final)
    assert values["tracekit.stream.end_reason"] == "exhausted"
    captured.clear()

    events = list(
        client.beta.messages.create(**INPUTS, stream=True, extra_headers={"x-fake-scenario": "tool_call"}, tools=[WEATHER_TOOL])
    )
    values = attributes(only_span(captured))
    assert values["tracekit.stream.chunks"] == len(events)
    block = values["mlflow.spanOutputs"]["content"][0]
    assert block["type"] == "tool_use" and set(block["input"]) == {"city", "unit"}


def test_beta_parse(client: anthropic.Anthropic, server: FakeLLMServer, captured: SpanCapture) -> None:
    message = client.beta.messages.parse(**INPUTS, output_format=Weather)
    assert isinstance(message.parsed_output, Weather)
    values = attributes(only_span(captured))
    assert values["mlflow.spanOutputs"] == dump(message)


@pytest.mark.asyncio
async def test_async_beta(aclient: anthropic.AsyncAnthropic, server: FakeLLMServer, captured: SpanCapture) -> None:
    message = await aclient.beta.messages.create(**INPUTS)
    assert attributes(only_span(captured)) == chat_attributes(server, inputs=INPUTS, message=dump(message))
    captured.clear()
    async with aclient.beta.messages.stream(**INPUTS) as stream:
        final = await stream.get_final_message()
    assert attributes(only_span(captured)) == chat_attributes(server, inputs=INPUTS, message=dump(final), stream=True, chunks=25)
    captured.clear()
    parsed = await aclient.beta.messages.parse(**INPUTS, output_format=Weather)
    assert isinstance(parsed.parsed_output, Weather)
    assert len(captured.spans) == 1
    assert len(server.requests) == 3
