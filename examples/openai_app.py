"""A small traced agent against the fake LLM server: a tool-calling round trip, then a
streamed answer. Run: ``python examples/openai_app.py`` (no network, no API key).

Prints the trace tree it recorded (names, types, models, tokens).
"""

from __future__ import annotations

import json
from typing import Any

from openai import OpenAI

import tracekit
from tracekit.testing import capture
from tracekit.testing._fakeserver import FakeLLMServer

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Current weather of a city",
            "parameters": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]},
        },
    }
]


@tracekit.trace(span_type="TOOL")
def get_weather(location: str) -> str:
    return f"Sunny, 21°C in {location}"


@tracekit.trace
def agent(client: OpenAI, question: str) -> str:
    messages: list[dict[str, Any]] = [{"role": "user", "content": question}]
    first = client.chat.completions.create(
        model="gpt-4o-mini", messages=messages, tools=TOOLS, extra_headers={"x-fake-scenario": "tool_call"}
    )
    message = first.choices[0].message
    messages.append(message.model_dump(exclude_none=True))
    for call in message.tool_calls or []:
        result = get_weather(**json.loads(call.function.arguments))
        messages.append({"role": "tool", "tool_call_id": call.id, "content": result})
    stream = client.chat.completions.create(
        model="gpt-4o-mini", messages=messages, stream=True, stream_options={"include_usage": True}
    )
    return "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)


def main() -> None:
    tracekit.openai.autolog()
    with FakeLLMServer() as server, capture() as captured:
        client = OpenAI(base_url=server.openai_base_url, api_key="fake", max_retries=0)
        print("answer:", agent(client, "What is the weather in Paris?"))
        client.close()
    by_id = {s.span_id: s for s in captured.spans}

    def depth(span: Any) -> int:
        return 0 if span.parent_id is None else 1 + depth(by_id[span.parent_id])

    for span in sorted(captured.spans, key=lambda s: s.start_time_ns):
        usage = span.token_usage or {}
        tokens = f" tokens={usage.get('total_tokens')}" if usage else ""
        print(f"{'  ' * depth(span)}{span.name} [{span.span_type}] {span.status}{tokens} {span.duration_ms:.1f} ms")


if __name__ == "__main__":
    main()
