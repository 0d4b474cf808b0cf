"""What runs inside a LangChain run nests under its span: a provider SDK call or an
``@trace`` function inside a tool (also when an async agent runs a sync tool in an
executor thread), and ``traceparent`` still names the model call's span."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.tools import tool
from lc_helpers import make_agent, tree
from openai import OpenAI

import tracekit
from tracekit.testing import FakeLLMServer, SpanCapture

QUESTION = "What is the weather in Paris?"


@pytest.fixture
def weather_tool(server: FakeLLMServer) -> Any:
    client = OpenAI(base_url=server.openai_base_url, api_key="sk-secret-test-key", max_retries=0)

    @tracekit.trace(span_type="TASK")
    def lookup(city: str) -> str:
        return f"Sunny in {city}"

    @tool
    def get_weather(city: str) -> str:
        """The weather of a city."""
        reply = client.chat.completions.create(
            model="gpt-4.1-nano",
            messages=[{"role": "user", "content": f"Summarize the weather in {city}"}],
            extra_headers={"x-fake-scenario": "text"},
        )
        return f"{lookup(city)}. {reply.choices[0].message.content}"

    return get_weather


def _check(captured: SpanCapture) -> None:
    [trace] = captured.traces
    rows = tree(trace)
    at = rows.index((3, "get_weather", "TOOL", "OK"))
    # the SDK call and the @trace function made by the tool nest under the tool's span
    assert rows[at + 1 : at + 3] == [(4, "chat gpt-4.1-nano", "CHAT_MODEL", "OK"), (4, "lookup", "TASK", "OK")]
    assert len(trace.find(span_type="CHAT_MODEL")) == 3
    [tool_span] = trace.find(span_type="TOOL")
    [inner] = trace.find(name="chat gpt-4.1-nano")
    assert inner.parent_id == tool_span.span_id
    assert inner.inputs["messages"][0]["content"] == "Summarize the weather in " + tool_span.inputs["city"]


def test_sdk_call_in_a_tool_nests_under_it(llm: Any, weather_tool: Any, captured: SpanCapture) -> None:
    tracekit.openai.autolog()
    try:
        agent = make_agent(llm, [weather_tool])
        tracekit.trace(name="app")(agent.invoke)({"messages": [{"role": "user", "content": QUESTION}]})
    finally:
        tracekit.openai.autolog(disable=True)
    _check(captured)


async def test_sdk_call_in_a_sync_tool_of_an_async_agent_nests_under_it(
    llm: Any, weather_tool: Any, captured: SpanCapture
) -> None:
    tracekit.openai.autolog()
    try:
        agent = make_agent(llm, [weather_tool])
        # the sync tool runs in an executor thread (langchain-core run_in_executor)
        await tracekit.trace(name="app")(agent.ainvoke)({"messages": [{"role": "user", "content": QUESTION}]})
    finally:
        tracekit.openai.autolog(disable=True)
    _check(captured)


def _sdk_sends_traceparent(server: FakeLLMServer) -> bool:
    """Whether the OpenAI autolog of this build injects ``traceparent`` (another change
    adds it): asked of a plain SDK call, not assumed."""
    client = OpenAI(base_url=server.openai_base_url, api_key="k", max_retries=0)
    with tracekit.start_span("probe"):
        client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "hi"}], extra_headers={"x-fake-scenario": "text"}
        )
    sent = server.last_request
    server.clear()
    return sent is not None and "traceparent" in sent.headers


def test_traceparent_names_the_merged_model_span(llm: Any, server: FakeLLMServer, captured: SpanCapture) -> None:
    tracekit.openai.autolog()
    try:
        assert _sdk_sends_traceparent(server), "a plain SDK call under autolog must send traceparent"
        captured.clear()
        server.set_scenario("text")
        agent = make_agent(llm, [])
        tracekit.trace(name="app")(agent.invoke)({"messages": [{"role": "user", "content": "hi"}]})
    finally:
        tracekit.openai.autolog(disable=True)
    [trace] = captured.traces
    [model] = trace.find(span_type="CHAT_MODEL")
    [request] = server.requests
    assert request.headers["traceparent"] == f"00-{model.trace_id[3:]}-{model.span_id}-01"


def test_a_chain_invoked_in_a_traced_function_in_a_tool_nests_under_that_function(
    llm: Any, server: FakeLLMServer, captured: SpanCapture
) -> None:
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate

    summarize = ChatPromptTemplate.from_messages([("human", "Summarize {city}")]) | llm | StrOutputParser()

    @tracekit.trace(span_type="TASK")
    def lookup(city: str) -> str:
        # LangChain names the tool as this chain's parent; the app's span inside it is nearer
        return str(summarize.invoke({"city": city}))

    @tool
    def get_weather(city: str) -> str:
        """The weather of a city."""
        return lookup(city)

    tracekit.trace(name="app")(get_weather.invoke)({"city": "Paris"})
    [trace] = captured.traces
    assert [row[:3] for row in tree(trace)] == [
        (0, "app", "CHAIN"),
        (1, "get_weather", "TOOL"),
        (2, "lookup", "TASK"),
        (3, "RunnableSequence", "CHAIN"),
        (4, "ChatPromptTemplate", "CHAIN"),
        (4, "ChatOpenAI", "CHAT_MODEL"),
        (4, "StrOutputParser", "CHAIN"),
    ]
