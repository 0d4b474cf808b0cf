"""An Anthropic tool-use round trip and a streamed answer, traced under one CHAIN span.

Runs offline against tracekit's fake LLM server; point ``base_url`` at the real API
(or your gateway) and drop the server to trace real calls.

Run: python examples/anthropic_app.py   (then `tracekit traces list`)
"""

from __future__ import annotations

import json
from typing import Any

import anthropic

import tracekit
from tracekit.testing._fakeserver import FakeLLMServer

WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Current weather in a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


@tracekit.trace(span_type=tracekit.SpanType.TOOL)
def get_weather(city: str) -> dict[str, Any]:
    return {"city": city, "temp_c": 4}


@tracekit.trace
def answer(client: anthropic.Anthropic, question: str) -> str:
    messages: list[dict[str, Any]] = [{"role": "user", "content": question}]
    # 1) a streamed tool use: the span holds the tool call with its complete input
    with client.messages.stream(
        model="claude-haiku-4-5",
        max_tokens=256,
        messages=messages,
        tools=[WEATHER_TOOL],
        extra_headers={"x-fake-scenario": "tool_call"},  # fake server only
    ) as stream:
        reply = stream.get_final_message()
    tool_use = next(block for block in reply.content if block.type == "tool_use")
    result = get_weather(**tool_use.input)
    messages += [
        {"role": "assistant", "content": reply.content},
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": tool_use.id, "content": json.dumps(result)},
            ],
        },
    ]
    # 2) the answer, streamed as text
    with client.messages.stream(model="claude-haiku-4-5", max_tokens=256, messages=messages) as stream:
        return "".join(stream.text_stream)


def main() -> None:
    tracekit.anthropic.autolog()
    with FakeLLMServer() as server:
        client = anthropic.Anthropic(base_url=server.url_for("/gateway/anthropic"), api_key="test")
        print(answer(client, "What is the weather in Oslo?"))
    trace = tracekit.get_trace(tracekit.get_last_trace_id() or "")
    for span in trace.spans if trace else []:
        print(f"{span.span_type:<10} {span.name:<28} {span.attributes.get('mlflow.chat.tokenUsage', '')}")


if __name__ == "__main__":
    main()
