"""models.generate_content_stream (sync generator; client.aio: awaitable -> async
generator): one span, the chunks merged into one response of the non-streamed shape."""

from __future__ import annotations

from typing import Any

from gemini_spans import MODEL, PROMPT, TEXT, USER, attributes, generate_attributes, only_span

from tracekit.testing import SpanCapture
from tracekit.testing._fakeserver import FakeLLMServer

_MERGED_TEXT = {
    "candidates": [{"content": {"role": "model", "parts": [{"text": TEXT}]}, "finish_reason": "STOP", "index": 0}],
    "model_version": MODEL,
    "response_id": "fake-1",
    "usage_metadata": {
        "candidates_token_count": 20,
        "prompt_token_count": 3,
        "prompt_tokens_details": [{"modality": "TEXT", "token_count": 3}],
        "total_token_count": 23,
    },
}


def test_sync_stream_whole_span(client: Any, server: FakeLLMServer, captured: SpanCapture) -> None:
    stream = client.models.generate_content_stream(model=MODEL, contents=PROMPT)
    text = "".join(chunk.text for chunk in stream)

    assert text == TEXT
    span = only_span(captured)
    assert (span.name, span.status, span.parent_id) == (f"generate_content {MODEL}", "OK", None)
    assert attributes(span) == generate_attributes(
        server, inputs={"model": MODEL, "contents": USER}, response=_MERGED_TEXT, stream=True, chunks=20
    )
    [event] = span.events
    assert event["name"] == "gen_ai.first_token"
    assert event["attributes"]["time_to_first_token_ms"] == span.attributes["tracekit.stream.time_to_first_token_ms"]


async def test_async_stream_whole_span(aclient: Any, server: FakeLLMServer, captured: SpanCapture) -> None:
    text = ""
    async for chunk in await aclient.models.generate_content_stream(model=MODEL, contents=PROMPT):
        text += chunk.text

    assert text == TEXT
    span = only_span(captured)
    assert span.status == "OK"
    assert attributes(span) == generate_attributes(
        server, inputs={"model": MODEL, "contents": USER}, response=_MERGED_TEXT, stream=True, chunks=20
    )


def test_sync_stream_reasoning_keeps_thoughts_apart(client: Any, server: FakeLLMServer, captured: SpanCapture) -> None:
    server.set_scenario("reasoning")
    list(client.models.generate_content_stream(model=MODEL, contents=PROMPT))

    outputs = attributes(only_span(captured))["mlflow.spanOutputs"]
    assert outputs["candidates"][0]["content"]["parts"] == [
        {"text": "The user greets me, so I should greet them back briefly.", "thought": True},
        {"text": TEXT},
    ]


async def test_async_stream_slow_first_token(aclient: Any, server: FakeLLMServer, captured: SpanCapture) -> None:
    server.set_scenario("slow_first_token")
    async for _ in await aclient.models.generate_content_stream(model=MODEL, contents=PROMPT):
        pass

    span = only_span(captured)
    assert span.attributes["tracekit.stream.time_to_first_token_ms"] >= 250
    assert span.attributes["tracekit.stream.end_reason"] == "exhausted"


def test_sync_stream_empty(client: Any, server: FakeLLMServer, captured: SpanCapture) -> None:
    server.set_scenario("empty_stream")
    assert list(client.models.generate_content_stream(model=MODEL, contents=PROMPT)) == []

    span = only_span(captured)
    assert span.status == "OK"
    expected = generate_attributes(server, inputs={"model": MODEL, "contents": USER}, response=None, stream=True, chunks=0)
    expected["tracekit.stream.incomplete"] = True  # the body ended without a finish reason
    assert attributes(span) == expected
