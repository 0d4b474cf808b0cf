"""Responses, embeddings and legacy completions through the real openai SDK."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest
from pydantic import BaseModel

from tracekit.testing._fakeserver import FakeLLMServer

TEXT = "Hello! This is the fake LLM server."
FUNCTION_TOOL: Any = {
    "type": "function",
    "name": "lookup",
    "parameters": {"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"]},
    "strict": True,
}


class Answer(BaseModel):
    verdict: bool
    score: float


def scenario(name: str) -> dict[str, Any]:
    return {"extra_headers": {"x-fake-scenario": name}}


def test_create_returns_response_object(openai_client: Any, server: FakeLLMServer) -> None:
    response = openai_client.responses.create(model="gpt-4o", input="hi", instructions="be brief")
    assert (response.id, response.status, response.model) == ("resp_fake_1", "completed", "gpt-4o")
    assert response.output_text == TEXT
    assert (response.usage.input_tokens, response.usage.output_tokens) == (3, 20)
    assert server.last_request is not None and server.last_request.endpoint == "responses"


def test_stream_event_sequence(openai_client: Any) -> None:
    events = list(openai_client.responses.create(model="gpt-4o", input="hi", stream=True, extra_headers={"x-fake-chunks": "3"}))
    assert [e.type for e in events] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert events[-1].response.usage.output_tokens == 3


def test_stream_helper_final_response_with_tool_call(openai_client: Any) -> None:
    with openai_client.responses.stream(model="gpt-4o", input="hi", tools=[FUNCTION_TOOL], **scenario("tool_call")) as stream:
        kinds = [e.type for e in stream]
        final = stream.get_final_response()
    assert "response.function_call_arguments.delta" in kinds
    assert "response.function_call_arguments.done" in kinds
    (call,) = final.output
    assert (call.type, call.name, json.loads(call.arguments)) == ("function_call", "lookup", {"id": 1})
    assert call.parsed_arguments == {"id": 1}


def test_parse_and_stream_structured_output(openai_client: Any) -> None:
    parsed = openai_client.responses.parse(model="gpt-4o", input="judge", text_format=Answer)
    assert parsed.output_parsed == Answer(verdict=True, score=1.0)
    with openai_client.responses.stream(model="gpt-4o", input="judge", text_format=Answer) as stream:
        assert stream.get_final_response().output_parsed == Answer(verdict=True, score=1.0)


def test_reasoning_refusal_and_cached_usage(openai_client: Any) -> None:
    with openai_client.responses.stream(model="o3", input="hi", **scenario("reasoning")) as stream:
        final = stream.get_final_response()
    assert [item.type for item in final.output] == ["reasoning", "message"]
    assert final.usage.output_tokens_details.reasoning_tokens == 10
    with openai_client.responses.stream(model="gpt-4o", input="hi", **scenario("refusal")) as stream:
        refused = stream.get_final_response()
    assert refused.output[0].content[0].refusal == "I'm sorry, but I can't help with that."
    usage = openai_client.responses.create(model="gpt-4o", input="hi", **scenario("cached_usage")).usage
    assert (usage.input_tokens_details.cached_tokens, usage.output_tokens_details.reasoning_tokens) == (100, 10)


def test_midstream_error_emits_error_and_failed_events(openai_client: Any) -> None:
    events = list(openai_client.responses.create(model="gpt-4o", input="hi", stream=True, **scenario("midstream_error")))
    assert [e.type for e in events[-2:]] == ["error", "response.failed"]
    assert events[-1].response.error.code == "server_error"
    with (
        openai_client.responses.stream(model="gpt-4o", input="hi", **scenario("cutoff")) as stream,
        pytest.raises(RuntimeError, match=r"response\.completed"),
    ):
        stream.get_final_response()


def test_errors_and_disconnect(openai_client: Any) -> None:
    with pytest.raises(openai.NotFoundError):
        openai_client.responses.create(model="gpt-4o", input="hi", **scenario("error_404"))
    with pytest.raises(openai.APIConnectionError):
        list(openai_client.responses.create(model="gpt-4o", input="hi", stream=True, **scenario("disconnect")))


def test_embeddings_float_and_base64(openai_client: Any, server: FakeLLMServer) -> None:
    default = openai_client.embeddings.create(model="text-embedding-3-small", input=["a", "b"])
    assert server.last_request is not None and server.last_request.json["encoding_format"] == "base64"
    floats = openai_client.embeddings.create(
        model="text-embedding-3-small", input=["a", "b"], encoding_format="float", dimensions=4
    )
    assert [len(d.embedding) for d in default.data] == [8, 8]
    assert [len(d.embedding) for d in floats.data] == [4, 4]
    assert default.data[0].embedding[:4] == floats.data[0].embedding
    assert default.usage.prompt_tokens >= 1


def test_legacy_completions(openai_client: Any) -> None:
    done = openai_client.completions.create(model="gpt-3.5-turbo-instruct", prompt="hi")
    assert (done.id, done.choices[0].text) == ("cmpl-fake-1", TEXT)
    chunks = list(
        openai_client.completions.create(
            model="gpt-3.5-turbo-instruct", prompt="hi", stream=True, stream_options={"include_usage": True}
        )
    )
    assert "".join(c.choices[0].text for c in chunks if c.choices) == TEXT
    assert chunks[-1].usage.completion_tokens == 20


async def test_async_responses_stream(async_openai_client: Any) -> None:
    async with async_openai_client.responses.stream(model="gpt-4o", input="hi") as stream:
        final = await stream.get_final_response()
    assert final.output_text == TEXT
    embedded = await async_openai_client.embeddings.create(model="e", input="x")
    assert len(embedded.data) == 1
