"""responses.create / parse / stream(): the whole span, sync and async."""

from __future__ import annotations

from typing import Any

from openai import AsyncOpenAI, OpenAI
from openai.lib.streaming.responses import ResponseStream
from openai_helpers import MODEL, TEXT, attrs, base_attrs, only_span, scenario, stream_attrs, usage_attrs, without_timing
from pydantic import BaseModel

from tracekit import _attributes as attr
from tracekit.testing import SpanCapture
from tracekit.testing._fakeserver import FakeLLMServer

RESPONSES_TOOLS = [
    {
        "type": "function",
        "name": "get_weather",
        "description": "Weather of a city",
        "strict": True,
        "parameters": {
            "type": "object",
            "properties": {"location": {"type": "string"}},
            "required": ["location"],
            "additionalProperties": False,
        },
    },
]
AS_CHAT_TOOLS = [
    {"type": "function", "function": {k: v for k, v in RESPONSES_TOOLS[0].items() if k != "type"}},
]


def responses_attrs(server: FakeLLMServer, result: Any, finish: str = "stop", **extra: Any) -> dict[str, Any]:
    usage = result.usage
    values = base_attrs(server)
    values.update(usage_attrs(usage.input_tokens, usage.output_tokens))
    values.update({attr.GEN_AI_OUTPUT_TYPE: "text", attr.GEN_AI_RESPONSE_ID: result.id, attr.GEN_AI_FINISH_REASONS: [finish]})
    values.update(extra)
    return values


def test_create(client: OpenAI, server: FakeLLMServer, captured: SpanCapture) -> None:
    result = client.responses.create(
        model=MODEL, input="Hi there", instructions="Be brief", temperature=0.3, max_output_tokens=64
    )

    assert result.output_text == TEXT
    span = only_span(captured)
    assert (span.name, span.span_type, span.status) == ("chat gpt-4o-mini", "CHAT_MODEL", "OK")
    assert span.inputs == {
        "model": MODEL,
        "input": "Hi there",
        "instructions": "Be brief",
        "temperature": 0.3,
        "max_output_tokens": 64,
    }
    assert span.outputs == result.to_dict(mode="json")
    assert attrs(span) == responses_attrs(
        server, result, **{attr.GEN_AI_REQUEST_TEMPERATURE: 0.3, attr.GEN_AI_REQUEST_MAX_TOKENS: 64}
    )


async def test_async_create_tool_call(aclient: AsyncOpenAI, server: FakeLLMServer, captured: SpanCapture) -> None:
    result = await aclient.responses.create(model=MODEL, input="weather?", tools=RESPONSES_TOOLS, **scenario("tool_call"))

    assert result.output[0].type == "function_call"
    span = only_span(captured)
    assert span.outputs == result.to_dict(mode="json")
    assert attrs(span) == responses_attrs(server, result, "tool_calls", **{attr.CHAT_TOOLS: AS_CHAT_TOOLS})


def test_reasoning_usage(client: OpenAI, server: FakeLLMServer, captured: SpanCapture) -> None:
    result = client.responses.create(model=MODEL, input="think", **scenario("reasoning"))

    span = only_span(captured)
    assert span.outputs["output"][0]["type"] == "reasoning"
    assert attrs(span) == responses_attrs(server, result) | usage_attrs(
        result.usage.input_tokens, result.usage.output_tokens, reasoning_tokens=10
    )


class Answer(BaseModel):
    message: str


def test_parse(client: OpenAI, server: FakeLLMServer, captured: SpanCapture) -> None:
    result = client.responses.parse(model=MODEL, input="json please", text_format=Answer)

    assert isinstance(result.output_parsed, Answer)
    span = only_span(captured)
    assert span.inputs["text_format"]["type"] == "json_schema"
    assert span.inputs["text_format"]["name"] == "Answer"
    assert span.outputs == result.to_dict(mode="json", warnings=False)
    assert attrs(span) == responses_attrs(server, result, **{attr.GEN_AI_OUTPUT_TYPE: "json"})


def test_create_stream(client: OpenAI, server: FakeLLMServer, captured: SpanCapture) -> None:
    events = list(client.responses.create(model=MODEL, input="Hi there", stream=True))

    final = events[-1].response
    span = only_span(captured)
    assert span.inputs == {"model": MODEL, "input": "Hi there", "stream": True}
    assert span.outputs == final.to_dict(mode="json")
    assert without_timing(attrs(span)) == responses_attrs(server, final) | stream_attrs(len(events))


def test_stream_helper(client: OpenAI, server: FakeLLMServer, captured: SpanCapture) -> None:
    with client.responses.stream(model=MODEL, input="weather?", tools=RESPONSES_TOOLS, **scenario("tool_call")) as stream:
        assert isinstance(stream, ResponseStream)
        final = stream.get_final_response()

    assert len(server.requests) == 1
    span = only_span(captured)
    assert span.inputs == {"model": MODEL, "input": "weather?", "tools": RESPONSES_TOOLS}
    assert span.outputs == final.to_dict(mode="json", warnings=False)
    chunks = span.attributes[attr.STREAM_CHUNKS]
    assert without_timing(attrs(span)) == responses_attrs(
        server, final, "tool_calls", **{attr.CHAT_TOOLS: AS_CHAT_TOOLS}
    ) | stream_attrs(chunks)


async def test_async_stream_helper_text_format(aclient: AsyncOpenAI, server: FakeLLMServer, captured: SpanCapture) -> None:
    async with aclient.responses.stream(model=MODEL, input="json please", text_format=Answer) as stream:
        deltas = [e.delta async for e in stream if e.type == "response.output_text.delta"]
        final = await stream.get_final_response()

    assert isinstance(final.output_parsed, Answer)
    assert "".join(deltas) == final.output_text
    span = only_span(captured)
    assert span.inputs["text_format"]["name"] == "Answer"
    assert span.outputs == final.to_dict(mode="json", warnings=False)
    assert attrs(span)[attr.GEN_AI_OUTPUT_TYPE] == "json"


def test_with_streaming_response(client: OpenAI, server: FakeLLMServer, captured: SpanCapture) -> None:
    with client.responses.with_streaming_response.create(model=MODEL, input="hi") as raw:
        result = raw.parse()

    span = only_span(captured)
    assert span.outputs == result.to_dict(mode="json")
    assert attrs(span) == responses_attrs(server, result)
