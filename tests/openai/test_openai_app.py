"""An app-shaped trace: @trace CHAIN -> chat call with tool calls -> TOOL span -> streamed
chat call; and 50 concurrent async calls under 50 traces with no cross-talk."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from openai import AsyncOpenAI, OpenAI
from openai_helpers import MODEL, TEXT, TOOLS

import tracekit
from tracekit import _attributes as attr
from tracekit.testing import SpanCapture


def test_agent_round_trip(client: OpenAI, captured: SpanCapture) -> None:
    @tracekit.trace(span_type="TOOL")
    def get_weather(location: str) -> str:
        return f"Sunny in {location}"

    @tracekit.trace
    def agent(question: str) -> str:
        messages: list[dict[str, Any]] = [{"role": "user", "content": question}]
        first = client.chat.completions.create(
            model=MODEL, messages=messages, tools=TOOLS, extra_headers={"x-fake-scenario": "tool_call"}
        )
        call = first.choices[0].message.tool_calls[0]
        result = get_weather(**json.loads(call.function.arguments))
        messages += [
            first.choices[0].message.model_dump(exclude_none=True),
            {"role": "tool", "tool_call_id": call.id, "content": result},
        ]
        stream = client.chat.completions.create(
            model=MODEL, messages=messages, stream=True, stream_options={"include_usage": True}
        )
        return "".join(c.choices[0].delta.content or "" for c in stream if c.choices)

    assert agent("Weather in Paris?") == TEXT

    [trace] = captured.traces
    spans = {s.name: s for s in captured.spans}
    assert [s.name for s in captured.spans] == ["chat gpt-4o-mini", "get_weather", "chat gpt-4o-mini", "agent"]
    first, tool, second, root = captured.spans
    assert (root.span_type, root.parent_id, root.inputs, root.outputs) == ("CHAIN", None, {"question": "Weather in Paris?"}, TEXT)
    assert [(s.span_type, s.parent_id, s.status) for s in (first, tool, second)] == [
        ("CHAT_MODEL", root.span_id, "OK"),
        ("TOOL", root.span_id, "OK"),
        ("CHAT_MODEL", root.span_id, "OK"),
    ]
    assert first.inputs == {"model": MODEL, "messages": [{"role": "user", "content": "Weather in Paris?"}], "tools": TOOLS}
    tool_call = first.outputs["choices"][0]["message"]["tool_calls"][0]
    assert tool.inputs == json.loads(tool_call["function"]["arguments"])
    assert tool.outputs == f"Sunny in {tool.inputs['location']}"
    assert second.inputs["messages"][-1] == {"role": "tool", "tool_call_id": tool_call["id"], "content": tool.outputs}
    assert second.outputs["choices"][0]["message"]["content"] == TEXT
    assert second.attributes[attr.STREAM_END_REASON] == "exhausted"
    assert json.loads(first.attributes[attr.TOKEN_USAGE])["output_tokens"] == first.outputs["usage"]["completion_tokens"]
    assert json.loads(second.attributes[attr.TOKEN_USAGE]) == {
        "input_tokens": second.outputs["usage"]["prompt_tokens"],
        "output_tokens": second.outputs["usage"]["completion_tokens"],
        "total_tokens": second.outputs["usage"]["total_tokens"],
    }
    assert attr.TOKEN_USAGE not in root.attributes
    assert len(trace.spans) == 4 and spans["agent"].span_id == root.span_id


async def test_fifty_concurrent_calls_fifty_traces(aclient: AsyncOpenAI, captured: SpanCapture) -> None:
    @tracekit.trace
    async def ask(i: int) -> str:
        if i % 2:
            result = await aclient.chat.completions.create(model=f"model-{i}", messages=[{"role": "user", "content": f"q{i}"}])
            return str(result.choices[0].message.content)
        stream = await aclient.chat.completions.create(
            model=f"model-{i}", messages=[{"role": "user", "content": f"q{i}"}], stream=True
        )
        return "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])

    answers = await asyncio.gather(*(ask(i) for i in range(50)))

    assert answers == [TEXT] * 50
    traces = captured.traces
    assert len(traces) == 50
    for trace in traces:
        root = next(s for s in trace.spans if s.parent_id is None)
        [llm] = [s for s in trace.spans if s.parent_id == root.span_id]
        assert len(trace.spans) == 2
        i = root.inputs["i"]
        assert llm.name == f"chat model-{i}"
        assert llm.inputs["messages"] == [{"role": "user", "content": f"q{i}"}]
        assert llm.outputs["model"] == f"model-{i}"
        assert llm.outputs["choices"][0]["message"]["content"] == TEXT
