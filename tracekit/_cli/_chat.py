"""``tracekit traces show --chat``: each model call of a trace as a person reads it.

For every LLM span, in the order the calls started: the system instructions, the
conversation sent (user, assistant, tool calls and tool results) and the reply, as
text with the role on the left, instead of each provider's JSON. The messages come
from the same normalization the OTLP exporter uses (:mod:`tracekit._messages`), so
OpenAI, Anthropic and Gemini calls read alike.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

from tracekit._cli._render import format_tokens
from tracekit._cli._style import Style, clip
from tracekit._messages import conversation
from tracekit._model import SpanData, Trace

_ROLE_STYLE = {"system": "dim", "user": "cyan", "assistant": "green", "tool": "yellow"}
ROLE_WIDTH = 10


def chat_lines(trace: Trace, style: Style, width: int) -> list[str]:
    """The conversation view of ``trace`` wrapped to ``width`` columns."""
    calls = sorted(
        (span for span in trace.spans if conversation(span.attributes) is not None), key=lambda s: s.start_time_ns
    )
    if not calls:
        return [style.paint("no model calls with recorded messages in this trace", "dim")]
    lines: list[str] = []
    for number, span in enumerate(calls, 1):
        lines.extend(_call(number, span, style, width))
    return lines


def _call(number: int, span: SpanData, style: Style, width: int) -> list[str]:
    found = conversation(span.attributes)
    assert found is not None
    messages, system, outputs = found
    heading = f"── {number}. {span.name}"
    facts = [span.model or "", f"tokens {format_tokens(span.token_usage)}" if span.token_usage else ""]
    if span.status == "ERROR":
        facts.append("ERROR")
    heading += "  " + "  ".join(f for f in facts if f)
    heading = heading if style.unicode else heading.replace("──", "--")
    lines = ["", style.paint(clip(heading, width, style), "bold")]
    if system:
        lines += _message("system", system, style, width)
    for message in messages:
        lines += _message(str(message.get("role")), message.get("parts") or [], style, width)
    for message in outputs:
        lines += _message("assistant", message.get("parts") or [], style, width, note=_finish(message))
    if span.status == "ERROR" and span.status_message:
        lines += _block("error", [span.status_message], "red", style, width)
    return lines


def _finish(message: Mapping[str, Any]) -> str | None:
    reason = message.get("finish_reason")
    return None if reason in (None, "stop", "STOP", "end_turn") else f"finish: {reason}"


def _message(role: str, parts: Sequence[Mapping[str, Any]], style: Style, width: int, note: str | None = None) -> list[str]:
    texts: list[str] = []
    for part in parts:
        kind = part.get("type")
        if kind == "text":
            texts.append(str(part.get("content") or ""))
        elif kind == "reasoning":
            texts.append(f"(thinking) {part.get('content') or ''}")
        elif kind == "tool_call":
            arguments = part.get("arguments")
            shown = arguments if isinstance(arguments, str) else json.dumps(arguments, ensure_ascii=False)
            texts.append(f"→ {part.get('name')}({shown})" if style.unicode else f"-> {part.get('name')}({shown})")
        elif kind == "tool_call_response":
            response = part.get("response")
            shown = response if isinstance(response, str) else json.dumps(response, ensure_ascii=False)
            ident = f" [{part.get('id')}]" if part.get("id") else ""
            texts.append(f"result{ident}: {shown}")
        elif kind:
            texts.append(f"[{kind}]")
    if note:
        texts.append(f"({note})")
    return _block(role, texts or ["(empty)"], _ROLE_STYLE.get(role), style, width)


def _block(label: str, texts: Sequence[str], color: str | None, style: Style, width: int) -> list[str]:
    body_width = max(20, width - ROLE_WIDTH - 1)
    lines: list[str] = []
    first = True
    for text in texts:
        for paragraph in text.splitlines() or [""]:
            for line in textwrap.wrap(paragraph, body_width, replace_whitespace=False, drop_whitespace=True) or [""]:
                left = label.ljust(ROLE_WIDTH) if first else " " * ROLE_WIDTH
                lines.append((style.paint(left, color) + " " + line).rstrip())
                first = False
    return lines
