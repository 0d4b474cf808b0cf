"""Shared pieces of the LangChain tests: the agent factory of the installed release and
span-tree helpers."""

from __future__ import annotations

import json
from typing import Any

from tracekit import _attributes as attr
from tracekit._model import SpanData, Trace

try:  # langchain >= 1.0
    from langchain.agents import create_agent as _create_agent

    MODEL_NODE = "model"
except ImportError:  # the oldest supported releases: LangGraph's prebuilt ReAct agent
    _create_agent = None
    MODEL_NODE = "agent"


def make_agent(llm: Any, tools: list[Any]) -> Any:
    """``langchain.agents.create_agent`` where it exists, else ``create_react_agent``."""
    if _create_agent is not None:
        return _create_agent(llm, tools=tools)
    from langgraph.prebuilt import create_react_agent

    return create_react_agent(llm, tools)


def tree(trace: Trace) -> list[tuple[int, str, str, str]]:
    """(depth, name, type, status) of every span, depth-first in start order."""
    rows: list[tuple[int, str, str, str]] = []

    def walk(span: SpanData, depth: int) -> None:
        rows.append((depth, span.name, span.span_type, span.status))
        for child in trace.children(span):
            walk(child, depth + 1)

    assert trace.root is not None
    walk(trace.root, 0)
    assert len(rows) == len(trace.spans), "every span is reachable from the root"
    return rows


def shape(trace: Trace, span: SpanData | None = None) -> tuple[Any, ...]:
    """(name, type, status, children) with children sorted: for parallel branches, whose
    start order varies."""
    span = span if span is not None else trace.root
    assert span is not None
    return (span.name, span.span_type, span.status, tuple(sorted(shape(trace, c) for c in trace.children(span))))


def usage(span: SpanData) -> dict[str, int] | None:
    raw = span.attributes.get(attr.TOKEN_USAGE)
    return json.loads(raw) if raw else None


def model_step(depth: int, status: str = "OK") -> list[tuple[int, str, str, str]]:
    """One model step of the agent graph, as the installed release runs it."""
    if _create_agent is not None:
        return [(depth, MODEL_NODE, "CHAIN", "OK"), (depth + 1, "ChatOpenAI", "CHAT_MODEL", status)]
    # langgraph 0.2's ReAct agent: a node function around a prompt sequence, then a branch
    return [
        (depth, MODEL_NODE, "CHAIN", "OK"),
        (depth + 1, "call_model", "CHAIN", "OK"),
        (depth + 2, "RunnableSequence", "CHAIN", "OK"),
        (depth + 3, "StateModifier", "CHAIN", "OK"),
        (depth + 3, "ChatOpenAI", "CHAT_MODEL", status),
        (depth + 1, "should_continue", "CHAIN", "OK"),
    ]


def agent_tree(app: str = "app") -> list[tuple[int, str, str, str]]:
    """The tree of one agent run with one tool call (``get_weather``)."""
    return [
        (0, app, "CHAIN", "OK"),
        (1, "LangGraph", "AGENT", "OK"),
        *model_step(2),
        (2, "tools", "CHAIN", "OK"),
        (3, "get_weather", "TOOL", "OK"),
        *model_step(2),
    ]
