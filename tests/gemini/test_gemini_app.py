"""App-shaped: a @trace agent that calls Gemini with a tool, runs the tool in a TOOL
span, and streams the final answer -- the whole tree asserted; and many concurrent
async calls in separate traces without cross-talk."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from gemini_spans import MODEL, TEXT, WEATHER, WEATHER_OPENAI
from google.genai import types

import tracekit
from tracekit.testing import SpanCapture
from tracekit.testing._fakeserver import FakeLLMServer


def test_agent_tree(client: Any, server: FakeLLMServer, captured: SpanCapture) -> None:
    # google-genai 3.4.0 sends ``parameters_json_schema`` in snake_case, which the fake
    # server does not read: the arguments are given instead of derived from the schema
    server.set_scenario("tool_call", tool_arguments={"city": "Oslo", "unit": "c"})
    tools = types.GenerateContentConfig(tools=[types.Tool(function_declarations=[WEATHER])])
    answer = types.GenerateContentConfig(http_options=types.HttpOptions(headers={"x-fake-scenario": "text"}))

    @tracekit.trace(span_type="TOOL")
    def get_weather(city: str, unit: str) -> str:
        return f"12 {unit} in {city}"

    @tracekit.trace(span_type="AGENT")
    def agent(question: str) -> str:
        contents: list[Any] = [types.UserContent(parts=[types.Part.from_text(text=question)])]
        first = client.models.generate_content(model=MODEL, contents=contents, config=tools)
        call = first.function_calls[0]
        result = get_weather(**call.args)
        contents += [
            first.candidates[0].content,
            types.Content(role="user", parts=[types.Part.from_function_response(name=call.name, response={"result": result})]),
        ]
        return "".join(c.text for c in client.models.generate_content_stream(model=MODEL, contents=contents, config=answer))

    assert agent("Weather in Oslo?") == TEXT
    [trace] = captured.traces
    by_name = {s.name: s for s in trace.spans}
    root = by_name["agent"]
    tool = by_name["get_weather"]
    llm_calls = [s for s in trace.spans if s.span_type == "CHAT_MODEL"]
    assert [s.attributes.get("tracekit.stream", False) for s in llm_calls] == [False, True]
    assert root.parent_id is None and root.span_type == "AGENT"
    assert all(s.parent_id == root.span_id for s in (tool, *llm_calls))
    assert tool.span_type == "TOOL" and tool.inputs == {"city": "Oslo", "unit": "c"}
    first, second = llm_calls
    assert json.loads(first.attributes["mlflow.chat.tools"]) == [WEATHER_OPENAI]
    assert second.inputs["contents"][-1]["parts"][0]["function_response"] == {
        "name": "get_weather",
        "response": {"result": "12 c in Oslo"},
    }
    assert second.outputs["candidates"][0]["content"]["parts"] == [{"text": TEXT}]
    assert [s.token_usage is not None for s in llm_calls] == [True, True]
    assert root.outputs == TEXT


async def test_concurrent_calls_stay_in_their_traces(aclient: Any, captured: SpanCapture) -> None:
    async def one(i: int) -> str:
        async with tracekit.start_span(f"job-{i}"):
            if i % 2:
                reply = await aclient.models.generate_content(model=MODEL, contents=f"question {i}")
                return str(reply.text)
            return "".join(
                [c.text async for c in await aclient.models.generate_content_stream(model=MODEL, contents=f"question {i}")]
            )

    results = await asyncio.gather(*(one(i) for i in range(30)))
    assert results == [TEXT] * 30
    traces = captured.traces
    assert len(traces) == 30
    for trace in traces:
        root = next(s for s in trace.spans if s.parent_id is None)
        [llm] = [s for s in trace.spans if s.span_type == "CHAT_MODEL"]
        assert llm.parent_id == root.span_id
        i = int(root.name.split("-")[1])
        assert llm.inputs["contents"][0]["parts"][0]["text"] == f"question {i}"
