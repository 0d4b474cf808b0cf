"""LLM-shaped spans built by hand with the attributes the provider modules emit
(OpenAI chat, Anthropic messages streamed, Gemini generate_content), for round trips."""

from __future__ import annotations

import json
from typing import Any

import tracekit
from tracekit import _attributes as attr

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather for a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        },
    }
]


def _usage(i: int, o: int) -> str:
    return json.dumps({"input_tokens": i, "output_tokens": o, "total_tokens": i + o})


def _llm(name: str, provider: str, fmt: str, model: str, inputs: Any, outputs: Any, usage: tuple[int, int], **extra: Any) -> None:
    attributes = {
        attr.MESSAGE_FORMAT: fmt,
        attr.LLM_MODEL: model,
        attr.LLM_PROVIDER: provider,
        attr.TOKEN_USAGE: _usage(*usage),
        attr.GEN_AI_OPERATION: "chat",
        attr.GEN_AI_PROVIDER: provider,
        attr.GEN_AI_SYSTEM: provider,
        attr.GEN_AI_REQUEST_MODEL: model,
        attr.GEN_AI_RESPONSE_MODEL: model,
        attr.GEN_AI_USAGE_INPUT: usage[0],
        attr.GEN_AI_USAGE_OUTPUT: usage[1],
        **extra,
    }
    with tracekit.start_span(name, span_type="CHAT_MODEL", inputs=inputs, attributes=attributes) as span:
        span.set_outputs(outputs)


def nested_trace() -> str:
    """An agent turn: CHAIN root > openai chat (tools) > TOOL > anthropic stream > gemini; returns the id."""
    question = "What is the weather in Paris?"
    with tracekit.start_span("answer", span_type="CHAIN", inputs={"question": question}) as root:
        tracekit.update_current_trace(
            tags={"team": "search", "release": "r42"},
            metadata={"app_version": "1.2.3"},
            session_id="session-7",
            user_id="user-42",
            name="weather-agent",
        )
        messages = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": question}]
        _llm(
            "openai.chat.completions.create",
            "openai",
            "openai",
            "gpt-4o-mini",
            {"model": "gpt-4o-mini", "messages": messages, "tools": TOOLS},
            {
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "model": "gpt-4o-mini",
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "tool_calls",
                        "message": {
                            "role": "assistant",
                            "content": None,
                            "tool_calls": [
                                {
                                    "id": "call_1",
                                    "type": "function",
                                    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                                }
                            ],
                        },
                    }
                ],
                "usage": {"prompt_tokens": 20, "completion_tokens": 5, "total_tokens": 25},
            },
            (20, 5),
            **{attr.CHAT_TOOLS: json.dumps(TOOLS), attr.GEN_AI_FINISH_REASONS: ["tool_calls"]},
        )
        with tracekit.start_span("get_weather", span_type="TOOL", inputs={"city": "Paris"}) as tool:
            tool.set_outputs({"temp_c": 18, "sky": "clear"})
        _llm(
            "anthropic.messages.stream",
            "anthropic",
            "anthropic",
            "claude-3-5-haiku-latest",
            {
                "model": "claude-3-5-haiku-latest",
                "max_tokens": 256,
                "system": "You are terse.",
                "messages": [{"role": "user", "content": question}],
            },
            {
                "id": "msg_1",
                "type": "message",
                "role": "assistant",
                "model": "claude-3-5-haiku-latest",
                "content": [{"type": "text", "text": "18°C and clear."}],
                "stop_reason": "end_turn",
                "usage": {"input_tokens": 30, "output_tokens": 7},
            },
            (30, 7),
            **{attr.STREAM: True, attr.STREAM_CHUNKS: 6, attr.STREAM_TTFT_MS: 12.5},
        )
        _llm(
            "gemini.models.generate_content",
            "gemini",
            "gemini",
            "gemini-2.0-flash",
            {"model": "gemini-2.0-flash", "contents": [{"role": "user", "parts": [{"text": question}]}]},
            {
                "candidates": [{"content": {"role": "model", "parts": [{"text": "Sunny, 18°C."}]}, "finish_reason": "STOP"}],
                "usage_metadata": {"prompt_token_count": 10, "candidates_token_count": 4, "total_token_count": 14},
            },
            (10, 4),
        )
        try:
            with tracekit.start_span("format", span_type="PARSER", inputs={"raw": "x"}):
                raise ValueError("bad format")
        except ValueError:
            pass
        root.set_outputs("It is 18°C and clear in Paris.")
    assert root.trace_id is not None
    return root.trace_id
