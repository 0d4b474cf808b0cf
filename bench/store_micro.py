"""CPU per span of the local store's export (``SQLiteSpanExporter.export``).

Writes N realistic LLM-shaped spans (~25 attributes, 2-5 KB of JSON inputs and
outputs, token usage, tags) in batches the way the pipeline's worker does, and
reports the *thread* CPU time per span (not wall time: fsync waits and a busy
machine do not count, instructions do). Two shapes: one-span traces (a bare LLM call)
and nested traces (an agent root with two LLM calls beneath it, ending in one batch),
plus traces split across batches (children in one batch, the root in the next),
which take the store's slower path.

With ``--store-writer process`` the batches go to the store writer process (the
exports then run on a thread named like the pipeline's, which may start it): the
figure is the export thread's CPU, and ``writer_*`` the writer process's.

    .venv/bin/python bench/store_micro.py [--spans 20000] [--batch 512] [--store-writer process]   # prints JSON
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from _proc import proc_cpu_s
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanContext, Status, StatusCode

from tracekit import _attributes as attr
from tracekit._store import SQLiteSpanExporter

T0 = 1_700_000_000_000_000_000
RESOURCE = Resource({"service.name": "bench", "service.version": "1.0", "telemetry.sdk.language": "python"})
_rng = random.Random(7)
_WORDS = "the of a model answer token tool weather city paris request reply summary context".split()  # noqa: SIM905


def _text(chars: int) -> str:
    out: list[str] = []
    n = 0
    while n < chars:
        w = _rng.choice(_WORDS)
        out.append(w)
        n += len(w) + 1
    return " ".join(out)


def _llm_attributes(i: int) -> dict[str, Any]:
    messages = [
        {"role": "system", "content": _text(400)},
        {"role": "user", "content": _text(_rng.randint(1500, 3500))},
    ]
    inputs = {"model": "gpt-4o-mini", "messages": messages, "temperature": 0.2, "max_tokens": 512}
    outputs = {
        "id": f"chatcmpl-{i}",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": _text(_rng.randint(800, 1500))}}],
        "usage": {"prompt_tokens": 812, "completion_tokens": 301, "total_tokens": 1113},
    }
    usage = {"input_tokens": 812, "output_tokens": 301, "total_tokens": 1113}
    return {
        attr.SPAN_TYPE: "CHAT_MODEL",
        attr.SPAN_INPUTS: json.dumps(inputs, ensure_ascii=False),
        attr.SPAN_OUTPUTS: json.dumps(outputs, ensure_ascii=False),
        attr.TOKEN_USAGE: json.dumps(usage),
        attr.MESSAGE_FORMAT: "openai",
        attr.LLM_MODEL: "gpt-4o-mini-2024-07-18",
        attr.LLM_PROVIDER: "openai",
        attr.GEN_AI_OPERATION: "chat",
        attr.GEN_AI_PROVIDER: "openai",
        attr.GEN_AI_SYSTEM: "openai",
        attr.GEN_AI_REQUEST_MODEL: "gpt-4o-mini",
        attr.GEN_AI_RESPONSE_MODEL: "gpt-4o-mini-2024-07-18",
        attr.GEN_AI_RESPONSE_ID: f"chatcmpl-{i}",
        attr.GEN_AI_FINISH_REASONS: ("stop",),
        attr.GEN_AI_REQUEST_TEMPERATURE: 0.2,
        attr.GEN_AI_REQUEST_MAX_TOKENS: 512,
        attr.GEN_AI_REQUEST_TOP_P: 1.0,
        attr.GEN_AI_OUTPUT_TYPE: "text",
        attr.GEN_AI_USAGE_INPUT: 812,
        attr.GEN_AI_USAGE_OUTPUT: 301,
        attr.SERVER_ADDRESS: "api.openai.com",
        attr.SERVER_PORT: 443,
        attr.URL_FULL: "https://api.openai.com/v1/chat/completions",
        attr.HTTP_STATUS_CODE: 200,
        attr.STREAM: False,
        attr.SESSION_ID: f"session-{i % 50}",
        attr.TRACE_TAG_PREFIX + "env": "bench",
    }


def _span(trace: int, span: int, parent: int | None, name: str, attributes: dict[str, Any], start: int) -> ReadableSpan:
    return ReadableSpan(
        name=name,
        context=SpanContext(trace_id=trace, span_id=span, is_remote=False),
        parent=SpanContext(trace_id=trace, span_id=parent, is_remote=False) if parent else None,
        resource=RESOURCE,
        attributes=attributes,
        status=Status(StatusCode.OK),
        start_time=T0 + start,
        end_time=T0 + start + 1_000_000,
    )


def make_spans(n: int, shape: str) -> list[ReadableSpan]:
    spans: list[ReadableSpan] = []
    trace = 0
    while len(spans) < n:
        trace += 1
        if shape == "single":
            spans.append(_span(trace, 1, None, "chat gpt-4o-mini", _llm_attributes(trace), trace * 10))
        else:
            children = [_span(trace, s, 1, "chat gpt-4o-mini", _llm_attributes(trace * 10 + s), trace * 10 + s) for s in (2, 3)]
            root_attrs = {
                attr.SPAN_TYPE: "AGENT",
                attr.SPAN_INPUTS: json.dumps({"question": _text(300)}),
                attr.SPAN_OUTPUTS: json.dumps(_text(600)),
                attr.TRACE_TAG_PREFIX + "env": "bench",
                attr.USER_ID: "u-1",
            }
            spans += [*children, _span(trace, 1, None, "agent", root_attrs, trace * 10)]
    return spans[:n]


def measure(spans: list[ReadableSpan], batch: int, split: bool = False, writer: str = "thread") -> tuple[float, float]:
    """Thread CPU µs per span to export ``spans`` in batches of ``batch`` to a fresh
    store, and the writer process's CPU µs per span (0 with ``writer="thread"``)."""
    out: list[tuple[float, float]] = []
    thread = threading.Thread(target=lambda: out.append(_measure(spans, batch, split, writer)), name="tracekit-export")
    thread.start()
    thread.join()
    return out[0]


def _measure(spans: list[ReadableSpan], batch: int, split: bool, writer: str) -> tuple[float, float]:
    with tempfile.TemporaryDirectory(prefix="tk-store-micro-") as tmp:
        exporter = SQLiteSpanExporter(Path(tmp) / "traces.db", writer=writer)
        exporter.export(spans[:3])  # create the file and schema outside the measurement
        client = exporter.writer
        while client is not None and not client.ready and not client.off_reason:
            exporter.export(spans[:3])  # the second batch starts the writer; wait for its handshake
            time.sleep(0.02)
        pid = client.writer_pid if client is not None else None
        batches = [spans[i : i + batch] for i in range(0, len(spans), batch)]
        if split:  # shift by one span: every batch boundary cuts a nested trace in two
            batches = [spans[i : i + batch] for i in range(1, len(spans), batch)]
        w = proc_cpu_s(pid)
        t = time.thread_time_ns()
        for b in batches:
            if exporter.export(b).name != "SUCCESS":
                raise RuntimeError("export failed")
        cpu = time.thread_time_ns() - t
        w = proc_cpu_s(pid) - w
        exporter.shutdown()
        count = sum(len(b) for b in batches)
    return cpu / count / 1e3, w / count * 1e6


def main() -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--spans", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--store-writer", choices=("thread", "process"), default="thread")
    args = parser.parse_args()
    single = make_spans(args.spans, "single")
    nested = make_spans(args.spans, "nested")
    avg_attrs = sum(len(s.attributes or {}) for s in single) / len(single)
    avg_bytes = sum(len(str((s.attributes or {})[attr.SPAN_INPUTS])) for s in single) / len(single)
    result: dict[str, Any] = {
        "spans": args.spans,
        "batch": args.batch,
        "attributes_per_llm_span": round(avg_attrs, 1),
        "inputs_bytes_per_llm_span": round(avg_bytes),
        "store_writer": args.store_writer,
    }
    for label, spans, split in (
        ("single_us_per_span", single, False),
        ("nested_us_per_span", nested, False),
        ("nested_split_batches_us_per_span", nested, True),
    ):
        runs = sorted(measure(spans, args.batch, split, args.store_writer) for _ in range(args.repeats))
        result[label] = round(runs[0][0], 1)
        if args.store_writer == "process":
            result["writer_" + label] = round(runs[0][1], 1)
    return result


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
