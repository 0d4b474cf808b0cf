"""Anthropic messages through the real anthropic SDK (2.12.0) against the fake server."""

from __future__ import annotations

from typing import Any

import anthropic
import httpx2
import pytest
from pydantic import BaseModel

from tracekit.testing._fakeserver import FakeLLMServer

TEXT = "Hello! This is the fake LLM server."
MESSAGES: list[Any] = [{"role": "user", "content": "hi"}]
TOOL: Any = {
    "name": "get_weather",
    "description": "Weather of a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}}},
}


class City(BaseModel):
    name: str
    population: int


def scenario(name: str) -> dict[str, Any]:
    return {"extra_headers": {"x-fake-scenario": name}}


def create(client: Any, **kwargs: Any) -> Any:
    return client.messages.create(model="claude-fake-1", max_tokens=256, messages=MESSAGES, **kwargs)


def test_create_message(anthropic_client: Any, server: FakeLLMServer) -> None:
    message = create(anthropic_client, system="be brief")
    assert (message.id, message.model, message.stop_reason) == ("msg_fake_1", "claude-fake-1", "end_turn")
    assert message.content[0].text == TEXT
    assert (message.usage.input_tokens, message.usage.output_tokens) == (3, 20)
    request = server.last_request
    # anthropic 2.12.0 sends the key as a bearer token, not x-api-key.
    assert request is not None and request.path == "/v1/messages" and request.headers["authorization"] == "Bearer sk-ant-test"


def test_raw_stream_event_sequence(anthropic_client: Any) -> None:
    events = list(create(anthropic_client, stream=True, extra_headers={"x-fake-chunks": "2"}))
    assert [e.type for e in events] == [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert events[-2].usage.output_tokens == 2


def test_stream_helper_final_message_and_text(anthropic_client: Any) -> None:
    with anthropic_client.messages.stream(model="claude-fake-1", max_tokens=256, messages=MESSAGES) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == TEXT
    assert final.content[0].text == TEXT and final.stop_reason == "end_turn"


def test_tool_use_stream_gives_parsed_input(anthropic_client: Any) -> None:
    with anthropic_client.messages.stream(
        model="claude-fake-1", max_tokens=256, messages=MESSAGES, tools=[TOOL], **scenario("tool_calls_2")
    ) as stream:
        final = stream.get_final_message()
    assert [b.type for b in final.content] == ["tool_use", "tool_use"]
    assert final.content[0].input == {"city": "text", "days": 1}
    assert final.content[1].id == "toolu_fake_1_1"
    assert final.stop_reason == "tool_use"


def test_thinking_block_with_signature(anthropic_client: Any) -> None:
    with anthropic_client.messages.stream(
        model="claude-fake-1", max_tokens=2048, messages=MESSAGES, **scenario("thinking")
    ) as stream:
        final = stream.get_final_message()
    thinking, text = final.content
    assert thinking.type == "thinking" and thinking.signature == "fake-signature-1"
    assert thinking.thinking == "The user greets me, so I should greet them back briefly."
    assert text.text == TEXT
    assert create(anthropic_client, **scenario("thinking")).content[0].type == "thinking"


def test_cached_usage(anthropic_client: Any) -> None:
    usage = create(anthropic_client, **scenario("cached_usage")).usage
    assert (usage.cache_read_input_tokens, usage.cache_creation_input_tokens) == (100, 50)
    with anthropic_client.messages.stream(model="c", max_tokens=10, messages=MESSAGES, **scenario("cached_usage")) as stream:
        streamed = stream.get_final_message().usage
    assert (streamed.cache_read_input_tokens, streamed.cache_creation_input_tokens) == (100, 50)


def test_structured_output_format(anthropic_client: Any) -> None:
    with anthropic_client.messages.stream(model="claude-fake-1", max_tokens=256, messages=MESSAGES, output_format=City) as stream:
        final = stream.get_final_message()
    assert final.content[0].parsed_output == City(name="text", population=1)


@pytest.mark.parametrize(
    ("name", "error", "kind"),
    [
        ("error_400", anthropic.BadRequestError, "invalid_request_error"),
        ("error_401", anthropic.AuthenticationError, "authentication_error"),
        ("error_404", anthropic.NotFoundError, "not_found_error"),
        ("error_429", anthropic.RateLimitError, "rate_limit_error"),
        ("error_500", anthropic.InternalServerError, "api_error"),
        ("error_529", anthropic.OverloadedError, "overloaded_error"),
    ],
)
def test_errors_raise_sdk_classes(anthropic_client: Any, name: str, error: type, kind: str) -> None:
    with pytest.raises(error) as caught:
        create(anthropic_client, **scenario(name))
    assert caught.value.body["error"]["type"] == kind


def test_midstream_error_event_raises(anthropic_client: Any) -> None:
    with (
        anthropic_client.messages.stream(model="c", max_tokens=10, messages=MESSAGES, **scenario("midstream_error")) as stream,
        pytest.raises(anthropic.APIStatusError, match="overloaded_error") as caught,
    ):
        stream.get_final_message()
    # anthropic 2.12.0 builds the error from the 200 response, so status_code is 200.
    assert caught.value.status_code == 200
    assert stream.current_message_snapshot.content[0].text == "Hello! This is the f"


def test_cutoff_disconnect_empty_refusal(anthropic_client: Any) -> None:
    events = list(create(anthropic_client, stream=True, **scenario("cutoff")))
    assert events[-1].type == "content_block_delta"
    # A transport error while reading a stream: anthropic 2.12.0 let the raw httpx2
    # exception reach the caller; 2.17.0 wraps it in APIConnectionError, as openai does,
    # with the transport error as its cause. Either way the drop must surface.
    with pytest.raises((httpx2.RemoteProtocolError, anthropic.APIConnectionError)) as dropped:
        list(create(anthropic_client, stream=True, **scenario("disconnect")))
    if isinstance(dropped.value, anthropic.APIConnectionError):
        assert isinstance(dropped.value.__cause__, httpx2.RemoteProtocolError)
    with pytest.raises(anthropic.APIConnectionError):
        create(anthropic_client, **scenario("disconnect"))
    with anthropic_client.messages.stream(model="c", max_tokens=10, messages=MESSAGES, **scenario("empty_stream")) as stream:
        assert stream.get_final_message().content == []
    refused = create(anthropic_client, **scenario("refusal"))
    assert refused.stop_reason == "refusal"
    assert create(anthropic_client, **scenario("model_mismatch")).model == "claude-fake-1-served"


def test_count_tokens(anthropic_client: Any, server: FakeLLMServer) -> None:
    counted = anthropic_client.messages.count_tokens(model="c", messages=[{"role": "user", "content": "hello there"}])
    assert counted.input_tokens == 3
    assert server.last_request is not None and server.last_request.endpoint == "count_tokens"


async def test_async_stream_and_error(async_anthropic_client: Any) -> None:
    async with async_anthropic_client.messages.stream(model="c", max_tokens=10, messages=MESSAGES) as stream:
        final = await stream.get_final_message()
    assert final.content[0].text == TEXT
    with pytest.raises(anthropic.OverloadedError):
        await async_anthropic_client.messages.create(model="c", max_tokens=10, messages=MESSAGES, **scenario("error_529"))
