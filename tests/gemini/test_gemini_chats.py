"""Chats (sync and client.aio): exactly one span per model call. A chat turn is one
span whose inputs hold the whole history sent; automatic function calling gives one
span per model request, never a span for the turn around them."""

from __future__ import annotations

from typing import Any

from gemini_spans import MODEL, TEXT, attributes, dump, generate_attributes
from google.genai import types

import tracekit
from tracekit.testing import SpanCapture
from tracekit.testing._fakeserver import FakeLLMServer

_TURN_1 = {"role": "user", "parts": [{"text": "Hi"}]}
_REPLY = {"role": "model", "parts": [{"text": TEXT}]}
_TURN_2 = {"role": "user", "parts": [{"text": "And again?"}]}


def _assert_two_turns(server: FakeLLMServer, captured: SpanCapture, replies: list[Any], stream: bool) -> None:
    first, second = captured.spans
    for span in (first, second):
        assert (span.name, span.span_type, span.status) == (f"generate_content {MODEL}", "CHAT_MODEL", "OK")
    if stream:
        assert attributes(first)["mlflow.spanInputs"] == {"model": MODEL, "contents": [_TURN_1]}
        # google-genai 3.4.0 keeps a streamed reply in the chat history as one model
        # Content per chunk, and sends it so: the span shows exactly that
        sent = attributes(second)["mlflow.spanInputs"]["contents"]
        assert server.requests[1].json["contents"] == sent
        assert (sent[0], sent[-1], len(sent)) == (_TURN_1, _TURN_2, 2 + 20)
        assert "".join(c["parts"][0]["text"] for c in sent[1:-1]) == TEXT
        assert attributes(second)["tracekit.stream.end_reason"] == "exhausted"
        return
    assert attributes(first) == generate_attributes(
        server, inputs={"model": MODEL, "contents": [_TURN_1]}, response=dump(replies[0])
    )
    assert attributes(second) == generate_attributes(
        server, inputs={"model": MODEL, "contents": [_TURN_1, _REPLY, _TURN_2]}, response=dump(replies[1])
    )


def test_sync_send_message(client: Any, server: FakeLLMServer, captured: SpanCapture) -> None:
    chat = client.chats.create(model=MODEL)
    replies = [chat.send_message("Hi"), chat.send_message("And again?")]
    assert [r.text for r in replies] == [TEXT, TEXT]
    _assert_two_turns(server, captured, replies, stream=False)


async def test_async_send_message(aclient: Any, server: FakeLLMServer, captured: SpanCapture) -> None:
    chat = aclient.chats.create(model=MODEL)
    replies = [await chat.send_message("Hi"), await chat.send_message("And again?")]
    _assert_two_turns(server, captured, replies, stream=False)


def test_sync_send_message_stream(client: Any, server: FakeLLMServer, captured: SpanCapture) -> None:
    chat = client.chats.create(model=MODEL)
    for message in ("Hi", "And again?"):
        assert "".join(c.text for c in chat.send_message_stream(message)) == TEXT
    _assert_two_turns(server, captured, [], stream=True)


async def test_async_send_message_stream(aclient: Any, server: FakeLLMServer, captured: SpanCapture) -> None:
    chat = aclient.chats.create(model=MODEL)
    for message in ("Hi", "And again?"):
        text = ""
        async for chunk in await chat.send_message_stream(message):
            text += chunk.text
        assert text == TEXT
    _assert_two_turns(server, captured, [], stream=True)


def get_weather(city: str) -> str:
    """Current weather in a city.

    Args:
      city: The city.
    """
    return f"sunny in {city}"


def _afc_config() -> types.GenerateContentConfig:
    # the fake server answers every request with a function call; two model calls are
    # the request that asks for it and the one that sends the function's result
    return types.GenerateContentConfig(
        tools=[get_weather],
        automatic_function_calling=types.AutomaticFunctionCallingConfig(maximum_remote_calls=2),
        http_options=types.HttpOptions(headers={"x-fake-scenario": "tool_call"}),
    )


def _assert_afc(captured: SpanCapture, server: FakeLLMServer) -> None:
    spans = captured.spans
    llm = [s for s in spans if s.span_type == "CHAT_MODEL"]
    [root] = [s for s in spans if s.parent_id is None]
    assert len(llm) == 2 == len(server.requests)
    assert all(s.parent_id == root.span_id for s in llm)  # siblings, not nested
    first, second = (attributes(s) for s in llm)
    assert first["mlflow.chat.tools"] == [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Current weather in a city.\n\nArgs:\n  city: The city.",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
            },
        }
    ]
    # each span holds its own request: the second one carries the function's result
    assert len(first["mlflow.spanInputs"]["contents"]) == 1
    sent = second["mlflow.spanInputs"]["contents"]
    assert sent[-1]["parts"][0]["function_response"]["name"] == "get_weather"
    assert server.requests[1].json["contents"][-1]["parts"][0]["functionResponse"]["name"] == "get_weather"
    # usage is per request, so the trace total counts both calls
    assert first["mlflow.chat.tokenUsage"]["total_tokens"] > 0
    assert second["mlflow.chat.tokenUsage"]["total_tokens"] > 0
    assert "automatic_function_calling" not in first["mlflow.spanInputs"]["config"]


def test_sync_automatic_function_calling(client: Any, server: FakeLLMServer, captured: SpanCapture) -> None:
    with tracekit.start_span("agent"):
        chat = client.chats.create(model=MODEL, config=_afc_config())
        chat.send_message("Weather in Paris?")
    _assert_afc(captured, server)


async def test_async_automatic_function_calling(aclient: Any, server: FakeLLMServer, captured: SpanCapture) -> None:
    async with tracekit.start_span("agent"):
        await aclient.models.generate_content(model=MODEL, contents="Weather in Paris?", config=_afc_config())
    _assert_afc(captured, server)
