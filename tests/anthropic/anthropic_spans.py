"""Shared data and whole-span helpers of the anthropic provider tests."""

from __future__ import annotations

import json
from typing import Any

from tracekit.testing import SpanCapture
from tracekit.testing._fakeserver import FakeLLMServer

MODEL = "claude-haiku-4-5"
USER = [{"role": "user", "content": "Hello there"}]
WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Current weather in a city",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["c", "f"]}},
        "required": ["city", "unit"],
    },
}
WEATHER_TOOL_OPENAI = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather in a city",
        "parameters": WEATHER_TOOL["input_schema"],
    },
}

#: attributes holding JSON text, decoded before comparing
_JSON_KEYS = ("mlflow.spanInputs", "mlflow.spanOutputs", "mlflow.chat.tools", "mlflow.chat.tokenUsage")
_TTFT = "tracekit.stream.time_to_first_token_ms"


def scenario(name: str) -> dict[str, Any]:
    """``extra_headers`` choosing a fake-server scenario (never recorded in the span)."""
    return {"extra_headers": {"x-fake-scenario": name}}


def only_span(captured: SpanCapture) -> Any:
    """The one span the test made (fails on zero or several)."""
    spans = captured.spans
    assert len(spans) == 1, [s.name for s in spans]
    return spans[0]


def attributes(span: Any) -> dict[str, Any]:
    """The span's attributes with JSON values decoded; the time to first token (which
    varies) is checked for sanity and removed."""
    values = dict(span.attributes)
    for key in ("tracekit.request_id", "tracekit.error.body"):
        # facts of the HTTP exchange (the fake server's request id, an error's body):
        # checked for form here, for value in tests/anthropic/test_anthropic_gateway.py
        if key in values:
            assert isinstance(values.pop(key), str)
    for key in _JSON_KEYS:
        if key in values:
            values[key] = json.loads(values[key])
    if _TTFT in values:
        assert isinstance(values.pop(_TTFT), float)
    return values


def dump(message: Any) -> Any:
    """A response object as tracekit records it (the SDK model's JSON)."""
    return json.loads(json.dumps(message.model_dump(mode="json")))


def chat_attributes(
    server: FakeLLMServer,
    *,
    inputs: dict[str, Any],
    message: dict[str, Any] | None,
    tools: list[dict[str, Any]] | None = None,
    stream: bool = False,
    chunks: int | None = None,
    end_reason: str | None = None,
    base_path: str = "",
) -> dict[str, Any]:
    """Every attribute of a successful (or cut-short) chat span, derived from what the
    app sent (``inputs``) and what it got (``message``: the Message as JSON)."""
    expected: dict[str, Any] = {
        "mlflow.spanType": "CHAT_MODEL",
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "anthropic",
        "gen_ai.system": "anthropic",
        "mlflow.llm.provider": "anthropic",
        "mlflow.message.format": "anthropic",
        "mlflow.spanInputs": inputs,
        "gen_ai.request.model": inputs["model"],
        "mlflow.llm.model": inputs["model"],
        "server.address": "127.0.0.1",
        "server.port": server.port,
        "tracekit.base_url": server.url + base_path,
        "tracekit.gateway.path": base_path or "/",
    }
    if "max_tokens" in inputs:
        expected["gen_ai.request.max_tokens"] = inputs["max_tokens"]
    for key in ("temperature", "top_p", "top_k"):
        if key in inputs:
            expected[f"gen_ai.request.{key}"] = inputs[key]
    if "stop_sequences" in inputs:
        expected["gen_ai.request.stop_sequences"] = list(inputs["stop_sequences"])
    if tools:
        expected["mlflow.chat.tools"] = tools
    if stream:
        expected["tracekit.stream"] = True
        expected["tracekit.stream.end_reason"] = end_reason or "exhausted"
        if chunks is not None:
            expected["tracekit.stream.chunks"] = chunks
        if end_reason not in (None, "exhausted"):
            expected["tracekit.stream.incomplete"] = True
    if message is not None:
        expected["mlflow.spanOutputs"] = message
        expected["gen_ai.response.model"] = message["model"]
        expected["mlflow.llm.model"] = message["model"]
        expected["gen_ai.response.id"] = message["id"]
        if message.get("stop_reason"):
            expected["gen_ai.response.finish_reasons"] = [message["stop_reason"]]
        usage = message["usage"]
        read, created = usage.get("cache_read_input_tokens"), usage.get("cache_creation_input_tokens")
        prompt = usage["input_tokens"] + (read or 0) + (created or 0)
        token_usage = {
            "input_tokens": prompt,
            "output_tokens": usage["output_tokens"],
            "total_tokens": prompt + usage["output_tokens"],
        }
        expected["gen_ai.usage.input_tokens"] = prompt
        expected["gen_ai.usage.output_tokens"] = usage["output_tokens"]
        if read is not None:
            token_usage["cache_read_input_tokens"] = read
            expected["gen_ai.usage.cache_read.input_tokens"] = read
        if created is not None:
            token_usage["cache_creation_input_tokens"] = created
            expected["gen_ai.usage.cache_creation.input_tokens"] = created
        expected["mlflow.chat.tokenUsage"] = token_usage
    return expected


def error_attributes(
    server: FakeLLMServer, *, inputs: dict[str, Any], status: int, error_type: str, stream: bool = False
) -> dict[str, Any]:
    """Every attribute of a span whose request failed before any stream existed."""
    expected = chat_attributes(server, inputs=inputs, message=None)
    if stream:
        expected["tracekit.stream"] = True
    expected["error.type"] = error_type
    expected["http.response.status_code"] = status
    return expected


def exception_event(span: Any) -> dict[str, Any]:
    events = [e for e in span.events if e["name"] == "exception"]
    assert len(events) == 1, span.events
    return dict(events[0]["attributes"])
