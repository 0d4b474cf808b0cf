"""Gemini through the real google-genai SDK (3.4.0) against the fake server."""

from __future__ import annotations

from typing import Any

import pytest
from google.genai import errors, types
from pydantic import BaseModel

from tracekit.testing._fakeserver import FakeLLMServer

TEXT = "Hello! This is the fake LLM server."
MODEL = "gemini-2.0-flash"
WEATHER = types.Tool(
    function_declarations=[
        types.FunctionDeclaration(
            name="get_weather",
            parameters=types.Schema(
                type=types.Type.OBJECT, properties={"city": types.Schema(type=types.Type.STRING)}, required=["city"]
            ),
        )
    ]
)


class Recipe(BaseModel):
    title: str
    minutes: int


def config(name: str, **kwargs: Any) -> types.GenerateContentConfig:
    return types.GenerateContentConfig(http_options=types.HttpOptions(headers={"x-fake-scenario": name}), **kwargs)


def test_generate_content(genai_client: Any, server: FakeLLMServer) -> None:
    response = genai_client.models.generate_content(model=MODEL, contents="hi")
    assert response.text == TEXT
    assert (response.model_version, response.response_id) == (MODEL, "fake-1")
    assert response.candidates[0].finish_reason == types.FinishReason.STOP
    usage = response.usage_metadata
    assert (usage.prompt_token_count, usage.candidates_token_count, usage.total_token_count) == (1, 20, 21)
    request = server.last_request
    assert request is not None
    assert request.path == f"/v1beta/models/{MODEL}:generateContent"
    assert request.headers["x-goog-api-key"] == "gemini-test"
    assert request.json["contents"] == [{"parts": [{"text": "hi"}], "role": "user"}]


def test_stream_chunks_carry_running_usage(genai_client: Any, server: FakeLLMServer) -> None:
    chunks = list(genai_client.models.generate_content_stream(model=MODEL, contents="hi", config=config("text")))
    assert "".join(c.text for c in chunks) == TEXT
    assert [c.usage_metadata.candidates_token_count for c in chunks] == list(range(1, 21))
    assert chunks[-1].candidates[0].finish_reason == types.FinishReason.STOP
    assert all(c.candidates[0].finish_reason is None for c in chunks[:-1])
    assert server.last_request is not None and server.last_request.query == {"alt": "sse"}


def test_function_call_thinking_and_cached_usage(genai_client: Any) -> None:
    response = genai_client.models.generate_content(model=MODEL, contents="weather?", config=config("tool_call", tools=[WEATHER]))
    (call,) = response.function_calls
    assert (call.name, call.args) == ("get_weather", {"city": "text"})
    streamed = list(
        genai_client.models.generate_content_stream(
            model=MODEL, contents="weather?", config=config("tool_calls_2", tools=[WEATHER])
        )
    )
    assert len(streamed[-1].function_calls) == 2
    thought = genai_client.models.generate_content(model=MODEL, contents="hi", config=config("thinking"))
    assert thought.candidates[0].content.parts[0].thought is True
    assert thought.usage_metadata.thoughts_token_count == 10
    cached = genai_client.models.generate_content(model=MODEL, contents="hi", config=config("cached_usage"))
    assert cached.usage_metadata.cached_content_token_count == 100


def test_structured_output(genai_client: Any) -> None:
    response = genai_client.models.generate_content(
        model=MODEL,
        contents="recipe",
        config=types.GenerateContentConfig(response_mime_type="application/json", response_schema=Recipe),
    )
    assert response.parsed == Recipe(title="text", minutes=1)


def test_safety_blocks(genai_client: Any) -> None:
    blocked = genai_client.models.generate_content(model=MODEL, contents="hi", config=config("safety_block"))
    assert blocked.prompt_feedback.block_reason == types.BlockedReason.SAFETY
    assert not blocked.candidates
    chunks = list(genai_client.models.generate_content_stream(model=MODEL, contents="hi", config=config("safety_block_response")))
    last = chunks[-1].candidates[0]
    assert last.finish_reason == types.FinishReason.SAFETY
    assert any(r.blocked for r in last.safety_ratings)


@pytest.mark.parametrize(
    ("name", "error", "status"),
    [
        ("error_400", errors.ClientError, "INVALID_ARGUMENT"),
        ("error_401", errors.ClientError, "UNAUTHENTICATED"),
        ("error_404", errors.ClientError, "NOT_FOUND"),
        ("error_429", errors.ClientError, "RESOURCE_EXHAUSTED"),
        ("error_500", errors.ServerError, "INTERNAL"),
    ],
)
def test_errors(genai_client: Any, name: str, error: type, status: str) -> None:
    with pytest.raises(error) as caught:
        genai_client.models.generate_content(model=MODEL, contents="hi", config=config(name))
    assert caught.value.status == status
    with pytest.raises(error):
        list(genai_client.models.generate_content_stream(model=MODEL, contents="hi", config=config(name)))


def test_broken_streams(genai_client: Any) -> None:
    received: list[str] = []
    with pytest.raises(errors.ServerError):
        for chunk in genai_client.models.generate_content_stream(model=MODEL, contents="hi", config=config("midstream_error")):
            received.append(chunk.text)
    assert "".join(received) == "Hello! This is the f"
    cut = list(genai_client.models.generate_content_stream(model=MODEL, contents="hi", config=config("cutoff")))
    assert cut and cut[-1].candidates[0].finish_reason is None
    assert list(genai_client.models.generate_content_stream(model=MODEL, contents="hi", config=config("empty_stream"))) == []
    import httpx2

    # google-genai 3.4.0 lets the transport error through unwrapped.
    with pytest.raises(httpx2.RemoteProtocolError):
        list(genai_client.models.generate_content_stream(model=MODEL, contents="hi", config=config("disconnect")))


def test_model_mismatch_marker(genai_client: Any) -> None:
    response = genai_client.models.generate_content(model=MODEL, contents="[scenario:model_mismatch] hi")
    assert response.model_version == f"{MODEL}-served"


def test_chat_embed_count(genai_client: Any, server: FakeLLMServer) -> None:
    chat = genai_client.chats.create(model=MODEL)
    assert chat.send_message("hi").text == TEXT
    assert "".join(c.text for c in chat.send_message_stream("again")) == TEXT
    # google-genai 3.4.0 keeps every streamed chunk as its own history entry.
    assert len(chat.get_history()) == 2 + 1 + 20
    embedded = genai_client.models.embed_content(model="text-embedding-004", contents=["a", "b"])
    assert [len(e.values) for e in embedded.embeddings] == [8, 8]
    assert server.last_request is not None and server.last_request.endpoint == "batchEmbedContents"
    assert genai_client.models.count_tokens(model=MODEL, contents="hello world").total_tokens == 3


async def test_async_stream_and_chat(async_genai_client: Any) -> None:
    text = "".join(
        [c.text async for c in await async_genai_client.aio.models.generate_content_stream(model=MODEL, contents="hi")]
    )
    assert text == TEXT
    chat = async_genai_client.aio.chats.create(model=MODEL)
    assert (await chat.send_message("hi")).text == TEXT
    with pytest.raises(errors.ClientError):
        await async_genai_client.aio.models.generate_content(model=MODEL, contents="hi", config=config("error_429"))
