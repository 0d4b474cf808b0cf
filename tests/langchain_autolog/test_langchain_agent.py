"""An agent with a tool (create_agent / create_react_agent) through invoke, stream and
ainvoke: the whole span tree, with and without the OpenAI autolog, usage counted once."""

from __future__ import annotations

import asyncio
import json
from typing import Any, TypedDict

import pytest
from langchain_core.tools import tool
from lc_helpers import MODEL_NODE, agent_tree, make_agent, model_step, tree, usage

import tracekit
from tracekit import _attributes as attr
from tracekit.testing import FakeLLMServer, SpanCapture
from tracekit.testing._fakeserver._scenarios import prompt_tokens

QUESTION = "What is the weather in Paris?"
REPLY = "Hello! This is the fake LLM server."


@tool
def get_weather(city: str) -> str:
    """The weather of a city."""
    return f"Sunny in {city}"


def _check_agent_trace(captured: SpanCapture, server: FakeLLMServer, provider: bool) -> None:
    [trace] = captured.traces
    assert tree(trace) == agent_tree()
    app = trace.root
    assert app is not None
    [graph] = trace.children(app)
    model1, model2 = trace.find(span_type="CHAT_MODEL")
    [tool_span] = trace.find(span_type="TOOL")
    # one span per model call: exactly two CHAT_MODEL spans for two requests, and usage
    # counted once per call at the trace level
    assert len(server.requests) == 2
    first, second = (server.requests[0].json, server.requests[1].json)
    assert first["model"] == second["model"] == "gpt-4o-mini"
    u1, u2 = usage(model1), usage(model2)
    assert u1 is not None and u2 is not None
    assert trace.info.token_usage == {k: u1[k] + u2[k] for k in ("input_tokens", "output_tokens", "total_tokens")}
    assert all(usage(s) is None for s in trace.spans if s not in (model1, model2))
    for model in (model1, model2):
        assert model.attributes[attr.LLM_MODEL] == "gpt-4o-mini"
        assert model.attributes[attr.GEN_AI_REQUEST_MODEL] == "gpt-4o-mini"
        assert model.attributes[attr.LLM_PROVIDER] == "openai"
        assert json.loads(model.attributes[attr.LANGCHAIN_METADATA])["langgraph_node"] == MODEL_NODE
        assert model.attributes[attr.LANGCHAIN_RUN_ID]
    # the tool: its arguments in, its result out
    assert tool_span.inputs == {"city": tool_span.inputs["city"]}
    assert tool_span.outputs == f"Sunny in {tool_span.inputs['city']}"
    assert app.inputs == {"question": QUESTION}
    assert graph.inputs["messages"][0]["content"] == QUESTION
    assert graph.outputs["messages"][-1] == {"role": "ai", "content": REPLY}
    if provider:
        # the provider autolog filled the LangChain span with the wire-level call
        for model, body in ((model1, first), (model2, second)):
            assert model.attributes[attr.MESSAGE_FORMAT] == "openai"
            assert model.attributes[attr.SERVER_ADDRESS] == "127.0.0.1"
            assert model.attributes[attr.GATEWAY_PATH] == "/v1"
            assert model.inputs["messages"] == body["messages"]
            assert model.inputs["tools"] == body["tools"]
        assert model1.outputs["choices"][0]["message"]["tool_calls"][0]["function"]["name"] == "get_weather"
        assert model2.outputs["choices"][0]["message"]["content"] == REPLY
        assert model1.attributes[attr.GEN_AI_RESPONSE_ID] == "chatcmpl-fake-1"
    else:
        for model in (model1, model2):
            assert model.attributes[attr.MESSAGE_FORMAT] == "langchain"
            assert attr.SERVER_ADDRESS not in model.attributes
        assert model1.inputs == {"messages": [{"role": "human", "content": QUESTION}]}
        assert model1.outputs["tool_calls"][0]["name"] == "get_weather"
        assert model2.outputs == {"role": "ai", "content": REPLY}
        assert model2.inputs["messages"][-1]["role"] == "tool"
    # LangChain's own usage and the wire's agree (the fake server counts deterministically:
    # a quarter of the request's text characters in, one token per streamed piece out)
    assert u1 == {"input_tokens": prompt_tokens(first), "output_tokens": 3, "total_tokens": prompt_tokens(first) + 3}
    assert u2 == {"input_tokens": prompt_tokens(second), "output_tokens": 20, "total_tokens": prompt_tokens(second) + 20}


def test_agent_invoke(llm: Any, server: FakeLLMServer, provider: bool, captured: SpanCapture) -> None:
    agent = make_agent(llm, [get_weather])

    @tracekit.trace
    def app(question: str) -> str:
        result = agent.invoke({"messages": [{"role": "user", "content": question}]})
        assert tracekit.get_current_span().name == "app"  # every run gave the flow back
        return str(result["messages"][-1].content)

    assert app(QUESTION) == REPLY
    _check_agent_trace(captured, server, provider)


def test_agent_stream(llm: Any, server: FakeLLMServer, provider: bool, captured: SpanCapture) -> None:
    agent = make_agent(llm, [get_weather])

    @tracekit.trace
    def app(question: str) -> str:
        updates = list(agent.stream({"messages": [{"role": "user", "content": question}]}, stream_mode="values"))
        assert tracekit.get_current_span().name == "app"
        return str(updates[-1]["messages"][-1].content)

    assert app(QUESTION) == REPLY
    _check_agent_trace(captured, server, provider)


async def test_agent_ainvoke(llm: Any, server: FakeLLMServer, provider: bool, captured: SpanCapture) -> None:
    agent = make_agent(llm, [get_weather])

    @tracekit.trace
    async def app(question: str) -> str:
        result = await agent.ainvoke({"messages": [{"role": "user", "content": question}]})
        assert tracekit.get_current_span().name == "app"
        return str(result["messages"][-1].content)

    assert await app(QUESTION) == REPLY
    _check_agent_trace(captured, server, provider)


async def test_concurrent_ainvoke_keep_their_traces(
    llm: Any, server: FakeLLMServer, provider: bool, captured: SpanCapture
) -> None:
    agent = make_agent(llm, [get_weather])

    @tracekit.trace
    async def app(question: str) -> str:
        result = await agent.ainvoke({"messages": [{"role": "user", "content": question}]})
        assert tracekit.get_current_span().name == "app"
        return str(result["messages"][-1].content)

    assert await asyncio.gather(*(app(QUESTION) for _ in range(4))) == [REPLY] * 4
    assert len(captured.traces) == 4
    for trace in captured.traces:
        assert tree(trace) == agent_tree()


def test_failing_tool(llm: Any, server: FakeLLMServer, provider: bool, captured: SpanCapture) -> None:
    @tool
    def get_weather(city: str) -> str:
        """The weather of a city."""
        raise ValueError(f"no weather station in {city}")

    agent = make_agent(llm, [get_weather])

    @tracekit.trace
    def app(question: str) -> Any:
        return agent.invoke({"messages": [{"role": "user", "content": question}]})

    if MODEL_NODE == "model":
        # langchain 1.x: the tool node re-raises what a tool raised
        with pytest.raises(ValueError, match="no weather station"):
            app(QUESTION)
        expected = [
            (0, "app", "CHAIN", "ERROR"),
            (1, "LangGraph", "AGENT", "ERROR"),
            *model_step(2),
            (2, "tools", "CHAIN", "ERROR"),
            (3, "get_weather", "TOOL", "ERROR"),
        ]
    else:
        # langgraph 0.2's ToolNode answers the model with the error and the agent goes on
        app(QUESTION)
        expected = agent_tree()
        expected[expected.index((3, "get_weather", "TOOL", "OK"))] = (3, "get_weather", "TOOL", "ERROR")
    [trace] = captured.traces
    assert tree(trace) == expected
    failed = trace.find(name="get_weather")[0]
    [event] = failed.events
    assert event["name"] == "exception"
    assert event["attributes"]["exception.type"] == "ValueError"
    assert "no weather station in" in event["attributes"]["exception.message"]
    assert failed.status_message is not None and failed.status_message.startswith("ValueError: no weather station")
    # each failed run records the exception once
    assert all(len(s.events) == 1 for s in trace.spans if s.status == "ERROR")


class State(TypedDict):
    n: int


def double(state: State) -> State:
    return {"n": state["n"] * 2}


def test_a_custom_graph_is_the_agent(captured: SpanCapture) -> None:
    from langgraph.graph import END, START, StateGraph

    builder = StateGraph(State)
    builder.add_node("double", double)
    builder.add_edge(START, "double")
    builder.add_edge("double", END)
    graph = builder.compile().with_config(run_name="planner")
    assert graph.invoke({"n": 2}) == {"n": 4}
    [trace] = captured.traces
    # named by the app, not "LangGraph": an AGENT because its children are graph nodes
    assert tree(trace) == [(0, "planner", "AGENT", "OK"), (1, "double", "CHAIN", "OK")]
    assert trace.root is not None and trace.root.outputs == {"n": 4}
