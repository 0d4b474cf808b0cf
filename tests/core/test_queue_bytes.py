"""The export queue is bounded by bytes as well as by span count (``max_queue_bytes``)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanContext

import tracekit
from tracekit import _attributes as attr
from tracekit import _tracer
from tracekit._pipeline import SPAN_OVERHEAD_BYTES, Pipeline, span_bytes
from tracekit._store import SQLiteStore

BIG = "x" * 20_000  # ~20 KB of inputs per span, ~40 KB with the outputs


def _pipeline() -> Pipeline:
    pipeline = _tracer.ensure_pipeline()
    assert isinstance(pipeline, Pipeline)
    return pipeline


def test_a_full_queue_by_bytes_applies_back_pressure_and_loses_nothing(store_path: Path) -> None:
    # a long interval and a huge count limit: only the byte budget can make the queue full
    tracekit.configure(max_queue_bytes=65_536, max_queue_size=100_000, export_interval=60, export_batch_size=1000)

    @tracekit.trace
    def echo(text: str) -> str:
        return text

    pipeline = _pipeline()
    for _ in range(60):
        echo(BIG)
        queued = list(pipeline._queue)
        # the bound holds after every span, whoever drained the queue meanwhile
        assert pipeline._queue_bytes == sum(span_bytes(s) for s in queued)
        assert len(queued) <= 1 or pipeline._queue_bytes <= 65_536
    result = tracekit.flush(timeout=30)
    assert (result.delivered, result.dropped, result.failed, result.pending) == (60, 0, 0, 0)
    assert SQLiteStore(store_path).count() == 60
    assert pipeline._queue_bytes == 0


def test_a_span_larger_than_the_budget_is_still_queued_and_stored(store_path: Path) -> None:
    tracekit.configure(max_queue_bytes=65_536, export_interval=60)
    huge = "y" * 200_000
    with tracekit.start_span("huge") as span:
        span.set_inputs(huge)
    result = tracekit.flush(timeout=30)
    assert (result.delivered, result.dropped) == (1, 0)
    trace = tracekit.get_trace(tracekit.get_last_trace_id() or "")
    assert trace is not None and trace.spans[0].inputs == huge


def test_queued_bytes_wake_the_worker_before_the_interval(store_path: Path) -> None:
    # a quarter of the budget queued starts a batch although the interval is a minute
    tracekit.configure(max_queue_bytes=65_536, max_queue_size=100_000, export_interval=60, export_batch_size=1000)
    with tracekit.start_span("big") as span:
        span.set_inputs(BIG)
    deadline = time.monotonic() + 20
    while SQLiteStore(store_path).count() < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert SQLiteStore(store_path).count() == 1
    assert tracekit.flush(timeout=10).ok


def test_span_bytes_counts_the_inputs_and_outputs_texts() -> None:
    attributes: dict[str, Any] = {attr.SPAN_INPUTS: "a" * 1000, attr.SPAN_OUTPUTS: "b" * 500, attr.SPAN_TYPE: "LLM", "n": 3}
    span = ReadableSpan(name="s", context=SpanContext(1, 2, False), attributes=attributes)
    assert span_bytes(span) == SPAN_OVERHEAD_BYTES + 1500
    assert span_bytes(ReadableSpan(name="bare", context=SpanContext(1, 3, False))) == SPAN_OVERHEAD_BYTES


def test_the_setting_is_validated_and_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(tracekit.ConfigError, match="max_queue_bytes=1000 is invalid"):
        tracekit.configure(max_queue_bytes=1000)
    monkeypatch.setenv("TRACEKIT_MAX_QUEUE_BYTES", "1048576")
    tracekit.configure()
    assert tracekit.get_settings().max_queue_bytes == 1_048_576
