"""Shared helpers the protocol modules use to assemble answers."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ._model import FakeResponse, StreamChunk, StreamEnd, sse_bytes
from ._scenarios import REASONING_TOKENS, Call, split_text
from ._schema import instance_from_schema

__all__ = ["SSE_HEADERS", "StreamBuilder", "ToolCallPlan", "plan_tool_calls", "structured_text"]

SSE_HEADERS: tuple[tuple[str, str], ...] = (
    ("content-type", "text/event-stream; charset=utf-8"),
    ("cache-control", "no-cache"),
)

_DEFAULT_TOOL = "get_weather"
_DEFAULT_TOOL_ARGUMENTS: Mapping[str, Any] = {"location": "Paris"}


class StreamBuilder:
    """Collects SSE events with their delays.

    The first event waits ``call.first_token_delay``; each content delta waits
    ``call.options.delay`` (bookkeeping events such as ``message_start`` are not
    slowed, like a real server that flushes them at once).
    """

    def __init__(self, call: Call) -> None:
        self._call = call
        self.chunks: list[StreamChunk] = []

    def add(self, data: Any, *, event: str | None = None, content: bool = False) -> None:
        """Append one event; ``content=True`` marks a delta that gets the per-chunk delay."""
        delay = self._call.options.delay if content else 0.0
        if not self.chunks:
            delay += self._call.first_token_delay
        self.chunks.append(StreamChunk(sse_bytes(data, event), delay))

    def add_raw(self, data: bytes) -> None:
        """Append bytes as they are (e.g. ``data: [DONE]``)."""
        delay = self._call.first_token_delay if not self.chunks else 0.0
        self.chunks.append(StreamChunk(data, delay))

    def response(self, headers: Sequence[tuple[str, str]] = (), *, end: StreamEnd = "complete") -> FakeResponse:
        """The streamed response holding the collected events."""
        return FakeResponse(status=200, headers=[*SSE_HEADERS, *headers], chunks=list(self.chunks), end=end)


@dataclass(frozen=True)
class ToolCallPlan:
    """One tool call the fake model makes."""

    index: int
    name: str
    arguments: dict[str, Any]

    @property
    def arguments_json(self) -> str:
        """Arguments as the compact JSON string the providers stream."""
        return json.dumps(self.arguments, separators=(",", ":"))

    def fragments(self) -> list[str]:
        """The arguments JSON split into a few pieces, as streamed deltas."""
        return split_text(self.arguments_json, 3)


def plan_tool_calls(call: Call, tools: Sequence[tuple[str, Any]]) -> list[ToolCallPlan]:
    """Pick the tool calls of a ``tool_call`` / ``tool_calls_2`` answer.

    ``tools`` are the (name, JSON schema) pairs the request declared; the calls
    go to the first one (and the second under ``tool_calls_2``, or the first
    again when only one is declared). Arguments validate against the schema.
    """
    count = call.tool_call_count
    plans: list[ToolCallPlan] = []
    for i in range(count):
        if tools:
            name, schema = tools[min(i, len(tools) - 1)]
            arguments = call.options.tool_arguments or instance_from_schema(schema or {})
        else:
            name = call.options.tool_name or _DEFAULT_TOOL
            arguments = call.options.tool_arguments or _DEFAULT_TOOL_ARGUMENTS
        plans.append(ToolCallPlan(i, name, dict(arguments) if isinstance(arguments, Mapping) else {}))
    return plans


def structured_text(schema: Any) -> str:
    """The JSON reply of a structured-output request: a minimal valid instance."""
    return json.dumps(instance_from_schema(schema))


def reasoning_tokens(call: Call) -> int:
    """Reasoning/thinking tokens reported in usage."""
    return REASONING_TOKENS if call.scenario in ("reasoning", "thinking", "cached_usage") else 0


def completion_units(call: Call, text: str, tool_calls: Sequence[ToolCallPlan]) -> int:
    """Output token count: streamed pieces of text and tool arguments."""
    units = len(call.pieces(text)) if text else 0
    units += sum(len(plan.fragments()) for plan in tool_calls)
    return units
