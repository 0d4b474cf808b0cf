"""The GenAI and OpenInference attributes derived for OTLP backends, from real SDK calls.

Each test drives a real SDK client against the fake LLM server, captures the span
tracekit recorded, and checks what the OTLP exporter would add: every message list
against the shape of the OpenTelemetry GenAI JSON schemas (gen-ai-input-messages.json,
gen-ai-output-messages.json, gen-ai-system-instructions.json), and the exact values.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

import anthropic
import openai
import pytest
from google import genai
from google.genai import types

import tracekit
from tracekit._export._semconv import parse_families, semconv_attributes
from tracekit.testing import FakeLLMServer, SpanCapture

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather in a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
]
ROLES = {"system", "user", "assistant", "tool"}
FINISH = {"stop", "length", "content_filter", "tool_call", "error"}


def _check_part(part: Mapping[str, Any]) -> None:
    """The schema's part rules: every part has a type; text has content; a tool call a
    name; a tool response a response."""
    assert isinstance(part.get("type"), str), part
    if part["type"] == "text":
        assert isinstance(part.get("content"), str), part
    elif part["type"] == "tool_call":
        assert isinstance(part.get("name"), str), part
        assert part.get("id") is None or isinstance(part["id"], str)
    elif part["type"] == "tool_call_response":
        assert "response" in part, part


def check_messages(text: str, *, output: bool = False) -> list[dict[str, Any]]:
    messages = json.loads(text)
    assert isinstance(messages, list) and messages
    for message in messages:
        assert message["role"] in ROLES, message
        assert isinstance(message["parts"], list)
        for part in message["parts"]:
            _check_part(part)
        if output:
            assert message["finish_reason"] in FINISH, message
    return messages


@pytest.fixture(autouse=True)
def _autolog() -> Iterator[None]:
    tracekit.autolog()
    yield
    tracekit.autolog(disable=True)


def _only_llm_span(captured: SpanCapture) -> dict[str, Any]:
    (span,) = [s for s in captured.readable_spans if (s.attributes or {}).get("mlflow.spanType") == "CHAT_MODEL"]
    return dict(span.attributes or {})


def test_openai_chat_with_tools(server: FakeLLMServer, captured: SpanCapture) -> None:
    server.set_scenario("tool_call")
    client = openai.OpenAI(base_url=server.openai_base_url, api_key="k", max_retries=0)
    client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Weather in Oslo?"},
            {
                "role": "assistant",
                "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Oslo"}'}}
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "4C"},
        ],
        tools=TOOLS,  # type: ignore[arg-type]
        temperature=0.2,
    )
    extra = semconv_attributes(_only_llm_span(captured))
    assert check_messages(extra["gen_ai.input.messages"]) == [
        {"role": "system", "parts": [{"type": "text", "content": "Be brief."}]},
        {"role": "user", "parts": [{"type": "text", "content": "Weather in Oslo?"}]},
        {"role": "assistant", "parts": [{"type": "tool_call", "id": "c1", "name": "get_weather", "arguments": {"city": "Oslo"}}]},
        {"role": "tool", "parts": [{"type": "tool_call_response", "id": "c1", "response": "4C"}]},
    ]
    (out,) = check_messages(extra["gen_ai.output.messages"], output=True)
    assert out["finish_reason"] == "tool_call"
    assert out["parts"][0]["type"] == "tool_call" and out["parts"][0]["name"] == "get_weather"
    assert json.loads(extra["gen_ai.tool.definitions"]) == [{"type": "function", **TOOLS[0]["function"]}]  # type: ignore[dict-item]
    assert "gen_ai.system_instructions" not in extra  # OpenAI's system message is part of the chat history
    # OpenInference
    assert extra["openinference.span.kind"] == "LLM"
    assert extra["llm.model_name"] == "gpt-4o-mini"
    assert (extra["llm.provider"], extra["llm.system"]) == ("openai", "openai")
    assert extra["llm.input_messages.0.message.role"] == "system"
    assert extra["llm.input_messages.0.message.content"] == "Be brief."
    assert extra["llm.input_messages.2.message.tool_calls.0.tool_call.function.name"] == "get_weather"
    assert json.loads(extra["llm.input_messages.2.message.tool_calls.0.tool_call.function.arguments"]) == {"city": "Oslo"}
    assert extra["llm.input_messages.3.message.role"] == "tool"
    assert extra["llm.input_messages.3.message.tool_call_id"] == "c1"
    assert extra["llm.output_messages.0.message.tool_calls.0.tool_call.function.name"] == "get_weather"
    assert json.loads(extra["llm.invocation_parameters"]) == {"temperature": 0.2}
    assert json.loads(extra["llm.tools.0.tool.json_schema"]) == TOOLS[0]
    assert extra["llm.token_count.prompt"] > 0 and extra["llm.token_count.completion"] > 0
    assert extra["llm.token_count.total"] == extra["llm.token_count.prompt"] + extra["llm.token_count.completion"]
    assert extra["input.mime_type"] == extra["output.mime_type"] == "application/json"
    assert json.loads(extra["input.value"])["messages"][1]["content"] == "Weather in Oslo?"


def test_openai_stream_accumulated_text(server: FakeLLMServer, captured: SpanCapture) -> None:
    client = openai.OpenAI(base_url=server.openai_base_url, api_key="k", max_retries=0)
    text = "".join(
        chunk.choices[0].delta.content or ""
        for chunk in client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}], stream=True)
        if chunk.choices
    )
    extra = semconv_attributes(_only_llm_span(captured))
    (out,) = check_messages(extra["gen_ai.output.messages"], output=True)
    assert out == {"role": "assistant", "parts": [{"type": "text", "content": text}], "finish_reason": "stop"}
    assert extra["llm.output_messages.0.message.content"] == text


def test_openai_responses_instructions(server: FakeLLMServer, captured: SpanCapture) -> None:
    client = openai.OpenAI(base_url=server.openai_base_url, api_key="k", max_retries=0)
    response = client.responses.create(model="m", input="hello", instructions="Answer in French.")
    extra = semconv_attributes(_only_llm_span(captured))
    assert json.loads(extra["gen_ai.system_instructions"]) == [{"type": "text", "content": "Answer in French."}]
    assert check_messages(extra["gen_ai.input.messages"]) == [{"role": "user", "parts": [{"type": "text", "content": "hello"}]}]
    (out,) = check_messages(extra["gen_ai.output.messages"], output=True)
    assert out["parts"] == [{"type": "text", "content": response.output_text}]
    assert extra["llm.input_messages.0.message.role"] == "system"  # OpenInference puts instructions first


def test_anthropic_tool_round_trip(server: FakeLLMServer, captured: SpanCapture) -> None:
    server.set_scenario("tool_call")
    client = anthropic.Anthropic(base_url=server.anthropic_base_url, api_key="k", max_retries=0)
    client.messages.create(
        model="claude-fake",
        max_tokens=64,
        system=[{"type": "text", "text": "Be brief."}],
        messages=[
            {"role": "user", "content": "Weather?"},
            {
                "role": "assistant",
                "content": [{"type": "tool_use", "id": "t1", "name": "get_weather", "input": {"city": "Oslo"}}],
            },
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": "t1", "content": [{"type": "text", "text": "4C"}]}],
            },
        ],
        tools=[{"name": "get_weather", "description": "Weather in a city", "input_schema": {"type": "object"}}],
    )
    extra = semconv_attributes(_only_llm_span(captured))
    assert json.loads(extra["gen_ai.system_instructions"]) == [{"type": "text", "content": "Be brief."}]
    assert check_messages(extra["gen_ai.input.messages"])[1:] == [
        {"role": "assistant", "parts": [{"type": "tool_call", "id": "t1", "name": "get_weather", "arguments": {"city": "Oslo"}}]},
        {"role": "tool", "parts": [{"type": "tool_call_response", "id": "t1", "response": "4C"}]},
    ]
    (out,) = check_messages(extra["gen_ai.output.messages"], output=True)
    assert out["finish_reason"] == "tool_call" and out["parts"][0]["name"] == "get_weather"
    assert (extra["llm.provider"], extra["llm.system"]) == ("anthropic", "anthropic")
    assert extra["llm.input_messages.0.message.content"] == "Be brief."
    assert extra["llm.input_messages.3.message.tool_call_id"] == "t1"
    assert json.loads(extra["llm.tools.0.tool.json_schema"])["function"]["name"] == "get_weather"


def test_gemini_system_and_function_call(server: FakeLLMServer, captured: SpanCapture) -> None:
    server.set_scenario("tool_call")
    client = genai.Client(api_key="k", http_options=types.HttpOptions(base_url=server.gemini_base_url))
    client.models.generate_content(
        model="gemini-2.5-flash",
        contents=[
            types.Content(role="user", parts=[types.Part(text="Weather?")]),
            types.Content(
                role="model", parts=[types.Part(function_call=types.FunctionCall(name="get_weather", args={"city": "Oslo"}))]
            ),
            types.Content(
                role="user", parts=[types.Part(function_response=types.FunctionResponse(name="get_weather", response={"t": 4}))]
            ),
        ],
        config=types.GenerateContentConfig(
            system_instruction="Be brief.",
            temperature=0.1,
            tools=[types.Tool(function_declarations=[types.FunctionDeclaration(name="get_weather", description="d")])],
            automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
        ),
    )
    extra = semconv_attributes(_only_llm_span(captured))
    assert json.loads(extra["gen_ai.system_instructions"]) == [{"type": "text", "content": "Be brief."}]
    messages = check_messages(extra["gen_ai.input.messages"])
    assert [m["role"] for m in messages] == ["user", "assistant", "tool"]
    assert messages[1]["parts"][0] == {"type": "tool_call", "id": None, "name": "get_weather", "arguments": {"city": "Oslo"}}
    assert messages[2]["parts"][0]["response"] == {"t": 4}
    (out,) = check_messages(extra["gen_ai.output.messages"], output=True)
    assert out["parts"][0]["type"] == "tool_call"
    assert (extra["llm.provider"], extra["llm.system"]) == ("google", "vertexai")
    assert json.loads(extra["llm.invocation_parameters"])["temperature"] == 0.1


def test_failed_call_keeps_its_inputs(server: FakeLLMServer, captured: SpanCapture) -> None:
    server.set_scenario("error_500")
    client = openai.OpenAI(base_url=server.openai_base_url, api_key="k", max_retries=0)
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
    extra = semconv_attributes(_only_llm_span(captured))
    assert check_messages(extra["gen_ai.input.messages"]) == [{"role": "user", "parts": [{"type": "text", "content": "hi"}]}]
    assert "gen_ai.output.messages" not in extra and "llm.output_messages.0.message.role" not in extra
    assert extra["llm.input_messages.0.message.content"] == "hi"


def test_content_capture_off_emits_no_content(server: FakeLLMServer, captured: SpanCapture) -> None:
    tracekit.configure(capture_content=False)
    client = openai.OpenAI(base_url=server.openai_base_url, api_key="k", max_retries=0)
    client.chat.completions.create(model="m", messages=[{"role": "user", "content": "secret plan"}])
    extra = semconv_attributes(_only_llm_span(captured))
    assert "secret plan" not in json.dumps(extra)
    assert not any(k.startswith(("gen_ai.input", "gen_ai.output", "llm.input_messages", "input.value")) for k in extra)
    assert extra["openinference.span.kind"] == "LLM" and extra["llm.token_count.prompt"] > 0


def test_traced_function_is_a_chain_with_input_and_output(captured: SpanCapture) -> None:
    @tracekit.trace
    def answer(question: str) -> str:
        return "42"

    answer("why?")
    (span,) = captured.readable_spans
    extra = semconv_attributes(dict(span.attributes or {}))
    assert extra["openinference.span.kind"] == "CHAIN"
    assert json.loads(extra["input.value"]) == {"question": "why?"}
    assert extra["output.value"] == '"42"' and extra["output.mime_type"] == "application/json"
    assert not any(k.startswith(("gen_ai.", "llm.")) for k in extra)


def test_truncated_payloads_are_sent_as_text() -> None:
    attributes = {"mlflow.spanType": "CHAT_MODEL", "mlflow.message.format": "openai", "mlflow.spanInputs": '{"messages": [{"ro'}
    extra = semconv_attributes(attributes)
    assert extra["input.mime_type"] == "text/plain" and "gen_ai.input.messages" not in extra


def test_families_and_existing_keys() -> None:
    attributes = {"mlflow.spanType": "TOOL", "mlflow.spanInputs": "{}", "openinference.span.kind": "AGENT"}
    assert "openinference.span.kind" not in semconv_attributes(attributes)  # what the span has wins
    assert semconv_attributes(attributes, ()) == {}
    assert parse_families(None) == ("genai", "openinference")
    assert parse_families("none") == ()
    assert parse_families(" OpenInference ") == ("openinference",)
    with pytest.raises(ValueError, match="TRACEKIT_OTLP_ATTRIBUTES"):
        parse_families("genai,zipkin")
