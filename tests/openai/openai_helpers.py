"""Helpers shared by the OpenAI autolog tests (expected attributes, scenario headers)."""

from __future__ import annotations

import json
from typing import Any

from tracekit import _attributes as attr
from tracekit._model import SpanData
from tracekit.testing import SpanCapture
from tracekit.testing._fakeserver import FakeLLMServer

MODEL = "gpt-4o-mini"
MESSAGES = [{"role": "user", "content": "What is the weather in Paris?"}]
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather of a city",
            "parameters": {
                "type": "object",
                "properties": {"location": {"type": "string"}},
                "required": ["location"],
            },
        },
    }
]
TEXT = "Hello! This is the fake LLM server."


def scenario(name: str, chunks: int | None = None) -> dict[str, Any]:
    """``extra_headers`` choosing a fake-server scenario (never recorded on the span)."""
    headers = {"x-fake-scenario": name}
    if chunks is not None:
        headers["x-fake-chunks"] = str(chunks)
    return {"extra_headers": headers}


def only_span(captured: SpanCapture) -> SpanData:
    """The one span of the test (exactly one must have ended)."""
    spans = captured.spans
    assert len(spans) == 1, [s.name for s in spans]
    return spans[0]


#: facts of the HTTP exchange every response carries (the fake server's request id, an
#: error's body): checked for form here, for value in tests/openai/test_openai_gateway.py
_TRANSPORT = frozenset({attr.REQUEST_ID, attr.ERROR_BODY})


def attrs(span: SpanData) -> dict[str, Any]:
    """The span's attributes with JSON ones decoded, inputs/outputs left out."""
    out: dict[str, Any] = {}
    for key, value in span.attributes.items():
        if key in (attr.SPAN_INPUTS, attr.SPAN_OUTPUTS):
            continue
        if key in _TRANSPORT:
            assert isinstance(value, str) and value, (key, value)  # asserted in test_openai_gateway.py
            continue
        if key in (attr.TOKEN_USAGE, attr.CHAT_TOOLS):
            value = json.loads(value)
        elif isinstance(value, tuple):
            value = list(value)
        out[key] = value
    return out


def base_attrs(
    server: FakeLLMServer,
    *,
    model: str = MODEL,
    operation: str = "chat",
    span_type: str = "CHAT_MODEL",
    message_format: bool = True,
) -> dict[str, Any]:
    """Attributes every OpenAI span of a call to ``model`` on the fake server carries."""
    values: dict[str, Any] = {
        attr.SPAN_TYPE: span_type,
        attr.GEN_AI_OPERATION: operation,
        attr.GEN_AI_PROVIDER: "openai",
        attr.GEN_AI_SYSTEM: "openai",
        attr.LLM_PROVIDER: "openai",
        attr.SERVER_ADDRESS: "127.0.0.1",
        attr.SERVER_PORT: server.port,
        attr.BASE_URL: server.openai_base_url,
        attr.GATEWAY_PATH: "/v1",
        attr.GEN_AI_REQUEST_MODEL: model,
        attr.GEN_AI_RESPONSE_MODEL: model,
        attr.LLM_MODEL: model,
    }
    if message_format:
        values[attr.MESSAGE_FORMAT] = "openai"
    return values


def stream_attrs(chunks: int, reason: str = "exhausted") -> dict[str, Any]:
    values: dict[str, Any] = {attr.STREAM: True, attr.STREAM_CHUNKS: chunks, attr.STREAM_END_REASON: reason}
    if reason != "exhausted":
        values[attr.STREAM_INCOMPLETE] = True
    return values


def usage_attrs(input_tokens: int, output_tokens: int, **extra: int) -> dict[str, Any]:
    usage = {"input_tokens": input_tokens, "output_tokens": output_tokens, "total_tokens": input_tokens + output_tokens}
    usage.update(extra)
    values: dict[str, Any] = {
        attr.TOKEN_USAGE: usage,
        attr.GEN_AI_USAGE_INPUT: input_tokens,
        attr.GEN_AI_USAGE_OUTPUT: output_tokens,
    }
    gen_ai = {
        "cache_read_input_tokens": attr.GEN_AI_USAGE_CACHE_READ,
        "cache_creation_input_tokens": attr.GEN_AI_USAGE_CACHE_CREATION,
        "reasoning_tokens": attr.GEN_AI_USAGE_REASONING,
    }
    for key, value in extra.items():
        values[gen_ai[key]] = value
    return values


def without_timing(values: dict[str, Any]) -> dict[str, Any]:
    """Attributes minus the time to first token (asserted separately: it varies)."""
    return {k: v for k, v in values.items() if k != attr.STREAM_TTFT_MS}
