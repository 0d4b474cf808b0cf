"""chat.completions.create / parse, not streamed: the whole span, sync and async."""

from __future__ import annotations

from typing import Any

import openai
import pytest
from openai import AsyncOpenAI, AzureOpenAI, OpenAI
from openai_helpers import MESSAGES, MODEL, TEXT, TOOLS, attrs, base_attrs, only_span, scenario, usage_attrs
from pydantic import BaseModel

from tracekit import _attributes as attr
from tracekit.testing import SpanCapture
from tracekit.testing._fakeserver import FakeLLMServer


def chat_attrs(server: FakeLLMServer, result: Any, **extra: Any) -> dict[str, Any]:
    usage = result.usage
    values = base_attrs(server)
    values.update(usage_attrs(usage.prompt_tokens, usage.completion_tokens))
    values.update(
        {
            attr.GEN_AI_OUTPUT_TYPE: "text",
            attr.GEN_AI_RESPONSE_ID: result.id,
            attr.GEN_AI_FINISH_REASONS: [c.finish_reason for c in result.choices],
        }
    )
    values.update(extra)
    return values


def test_create_text(client: OpenAI, server: FakeLLMServer, captured: SpanCapture) -> None:
    result = client.chat.completions.create(
        model=MODEL,
        messages=MESSAGES,
        temperature=0.2,
        top_p=0.9,
        max_tokens=50,
        stop="END",
        seed=7,
        frequency_penalty=0.1,
        presence_penalty=0.2,
        n=1,
        user=openai.omit,
        timeout=30,
    )

    assert result.choices[0].message.content == TEXT
    span = only_span(captured)
    assert (span.name, span.span_type, span.status, span.parent_id) == ("chat gpt-4o-mini", "CHAT_MODEL", "OK", None)
    assert span.inputs == {
        "model": MODEL,
        "messages": MESSAGES,
        "temperature": 0.2,
        "top_p": 0.9,
        "max_tokens": 50,
        "stop": "END",
        "seed": 7,
        "frequency_penalty": 0.1,
        "presence_penalty": 0.2,
        "n": 1,
    }
    assert span.outputs == result.to_dict(mode="json")
    assert attrs(span) == chat_attrs(
        server,
        result,
        **{
            attr.GEN_AI_REQUEST_TEMPERATURE: 0.2,
            attr.GEN_AI_REQUEST_TOP_P: 0.9,
            attr.GEN_AI_REQUEST_MAX_TOKENS: 50,
            attr.GEN_AI_REQUEST_STOP: ["END"],
            attr.GEN_AI_REQUEST_SEED: 7,
            attr.GEN_AI_REQUEST_FREQUENCY_PENALTY: 0.1,
            attr.GEN_AI_REQUEST_PRESENCE_PENALTY: 0.2,
            attr.GEN_AI_REQUEST_CHOICE_COUNT: 1,
        },
    )
    assert span.events == []
    assert len(server.requests) == 1


def test_create_tool_call(client: OpenAI, server: FakeLLMServer, captured: SpanCapture) -> None:
    result = client.chat.completions.create(
        model=MODEL, messages=MESSAGES, tools=TOOLS, tool_choice="auto", **scenario("tool_call")
    )

    call = result.choices[0].message.tool_calls[0]
    assert call.function.name == "get_weather"
    span = only_span(captured)
    assert span.inputs == {"model": MODEL, "messages": MESSAGES, "tools": TOOLS, "tool_choice": "auto"}
    assert span.outputs == result.to_dict(mode="json")
    assert span.outputs["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"] == call.function.arguments
    assert attrs(span) == chat_attrs(server, result, **{attr.CHAT_TOOLS: TOOLS})
    assert attrs(span)[attr.GEN_AI_FINISH_REASONS] == ["tool_calls"]


async def test_async_create(aclient: AsyncOpenAI, server: FakeLLMServer, captured: SpanCapture) -> None:
    result = await aclient.chat.completions.create(model=MODEL, messages=MESSAGES, tools=TOOLS, **scenario("tool_calls_2"))

    assert len(result.choices[0].message.tool_calls) == 2
    span = only_span(captured)
    assert (span.name, span.status) == ("chat gpt-4o-mini", "OK")
    assert span.inputs == {"model": MODEL, "messages": MESSAGES, "tools": TOOLS}
    assert span.outputs == result.to_dict(mode="json")
    assert attrs(span) == chat_attrs(server, result, **{attr.CHAT_TOOLS: TOOLS})


class Weather(BaseModel):
    location: str
    celsius: float


def _parsed_format() -> dict[str, Any]:
    return {
        "type": "json_schema",
        "json_schema": {
            "name": "Weather",
            "strict": True,
            "schema": Weather.model_json_schema() | {"additionalProperties": False},
        },
    }


def test_parse_records_schema_and_parsed_output(client: OpenAI, server: FakeLLMServer, captured: SpanCapture) -> None:
    result = client.chat.completions.parse(model=MODEL, messages=MESSAGES, response_format=Weather)

    parsed = result.choices[0].message.parsed
    assert isinstance(parsed, Weather)
    span = only_span(captured)
    assert span.inputs["messages"] == MESSAGES
    assert span.inputs["response_format"]["type"] == "json_schema"
    assert span.inputs["response_format"]["json_schema"]["name"] == "Weather"
    assert (
        span.inputs["response_format"]["json_schema"]["schema"]["properties"]
        == server.last_request.json["response_format"]["json_schema"]["schema"]["properties"]
    )
    assert span.outputs == result.to_dict(mode="json", warnings=False)
    assert span.outputs["choices"][0]["message"]["parsed"] == parsed.model_dump()
    assert attrs(span) == chat_attrs(server, result, **{attr.GEN_AI_OUTPUT_TYPE: "json"})


async def test_async_parse(aclient: AsyncOpenAI, server: FakeLLMServer, captured: SpanCapture) -> None:
    result = await aclient.chat.completions.parse(model=MODEL, messages=MESSAGES, response_format=Weather)

    assert isinstance(result.choices[0].message.parsed, Weather)
    span = only_span(captured)
    assert span.outputs == result.to_dict(mode="json", warnings=False)
    assert attrs(span) == chat_attrs(server, result, **{attr.GEN_AI_OUTPUT_TYPE: "json"})


def test_with_raw_response(client: OpenAI, server: FakeLLMServer, captured: SpanCapture) -> None:
    raw = client.chat.completions.with_raw_response.create(model=MODEL, messages=MESSAGES)

    assert isinstance(raw, openai._legacy_response.LegacyAPIResponse)
    span = only_span(captured)  # ended at once: the body was read
    result = raw.parse()
    assert raw.parse() is result
    assert span.outputs == result.to_dict(mode="json")
    assert span.inputs == {"model": MODEL, "messages": MESSAGES}  # the SDK's raw-response header is not recorded
    assert attrs(span) == chat_attrs(server, result)


async def test_async_with_streaming_response(aclient: AsyncOpenAI, server: FakeLLMServer, captured: SpanCapture) -> None:
    async with aclient.chat.completions.with_streaming_response.create(model=MODEL, messages=MESSAGES) as raw:
        assert isinstance(raw, openai._response.AsyncAPIResponse)
        assert captured.spans == []  # body not read yet
        result = await raw.parse()
        assert result.choices[0].message.content == TEXT

    span = only_span(captured)
    assert span.outputs == result.to_dict(mode="json")
    assert attrs(span) == chat_attrs(server, result)


def test_with_streaming_response_closed_unread(client: OpenAI, server: FakeLLMServer, captured: SpanCapture) -> None:
    with client.chat.completions.with_streaming_response.create(model=MODEL, messages=MESSAGES) as raw:
        assert raw.status_code == 200

    span = only_span(captured)
    assert (span.status, span.outputs) == ("OK", None)
    assert span.inputs == {"model": MODEL, "messages": MESSAGES}


def test_usage_with_cached_and_reasoning_tokens(client: OpenAI, server: FakeLLMServer, captured: SpanCapture) -> None:
    result = client.chat.completions.create(model=MODEL, messages=MESSAGES, **scenario("cached_usage"))

    usage = result.usage
    assert usage.prompt_tokens_details.cached_tokens == 100
    span = only_span(captured)
    assert attrs(span) == chat_attrs(server, result) | usage_attrs(
        usage.prompt_tokens,
        usage.completion_tokens,
        cache_read_input_tokens=100,
        cache_creation_input_tokens=50,
        reasoning_tokens=10,
    )


def test_served_model_differs(client: OpenAI, server: FakeLLMServer, captured: SpanCapture) -> None:
    client.chat.completions.create(model=MODEL, messages=MESSAGES, **scenario("model_mismatch"))

    values = attrs(only_span(captured))
    assert values[attr.GEN_AI_REQUEST_MODEL] == MODEL
    assert values[attr.GEN_AI_RESPONSE_MODEL] == MODEL + "-served"
    assert values[attr.LLM_MODEL] == MODEL + "-served"


def test_refusal(client: OpenAI, captured: SpanCapture) -> None:
    result = client.chat.completions.create(model=MODEL, messages=MESSAGES, **scenario("refusal"))

    span = only_span(captured)
    assert span.outputs["choices"][0]["message"]["refusal"] == result.choices[0].message.refusal
    assert span.outputs == result.to_dict(mode="json")


@pytest.mark.parametrize(
    ("name", "status", "error"),
    [
        ("error_400", 400, openai.BadRequestError),
        ("error_401", 401, openai.AuthenticationError),
        ("error_404", 404, openai.NotFoundError),
        ("error_429", 429, openai.RateLimitError),
        ("error_500", 500, openai.InternalServerError),
    ],
)
def test_http_errors(
    client: OpenAI, server: FakeLLMServer, captured: SpanCapture, name: str, status: int, error: type[Exception]
) -> None:
    with pytest.raises(error) as info:
        client.chat.completions.create(model=MODEL, messages=MESSAGES, **scenario(name))

    assert info.value.status_code == status
    assert len(server.requests) == 1
    span = only_span(captured)
    assert span.status == "ERROR"
    assert span.outputs is None
    assert attrs(span) == _error_attrs(server, status, error)
    [event] = span.events
    assert event["name"] == "exception"
    assert event["attributes"]["exception.type"].endswith(error.__name__)


def _error_attrs(server: FakeLLMServer, status: int, error: type[Exception]) -> dict[str, Any]:
    values = base_attrs(server)
    del values[attr.GEN_AI_RESPONSE_MODEL]
    values[attr.LLM_MODEL] = MODEL
    values.update({attr.GEN_AI_OUTPUT_TYPE: "text", attr.HTTP_STATUS_CODE: status, attr.ERROR_TYPE: error.__qualname__})
    return values


def test_connection_error(captured: SpanCapture) -> None:
    with (
        OpenAI(base_url="http://127.0.0.1:9/gateway/openai/v1", api_key="k", max_retries=0) as dead,
        pytest.raises(openai.APIConnectionError),
    ):
        dead.chat.completions.create(model=MODEL, messages=MESSAGES)

    span = only_span(captured)
    assert span.status == "ERROR"
    values = attrs(span)
    assert values[attr.ERROR_TYPE] == "APIConnectionError"
    assert (values[attr.SERVER_PORT], values[attr.GATEWAY_PATH]) == (9, "/gateway/openai/v1")


def test_gateway_prefix_and_no_secrets(server: FakeLLMServer, captured: SpanCapture) -> None:
    with OpenAI(base_url=server.url_for("/gateway/openai/v1"), api_key="sk-secret-test-key", max_retries=0) as gw:
        gw.chat.completions.create(model=MODEL, messages=MESSAGES, extra_headers={"Authorization": "Bearer sk-other-secret"})

    span = only_span(captured)
    values = attrs(span)
    assert values[attr.GATEWAY_PATH] == "/gateway/openai/v1"
    assert values[attr.BASE_URL] == server.url + "/gateway/openai/v1"
    assert server.last_request.path.startswith("/gateway/openai/v1")
    for value in span.attributes.values():
        assert "secret" not in str(value)


def test_azure_client(server: FakeLLMServer, captured: SpanCapture) -> None:
    with AzureOpenAI(azure_endpoint=server.url, api_key="k", api_version="2024-10-21", max_retries=0) as azure:
        result = azure.chat.completions.create(model="my-deployment", messages=MESSAGES)

    span = only_span(captured)
    assert span.name == "chat my-deployment"
    assert span.outputs == result.to_dict(mode="json")
    values = attrs(span)
    assert (values[attr.GEN_AI_PROVIDER], values[attr.GEN_AI_SYSTEM], values[attr.LLM_PROVIDER]) == (
        "azure.ai.openai",
        "azure.ai.openai",
        "azure",
    )
    assert values[attr.GATEWAY_PATH] == "/openai"
