"""Chat completions through the real openai SDK (3.54.0) against the fake server."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest
from openai.lib.streaming.chat import ChatCompletionStreamState
from pydantic import BaseModel

from tracekit.testing._fakeserver import FakeLLMServer

TEXT = "Hello! This is the fake LLM server."
MESSAGES: list[Any] = [{"role": "user", "content": "hi"}]
WEATHER_TOOL: Any = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


class Person(BaseModel):
    name: str
    age: int
    tags: list[str]


def scenario(name: str) -> dict[str, Any]:
    return {"extra_headers": {"x-fake-scenario": name}}


def test_create_returns_fixed_reply_and_deterministic_usage(openai_client: Any, server: FakeLLMServer) -> None:
    reply = openai_client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert reply.id == "chatcmpl-fake-1"
    assert reply.model == "gpt-4o-mini"
    assert reply.choices[0].message.content == TEXT
    assert reply.choices[0].finish_reason == "stop"
    assert (reply.usage.prompt_tokens, reply.usage.completion_tokens, reply.usage.total_tokens) == (1, 20, 21)
    request = server.last_request
    assert request is not None
    assert (request.method, request.path, request.provider, request.endpoint) == (
        "POST",
        "/v1/chat/completions",
        "openai",
        "chat",
    )
    assert request.json == {"model": "gpt-4o-mini", "messages": MESSAGES}
    assert request.headers["authorization"] == "Bearer sk-test"


def test_stream_chunks_roles_usage_and_done(openai_client: Any) -> None:
    chunks = list(
        openai_client.chat.completions.create(
            model="gpt-4o-mini",
            messages=MESSAGES,
            stream=True,
            stream_options={"include_usage": True},
            extra_headers={"x-fake-chunks": "5"},
        )
    )
    assert chunks[0].choices[0].delta.role == "assistant"
    content = [c.choices[0].delta.content for c in chunks[1:-2]]
    assert content == ["Hello! ", "This is", " the fa", "ke LLM ", "server."]
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == 5


def test_stream_helper_final_completion(openai_client: Any) -> None:
    with openai_client.chat.completions.stream(model="gpt-4o-mini", messages=MESSAGES) as stream:
        deltas = [e.delta for e in stream if e.type == "content.delta"]
        final = stream.get_final_completion()
    assert "".join(deltas) == TEXT
    assert final.choices[0].message.content == TEXT


def test_tool_call_stream_accumulates_complete_arguments(openai_client: Any) -> None:
    tool = {**WEATHER_TOOL, "function": {**WEATHER_TOOL["function"], "strict": True}}
    with openai_client.chat.completions.stream(
        model="gpt-4o-mini", messages=MESSAGES, tools=[tool], **scenario("tool_call")
    ) as stream:
        final = stream.get_final_completion()
    (call,) = final.choices[0].message.tool_calls
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "text"}
    assert call.function.parsed_arguments == {"city": "text"}
    assert final.choices[0].finish_reason == "tool_calls"


def test_two_parallel_tool_calls_non_streamed(openai_client: Any) -> None:
    reply = openai_client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "[scenario:tool_calls_2] weather?"}], tools=[WEATHER_TOOL]
    )
    calls = reply.choices[0].message.tool_calls
    assert [c.id for c in calls] == ["call_fake_1_0", "call_fake_1_1"]
    assert reply.choices[0].message.content is None


def test_default_tool_when_request_declares_none(openai_client: Any) -> None:
    state = ChatCompletionStreamState()
    for chunk in openai_client.chat.completions.create(model="m", messages=MESSAGES, stream=True, **scenario("tool_call")):
        state.handle_chunk(chunk)
    (call,) = state.get_final_completion().choices[0].message.tool_calls
    assert (call.function.name, json.loads(call.function.arguments)) == ("get_weather", {"location": "Paris"})


def test_parse_structured_output(openai_client: Any) -> None:
    reply = openai_client.chat.completions.parse(model="gpt-4o", messages=MESSAGES, response_format=Person)
    assert reply.choices[0].message.parsed == Person(name="text", age=1, tags=["text"])
    with openai_client.chat.completions.stream(model="gpt-4o", messages=MESSAGES, response_format=Person) as stream:
        assert stream.get_final_completion().choices[0].message.parsed == Person(name="text", age=1, tags=["text"])


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
@pytest.mark.parametrize("stream", [False, True])
def test_errors_raise_sdk_classes(openai_client: Any, name: str, status: int, error: type, stream: bool) -> None:
    with pytest.raises(error) as caught:
        openai_client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=stream, **scenario(name))
    assert caught.value.status_code == status
    assert caught.value.body["type"] in ("invalid_request_error", "requests", "server_error")
    if status == 429:
        assert caught.value.response.headers["retry-after"] == "1"


def test_midstream_error_raises_api_error(openai_client: Any) -> None:
    stream = openai_client.chat.completions.create(model="m", messages=MESSAGES, stream=True, **scenario("midstream_error"))
    received: list[str] = []
    with pytest.raises(openai.APIError, match="server had an error"):
        for chunk in stream:
            received.append(chunk.choices[0].delta.content or "")
    assert "".join(received) == "Hello! This is the f"  # 10 of 20 pieces


def test_disconnect_raises_connection_error(openai_client: Any) -> None:
    stream = openai_client.chat.completions.create(model="m", messages=MESSAGES, stream=True, **scenario("disconnect"))
    with pytest.raises(openai.APIConnectionError):
        list(stream)
    with pytest.raises(openai.APIConnectionError):
        openai_client.chat.completions.create(model="m", messages=MESSAGES, **scenario("disconnect"))


def test_cutoff_ends_without_finish_or_done(openai_client: Any) -> None:
    chunks = list(openai_client.chat.completions.create(model="m", messages=MESSAGES, stream=True, **scenario("cutoff")))
    assert all(c.choices[0].finish_reason is None for c in chunks)
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "Hello! This is the f"
    reply = openai_client.chat.completions.create(model="m", messages=MESSAGES, **scenario("cutoff"))
    assert reply.choices[0].finish_reason == "length"


def test_empty_stream_is_just_done(openai_client: Any) -> None:
    assert (
        list(openai_client.chat.completions.create(model="m", messages=MESSAGES, stream=True, **scenario("empty_stream"))) == []
    )


def test_model_mismatch_cached_usage_reasoning_refusal(openai_client: Any) -> None:
    reply = openai_client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, **scenario("model_mismatch"))
    assert reply.model == "gpt-4o-mini-served"
    usage = openai_client.chat.completions.create(model="m", messages=MESSAGES, **scenario("cached_usage")).usage
    assert usage.prompt_tokens_details.cached_tokens == 100
    assert usage.prompt_tokens == 1 + 100 + 50
    assert usage.completion_tokens_details.reasoning_tokens == 10
    usage = openai_client.chat.completions.create(model="o3", messages=MESSAGES, **scenario("reasoning")).usage
    assert (usage.completion_tokens, usage.completion_tokens_details.reasoning_tokens) == (30, 10)
    refused = openai_client.chat.completions.create(model="m", messages=MESSAGES, **scenario("refusal"))
    assert refused.choices[0].message.refusal == "I'm sorry, but I can't help with that."
    assert refused.choices[0].message.content is None
    with openai_client.chat.completions.stream(model="m", messages=MESSAGES, **scenario("refusal")) as stream:
        assert stream.get_final_completion().choices[0].message.refusal == "I'm sorry, but I can't help with that."


def test_safety_block_is_content_filter(openai_client: Any) -> None:
    reply = openai_client.chat.completions.create(model="m", messages=MESSAGES, **scenario("safety_block"))
    assert reply.choices[0].finish_reason == "content_filter"


async def test_async_create_and_stream(async_openai_client: Any) -> None:
    reply = await async_openai_client.chat.completions.create(model="m", messages=MESSAGES)
    assert reply.choices[0].message.content == TEXT
    async with async_openai_client.chat.completions.stream(model="m", messages=MESSAGES) as stream:
        final = await stream.get_final_completion()
    assert final.choices[0].message.content == TEXT
    with pytest.raises(openai.RateLimitError):
        await async_openai_client.chat.completions.create(model="m", messages=MESSAGES, **scenario("error_429"))
