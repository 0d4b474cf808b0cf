"""Shared data and whole-span helpers of the gemini provider tests."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from google import genai
from google.genai import types

from tracekit.testing import SpanCapture
from tracekit.testing._fakeserver import FakeLLMServer

MODEL = "gemini-2.5-flash"
EMBED_MODEL = "text-embedding-004"
TEXT = "Hello! This is the fake LLM server."
PROMPT = "Hello there"
USER = [{"role": "user", "parts": [{"text": PROMPT}]}]
WEATHER = types.FunctionDeclaration(
    name="get_weather",
    description="Current weather in a city",
    parameters_json_schema={
        "type": "object",
        "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["c", "f"]}},
        "required": ["city", "unit"],
    },
)
WEATHER_OPENAI = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather in a city",
        "parameters": WEATHER.parameters_json_schema,
    },
}

#: attributes holding JSON text, decoded before comparing
_JSON_KEYS = ("mlflow.spanInputs", "mlflow.spanOutputs", "mlflow.chat.tools", "mlflow.chat.tokenUsage")
_TTFT = "tracekit.stream.time_to_first_token_ms"


def make_client(
    server: FakeLLMServer, *, base_path: str = "", api_version: str = "v1beta", scenario: str | None = None
) -> genai.Client:
    """A client on the fake server; ``scenario`` goes in a header (never recorded)."""
    headers = {"x-fake-scenario": scenario} if scenario else None
    return genai.Client(
        api_key="gemini-test-key",
        http_options=types.HttpOptions(base_url=server.url_for(base_path), api_version=api_version, headers=headers),
    )


def only_span(captured: SpanCapture) -> Any:
    """The one span the test made (fails on zero or several)."""
    spans = captured.spans
    assert len(spans) == 1, [s.name for s in spans]
    return spans[0]


async def settle(captured: SpanCapture, count: int) -> None:
    """Let the event loop run until ``count`` spans ended: google-genai closes the
    inner generator of an abandoned async stream through the loop's async-generator
    finalizer, a few loop iterations later."""
    for _ in range(50):
        if len(captured.spans) >= count:
            return
        await asyncio.sleep(0.001)


def attributes(span: Any) -> dict[str, Any]:
    """The span's attributes with JSON values decoded; the time to first token (which
    varies) is checked for sanity and removed."""
    values = dict(span.attributes)
    for key in ("tracekit.request_id", "tracekit.error.body"):
        # facts of the HTTP exchange (the fake server's request id, an error's body):
        # checked for form here, for value in tests/gemini/test_gemini_gateway.py
        if key in values:
            assert isinstance(values.pop(key), str)
    for key in _JSON_KEYS:
        if key in values:
            values[key] = json.loads(values[key])
    if _TTFT in values:
        assert isinstance(values.pop(_TTFT), float)
    return values


def dump(response: Any) -> Any:
    """A response as tracekit records it: the SDK's JSON, without HTTP headers and the
    client-side function-calling history."""
    data = response.model_dump(
        mode="json", exclude_none=True, exclude={"sdk_http_response", "automatic_function_calling_history"}
    )
    return json.loads(json.dumps(data))


def usage(
    input_tokens: int,
    output_tokens: int,
    total: int | None = None,
    *,
    cache_read: int | None = None,
    reasoning: int | None = None,
) -> dict[str, Any]:
    """The usage attributes for these counts."""
    token_usage: dict[str, int] = {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "total_tokens": input_tokens + output_tokens if total is None else total,
    }
    values: dict[str, Any] = {
        "gen_ai.usage.input_tokens": input_tokens,
        "gen_ai.usage.output_tokens": output_tokens,
    }
    if cache_read is not None:
        token_usage["cache_read_input_tokens"] = cache_read
        values["gen_ai.usage.cache_read.input_tokens"] = cache_read
    if reasoning is not None:
        token_usage["reasoning_tokens"] = reasoning
        values["gen_ai.usage.reasoning.output_tokens"] = reasoning
    values["mlflow.chat.tokenUsage"] = token_usage
    return values


def usage_of(response: dict[str, Any]) -> dict[str, Any]:
    """Usage attributes of a recorded response: input = prompt (+ tool-use prompt),
    output = candidates + thoughts, total as reported."""
    meta = response.get("usage_metadata") or {}
    return usage(
        meta.get("prompt_token_count", 0) + meta.get("tool_use_prompt_token_count", 0),
        meta.get("candidates_token_count", 0) + meta.get("thoughts_token_count", 0),
        meta.get("total_token_count"),
        cache_read=meta.get("cached_content_token_count"),
        reasoning=meta.get("thoughts_token_count"),
    )


def server_attributes(server: FakeLLMServer, base_path: str = "") -> dict[str, Any]:
    return {
        "server.address": "127.0.0.1",
        "server.port": server.port,
        "tracekit.base_url": server.url_for(base_path),
        "tracekit.gateway.path": base_path or "/",
    }


def generate_attributes(
    server: FakeLLMServer,
    *,
    inputs: dict[str, Any],
    response: dict[str, Any] | None,
    model: str = MODEL,
    tools: list[dict[str, Any]] | None = None,
    params: dict[str, Any] | None = None,
    stream: bool = False,
    chunks: int | None = None,
    end_reason: str | None = None,
    base_path: str = "",
) -> dict[str, Any]:
    """Every attribute of a generate_content span, from what the app sent (``inputs``)
    and the response it got (``response``: as :func:`dump` gives it)."""
    expected: dict[str, Any] = {
        "mlflow.spanType": "CHAT_MODEL",
        "gen_ai.operation.name": "generate_content",
        "gen_ai.provider.name": "gcp.gemini",
        "gen_ai.system": "gemini",
        "mlflow.llm.provider": "gemini",
        "mlflow.message.format": "gemini",
        "mlflow.spanInputs": inputs,
        "gen_ai.request.model": model,
        "mlflow.llm.model": model,
        **server_attributes(server, base_path),
        **(params or {}),
    }
    if tools:
        expected["mlflow.chat.tools"] = tools
    if stream:
        expected["tracekit.stream"] = True
        expected["tracekit.stream.chunks"] = chunks
        expected["tracekit.stream.end_reason"] = end_reason or "exhausted"
        if end_reason not in (None, "exhausted"):
            expected["tracekit.stream.incomplete"] = True
    if response is not None:
        expected["mlflow.spanOutputs"] = response
        if response.get("model_version"):
            expected["gen_ai.response.model"] = response["model_version"]
            expected["mlflow.llm.model"] = response["model_version"]
        if response.get("response_id"):
            expected["gen_ai.response.id"] = response["response_id"]
        reasons = [c["finish_reason"] for c in response.get("candidates", []) if "finish_reason" in c]
        block = (response.get("prompt_feedback") or {}).get("block_reason")
        if block:
            expected["tracekit.gemini.block_reason"] = block
            reasons = reasons or [block]
        if reasons:
            expected["gen_ai.response.finish_reasons"] = reasons
        if response.get("usage_metadata"):
            expected.update(usage_of(response))
    return expected


def error_attributes(status: int, error_type: str) -> dict[str, Any]:
    return {"error.type": error_type, "http.response.status_code": status}


def text_of(response: dict[str, Any]) -> str:
    """The answer text of a recorded response (thoughts excluded)."""
    parts = response["candidates"][0].get("content", {}).get("parts", [])
    return "".join(p.get("text", "") for p in parts if not p.get("thought"))


def function_calls(response: dict[str, Any]) -> list[dict[str, Any]]:
    parts = response["candidates"][0].get("content", {}).get("parts", [])
    return [p["function_call"] for p in parts if "function_call" in p]
