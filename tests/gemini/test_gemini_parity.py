"""Parity: for the same scenario, the streamed span records the same response as the
non-streamed one (text, function calls, finish reason, usage, served model)."""

from __future__ import annotations

from typing import Any

import pydantic
import pytest
from gemini_spans import MODEL, PROMPT, WEATHER, attributes, function_calls, text_of
from google.genai import types

from tracekit.testing import SpanCapture
from tracekit.testing._fakeserver import FakeLLMServer

_RESPONSE_KEYS = (
    "mlflow.spanOutputs",
    "mlflow.chat.tokenUsage",
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.output_tokens",
    "gen_ai.usage.cache_read.input_tokens",
    "gen_ai.usage.reasoning.output_tokens",
    "gen_ai.response.finish_reasons",
    "gen_ai.response.model",
    "mlflow.llm.model",
    "tracekit.gemini.block_reason",
)
_SCENARIOS = [
    "text",
    "tool_call",
    "tool_calls_2",
    "reasoning",
    "cached_usage",
    "model_mismatch",
    "safety_block",
    "safety_block_response",
]


def _response_view(span: Any) -> dict[str, Any]:
    values = attributes(span)
    view = {key: values.get(key) for key in _RESPONSE_KEYS}
    view["mlflow.spanOutputs"] = dict(view["mlflow.spanOutputs"])
    view["mlflow.spanOutputs"].pop("response_id")  # one id per request
    return view


def _config(scenario: str) -> types.GenerateContentConfig | None:
    if scenario.startswith("tool_call"):
        return types.GenerateContentConfig(tools=[types.Tool(function_declarations=[WEATHER])])
    return None


@pytest.mark.parametrize("scenario", _SCENARIOS)
def test_sync_parity(client: Any, server: FakeLLMServer, captured: SpanCapture, scenario: str) -> None:
    server.set_scenario(scenario)
    client.models.generate_content(model=MODEL, contents=PROMPT, config=_config(scenario))
    list(client.models.generate_content_stream(model=MODEL, contents=PROMPT, config=_config(scenario)))

    plain, streamed = captured.spans
    assert _response_view(streamed) == _response_view(plain)
    outputs = attributes(plain)["mlflow.spanOutputs"]
    if scenario == "text":
        assert text_of(outputs) == "Hello! This is the fake LLM server."
    if scenario.startswith("tool_call"):
        assert [call["name"] for call in function_calls(outputs)] == ["get_weather"] * (2 if scenario == "tool_calls_2" else 1)


@pytest.mark.parametrize("scenario", ["text", "tool_call", "reasoning"])
async def test_async_parity(aclient: Any, server: FakeLLMServer, captured: SpanCapture, scenario: str) -> None:
    server.set_scenario(scenario)
    await aclient.models.generate_content(model=MODEL, contents=PROMPT, config=_config(scenario))
    async for _ in await aclient.models.generate_content_stream(model=MODEL, contents=PROMPT, config=_config(scenario)):
        pass

    plain, streamed = captured.spans
    assert _response_view(streamed) == _response_view(plain)


class City(pydantic.BaseModel):
    name: str
    population: int


def test_structured_output_parity(client: Any, server: FakeLLMServer, captured: SpanCapture) -> None:
    config = types.GenerateContentConfig(response_mime_type="application/json", response_schema=City)
    reply = client.models.generate_content(model=MODEL, contents=PROMPT, config=config)
    list(client.models.generate_content_stream(model=MODEL, contents=PROMPT, config=config))

    plain, streamed = captured.spans
    assert _response_view(streamed) == _response_view(plain)
    assert _response_view(plain)["mlflow.spanOutputs"]["parsed"] == reply.parsed.model_dump()
    recorded = attributes(plain)
    assert recorded["mlflow.spanInputs"]["config"]["response_schema"] == City.model_json_schema()
    assert recorded["gen_ai.output.type"] == "json"
