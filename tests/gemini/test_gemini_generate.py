"""models.generate_content (sync and client.aio): one CHAT_MODEL span holding the
request as sent and the response as received."""

from __future__ import annotations

from typing import Any

import pytest
from gemini_spans import (
    MODEL,
    PROMPT,
    TEXT,
    USER,
    WEATHER,
    WEATHER_OPENAI,
    attributes,
    dump,
    generate_attributes,
    only_span,
)
from google.genai import types

import tracekit
from tracekit.testing import SpanCapture
from tracekit.testing._fakeserver import FakeLLMServer


def test_text_reply_whole_span_literal(client: Any, server: FakeLLMServer, captured: SpanCapture) -> None:
    reply = client.models.generate_content(model=MODEL, contents=PROMPT)

    assert reply.text == TEXT
    span = only_span(captured)
    assert (span.name, span.span_type, span.status, span.parent_id) == (
        "generate_content gemini-2.5-flash",
        "CHAT_MODEL",
        "OK",
        None,
    )
    assert attributes(span) == {
        "mlflow.spanType": "CHAT_MODEL",
        "gen_ai.operation.name": "generate_content",
        "gen_ai.provider.name": "gcp.gemini",
        "gen_ai.system": "gemini",
        "mlflow.llm.provider": "gemini",
        "mlflow.message.format": "gemini",
        "mlflow.spanInputs": {"model": MODEL, "contents": [{"role": "user", "parts": [{"text": PROMPT}]}]},
        "mlflow.spanOutputs": {
            "candidates": [{"content": {"parts": [{"text": TEXT}], "role": "model"}, "finish_reason": "STOP", "index": 0}],
            "model_version": MODEL,
            "response_id": "fake-1",
            "usage_metadata": {
                "candidates_token_count": 20,
                "prompt_token_count": 3,
                "prompt_tokens_details": [{"modality": "TEXT", "token_count": 3}],
                "total_token_count": 23,
            },
        },
        "gen_ai.request.model": MODEL,
        "gen_ai.response.model": MODEL,
        "mlflow.llm.model": MODEL,
        "gen_ai.response.id": "fake-1",
        "gen_ai.response.finish_reasons": ["STOP"],
        "gen_ai.usage.input_tokens": 3,
        "gen_ai.usage.output_tokens": 20,
        "mlflow.chat.tokenUsage": {"input_tokens": 3, "output_tokens": 20, "total_tokens": 23},
        "server.address": "127.0.0.1",
        "server.port": server.port,
        "tracekit.base_url": server.url,
        "tracekit.gateway.path": "/",
    }
    assert span.events == []


def _config() -> types.GenerateContentConfig:
    return types.GenerateContentConfig(
        system_instruction="Answer briefly.",
        temperature=0.2,
        top_p=0.9,
        top_k=40,
        max_output_tokens=256,
        stop_sequences=["END"],
        seed=7,
        candidate_count=1,
        tools=[types.Tool(function_declarations=[WEATHER])],
        # a per-request header: never recorded
        http_options=types.HttpOptions(headers={"x-fake-scenario": "tool_call", "x-secret": "s3cr3t"}),
    )


_CONFIG_RECORDED = {
    "system_instruction": "Answer briefly.",
    "temperature": 0.2,
    "top_p": 0.9,
    "top_k": 40.0,
    "max_output_tokens": 256,
    "stop_sequences": ["END"],
    "seed": 7,
    "candidate_count": 1,
    "tools": [{"function_declarations": [WEATHER.model_dump(mode="json", exclude_none=True)]}],
}
_PARAMS = {
    "gen_ai.request.temperature": 0.2,
    "gen_ai.request.top_p": 0.9,
    "gen_ai.request.top_k": 40.0,
    "gen_ai.request.max_tokens": 256,
    "gen_ai.request.stop_sequences": ["END"],
    "gen_ai.request.seed": 7,
    "gen_ai.request.choice.count": 1,
}


def test_config_tools_and_function_call(client: Any, server: FakeLLMServer, captured: SpanCapture) -> None:
    reply = client.models.generate_content(model=MODEL, contents=USER, config=_config())

    assert reply.function_calls[0].name == "get_weather"
    span = only_span(captured)
    assert attributes(span) == generate_attributes(
        server,
        inputs={"model": MODEL, "contents": USER, "config": _CONFIG_RECORDED},
        response=dump(reply),
        tools=[WEATHER_OPENAI],
        params=_PARAMS,
    )
    assert "s3cr3t" not in str(span.attributes) and "gemini-test-key" not in str(span.attributes)
    assert server.last_request is not None and server.last_request.headers.get("x-secret") == "s3cr3t"


async def test_async_config_tools_and_function_call(aclient: Any, server: FakeLLMServer, captured: SpanCapture) -> None:
    reply = await aclient.models.generate_content(model=MODEL, contents=USER, config=_config())

    assert reply.function_calls[0].name == "get_weather"
    assert attributes(only_span(captured)) == generate_attributes(
        server,
        inputs={"model": MODEL, "contents": USER, "config": _CONFIG_RECORDED},
        response=dump(reply),
        tools=[WEATHER_OPENAI],
        params=_PARAMS,
    )


@pytest.mark.parametrize("scenario", ["text", "reasoning", "cached_usage", "model_mismatch", "tool_calls_2", "cutoff"])
async def test_async_scenarios(aclient: Any, server: FakeLLMServer, captured: SpanCapture, scenario: str) -> None:
    server.set_scenario(scenario)
    tools = types.GenerateContentConfig(tools=[types.Tool(function_declarations=[WEATHER])])
    config = tools if scenario == "tool_calls_2" else None
    reply = await aclient.models.generate_content(model=MODEL, contents=PROMPT, config=config)

    recorded_config = {"config": {"tools": _CONFIG_RECORDED["tools"]}} if config else {}
    expected = generate_attributes(
        server,
        inputs={"model": MODEL, "contents": USER, **recorded_config},
        response=dump(reply),
        tools=[WEATHER_OPENAI] if config else None,
    )
    assert attributes(only_span(captured)) == expected
    if scenario == "cached_usage":
        assert expected["mlflow.chat.tokenUsage"]["cache_read_input_tokens"] == 100
    if scenario == "reasoning":
        assert expected["mlflow.chat.tokenUsage"]["reasoning_tokens"] == 10
        assert expected["gen_ai.usage.output_tokens"] == 30  # 20 answer + 10 thinking
    if scenario == "model_mismatch":
        assert expected["gen_ai.response.model"] == f"{MODEL}-served"
    if scenario == "cutoff":
        assert expected["gen_ai.response.finish_reasons"] == ["MAX_TOKENS"]


def test_nests_under_the_current_span(client: Any, captured: SpanCapture) -> None:
    @tracekit.trace
    def answer(question: str) -> str:
        return str(client.models.generate_content(model=f"models/{MODEL}", contents=question).text)

    assert answer(PROMPT) == TEXT
    llm, root = captured.spans
    assert (root.name, llm.name, llm.parent_id, llm.trace_id) == (
        "answer",
        f"generate_content {MODEL}",
        root.span_id,
        root.trace_id,
    )
    # the requested model keeps what the app wrote in the inputs; the "models/" prefix is
    # dropped from the span name and gen_ai.request.model
    assert attributes(llm)["mlflow.spanInputs"]["model"] == f"models/{MODEL}"
    assert attributes(llm)["gen_ai.request.model"] == MODEL


def test_contents_shapes_are_recorded_as_sent(client: Any, server: FakeLLMServer, captured: SpanCapture) -> None:
    history = [
        types.UserContent(parts=[types.Part.from_text(text="What is 2+2?")]),
        {"role": "model", "parts": [{"text": "4"}]},
        "And 3+3?",
    ]
    client.models.generate_content(model=MODEL, contents=history)

    recorded = attributes(only_span(captured))["mlflow.spanInputs"]["contents"]
    assert recorded == [
        {"role": "user", "parts": [{"text": "What is 2+2?"}]},
        {"role": "model", "parts": [{"text": "4"}]},
        {"role": "user", "parts": [{"text": "And 3+3?"}]},
    ]
    assert server.last_request is not None
    assert server.last_request.json["contents"] == recorded
    assert len(history) == 3 and history[2] == "And 3+3?"  # the app's list is untouched
