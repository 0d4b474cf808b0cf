"""A LangGraph agent (``langchain.agents.create_agent``) with one tool, traced by
``tracekit.langchain.autolog()`` and ``tracekit.openai.autolog()`` together, against the
fake LLM server. Run: ``python examples/langchain_agent.py`` (no network, no API key).

Prints the trace tree it recorded: each model call is ONE span carrying both LangChain's
run (name, tags, metadata) and the wire-level call (messages, usage, server).
"""

from __future__ import annotations

import dataclasses
import sys

from langchain.agents import create_agent
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI

import tracekit
from tracekit.testing import FakeLLM, FakeLLMServer, FakeRequest, FakeResponse, capture


class AgentLLM(FakeLLM):
    """The fake model calls a tool first, and answers in text once it got the tool's result."""

    def handle(self, request: FakeRequest) -> FakeResponse:
        messages = (request.json or {}).get("messages") or [{}]
        if messages[-1].get("role") == "tool":
            request = dataclasses.replace(request, headers={**request.headers, "x-fake-scenario": "text"})
        return super().handle(request)


@tool
def get_weather(city: str) -> str:
    """The current weather of a city."""
    return f"Sunny, 21°C in {city}"


def main() -> int:
    tracekit.langchain.autolog()
    tracekit.openai.autolog()
    with FakeLLMServer(app=AgentLLM("tool_call")) as server, capture() as captured:
        llm = ChatOpenAI(model="gpt-4o-mini", base_url=server.openai_base_url, api_key="test", max_retries=0)
        agent = create_agent(llm, tools=[get_weather])

        @tracekit.trace
        def ask(question: str) -> str:
            result = agent.invoke({"messages": [{"role": "user", "content": question}]})
            return str(result["messages"][-1].content)

        print(ask("What is the weather in Paris?"))
        [trace] = captured.traces

        def show(span: object, depth: int = 0) -> None:
            usage = span.token_usage  # type: ignore[attr-defined]
            tokens = f"  tokens={usage['total_tokens']}" if usage else ""
            print(f"{'  ' * depth}{span.name} [{span.span_type}]{tokens}")  # type: ignore[attr-defined]
            for child in trace.children(span):  # type: ignore[arg-type]
                show(child, depth + 1)

        show(trace.root)
        print("trace tokens:", trace.info.token_usage)
    tracekit.flush()
    return 0 if len(trace.spans) == 8 else 1


if __name__ == "__main__":
    sys.exit(main())
