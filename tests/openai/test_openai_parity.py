"""Parity: for the same scenario a streamed call's span carries the same content as the
non-streamed call's span -- text, refusal, tool calls, finish reason, usage, served model."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from openai import OpenAI
from openai_helpers import MESSAGES, MODEL, TOOLS, only_span, scenario

from tracekit import _attributes as attr
from tracekit._model import SpanData
from tracekit.testing import SpanCapture

SCENARIOS = ["text", "tool_call", "tool_calls_2", "refusal", "cached_usage", "reasoning", "model_mismatch"]
_PER_CALL_IDS = re.compile(r"(chatcmpl-fake-|call_fake_|resp_fake_|msg_fake_|fc_fake_|rs_fake_)\d+")


def chat_content(span: SpanData) -> dict[str, Any]:
    choice = span.outputs["choices"][0]
    message = choice["message"]
    return {
        "content": message.get("content"),
        "refusal": message.get("refusal"),
        "tool_calls": [
            {"id": _PER_CALL_IDS.sub(r"\1N", c["id"]), "type": c["type"], "function": c["function"]}
            for c in message.get("tool_calls") or []
        ],
        "finish_reason": choice["finish_reason"],
        "model": span.outputs["model"],
        "usage": span.outputs["usage"],
    }


def facts(span: SpanData) -> dict[str, Any]:
    keys = (
        attr.TOKEN_USAGE,
        attr.GEN_AI_FINISH_REASONS,
        attr.LLM_MODEL,
        attr.GEN_AI_RESPONSE_MODEL,
        attr.GEN_AI_REQUEST_MODEL,
        attr.GEN_AI_USAGE_INPUT,
        attr.GEN_AI_USAGE_OUTPUT,
        attr.GEN_AI_USAGE_REASONING,
        attr.GEN_AI_USAGE_CACHE_READ,
        attr.CHAT_TOOLS,
        attr.MESSAGE_FORMAT,
        attr.GEN_AI_OUTPUT_TYPE,
    )
    return {k: span.attributes.get(k) for k in keys}


@pytest.mark.parametrize("name", SCENARIOS)
def test_chat_stream_equals_non_stream(client: OpenAI, captured: SpanCapture, name: str) -> None:
    client.chat.completions.create(model=MODEL, messages=MESSAGES, tools=TOOLS, **scenario(name))
    plain = only_span(captured)
    captured.clear()
    for _ in client.chat.completions.create(
        model=MODEL, messages=MESSAGES, tools=TOOLS, stream=True, stream_options={"include_usage": True}, **scenario(name)
    ):
        pass
    streamed = only_span(captured)

    assert chat_content(streamed) == chat_content(plain)
    assert facts(streamed) == facts(plain)
    assert plain.inputs | {"stream": True, "stream_options": {"include_usage": True}} == streamed.inputs


@pytest.mark.parametrize("name", SCENARIOS)
def test_chat_helper_equals_non_stream(client: OpenAI, captured: SpanCapture, name: str) -> None:
    client.chat.completions.create(model=MODEL, messages=MESSAGES, tools=TOOLS, **scenario(name))
    plain = only_span(captured)
    captured.clear()
    with client.chat.completions.stream(
        model=MODEL, messages=MESSAGES, tools=TOOLS, stream_options={"include_usage": True}, **scenario(name)
    ) as stream:
        stream.get_final_completion()
    streamed = only_span(captured)

    assert chat_content(streamed) == chat_content(plain)
    assert facts(streamed) == facts(plain)


def responses_content(span: SpanData) -> Any:
    data = {k: span.outputs.get(k) for k in ("output", "status", "model", "usage", "incomplete_details")}
    return json.loads(_PER_CALL_IDS.sub(r"\1N", json.dumps(data)))


@pytest.mark.parametrize("name", SCENARIOS)
def test_responses_stream_equals_non_stream(client: OpenAI, captured: SpanCapture, name: str) -> None:
    tools = [{"type": "function", "name": "get_weather", "parameters": TOOLS[0]["function"]["parameters"]}]
    client.responses.create(model=MODEL, input="weather?", tools=tools, **scenario(name))
    plain = only_span(captured)
    captured.clear()
    for _ in client.responses.create(model=MODEL, input="weather?", tools=tools, stream=True, **scenario(name)):
        pass
    streamed = only_span(captured)

    assert responses_content(streamed) == responses_content(plain)
    assert facts(streamed) == facts(plain)
