"""A small, fixed set of traces for the CLI tests: ids, times and values never vary."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanContext, Status, StatusCode

from tracekit import _attributes as attr
from tracekit._store import SQLiteStore

T0 = 1_700_000_000_000_000_000  # 2023-11-14 22:13:20 UTC
MS = 1_000_000
AGENT_TRACE = 0x0AF7651916CD43DD8448EB211C80319C
ERROR_TRACE = 0x0AF7651916CD43DD8448EB211C80FFFF
PARTIAL_TRACE = 0x5B8EFFF798038103D269B633813FC60C


def span(
    trace: int,
    span_id: int,
    parent: int | None,
    name: str,
    span_type: str,
    start_ms: float,
    end_ms: float,
    *,
    error: str | None = None,
    attributes: dict[str, Any] | None = None,
) -> ReadableSpan:
    return ReadableSpan(
        name=name,
        context=SpanContext(trace_id=trace, span_id=span_id, is_remote=False),
        parent=SpanContext(trace_id=trace, span_id=parent, is_remote=False) if parent else None,
        resource=Resource({"service.name": "cli-test"}),
        attributes={attr.SPAN_TYPE: span_type, **(attributes or {})},
        status=Status(StatusCode.ERROR, error) if error else Status(StatusCode.OK),
        start_time=T0 + int(start_ms * MS),
        end_time=T0 + int(end_ms * MS),
    )


def _usage(i: int, o: int) -> str:
    return json.dumps({"input_tokens": i, "output_tokens": o, "total_tokens": i + o})


def sample_spans() -> list[ReadableSpan]:
    """An agent trace (tree of 5, one failed tool), an error trace, a partial trace."""
    question = {"question": "What is the capital of France?"}
    messages = {"messages": [{"role": "user", "content": "x" * 400}], "model": "gpt-4o-mini"}
    return [
        span(
            AGENT_TRACE,
            0x1,
            None,
            "answer",
            "CHAIN",
            0,
            1250,
            attributes={
                attr.SPAN_INPUTS: json.dumps(question),
                attr.SPAN_OUTPUTS: json.dumps("Paris"),
                attr.TRACE_TAG_PREFIX + "env": "dev",
                attr.SESSION_ID: "sess-1",
                attr.USER_ID: "ada",
            },
        ),
        span(
            AGENT_TRACE,
            0x2,
            0x1,
            "openai.chat.completions",
            "CHAT_MODEL",
            10,
            610,
            attributes={
                attr.SPAN_INPUTS: json.dumps(messages),
                attr.SPAN_OUTPUTS: json.dumps({"choices": [{"message": {"content": "call lookup"}}]}),
                attr.LLM_MODEL: "gpt-4o-mini",
                attr.TOKEN_USAGE: _usage(120, 30),
                attr.STREAM_TTFT_MS: 180.5,
                attr.COST_TOTAL: 0.00042,
            },
        ),
        span(AGENT_TRACE, 0x3, 0x1, "lookup", "TOOL", 620, 700, error="KeyError: 'france'"),
        span(AGENT_TRACE, 0x4, 0x3, "cache.get", "RETRIEVER", 625, 630),
        span(
            AGENT_TRACE,
            0x5,
            0x1,
            "anthropic.messages",
            "CHAT_MODEL",
            710,
            1240,
            attributes={
                attr.LLM_MODEL: "claude-sonnet-4-5",
                attr.TOKEN_USAGE: _usage(200, 12),
                attr.LLM_COST: json.dumps({"input_cost": 0.0006, "output_cost": 0.00018, "total_cost": 0.00078}),
                attr.STREAM_INCOMPLETE: True,
                attr.STREAM_END_REASON: "closed",
            },
        ),
        span(ERROR_TRACE, 0x1, None, "summarize", "CHAIN", 60_000, 60_004.5, error="RateLimitError: 429"),
        span(PARTIAL_TRACE, 0x2, 0x1, "embed", "EMBEDDING", 120_000, 120_042),
    ]


def sample_store(tmp_path: Path) -> Path:
    path = tmp_path / "traces.db"
    SQLiteStore(path).write_spans(sample_spans())
    return path


GOLDEN = Path(__file__).parent / "golden"


def check_golden(name: str, text: str) -> None:
    """Compare ``text`` with ``golden/<name>``; ``UPDATE_GOLDEN=1`` rewrites it."""
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")
