"""In-memory capture of finished spans, for tests (ours and users')."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor

from tracekit import _tracer
from tracekit._model import SpanData, Trace, span_data_from_readable, trace_from_spans


class SpanCapture(SpanProcessor):
    """Collects every tracekit span as it ends, synchronously, beside the export pipeline.

    >>> with tracekit.testing.capture() as captured:
    ...     answer("hi")
    >>> [s.name for s in captured.spans]
    ['answer']
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._spans: list[ReadableSpan] = []

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        pass

    def on_end(self, span: ReadableSpan) -> None:
        with self._lock:
            self._spans.append(span)

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True

    @property
    def readable_spans(self) -> list[ReadableSpan]:
        """The raw OpenTelemetry spans, in the order they ended."""
        with self._lock:
            return list(self._spans)

    @property
    def spans(self) -> list[SpanData]:
        """Every captured span, in the order they ended."""
        return [span_data_from_readable(s) for s in self.readable_spans]

    @property
    def traces(self) -> list[Trace]:
        """Captured spans grouped into traces, in the order their first span ended."""
        by_trace: dict[int, list[ReadableSpan]] = {}
        for span in self.readable_spans:
            assert span.context is not None
            by_trace.setdefault(span.context.trace_id, []).append(span)
        return [trace_from_spans([span_data_from_readable(s) for s in spans]) for spans in by_trace.values()]

    def clear(self) -> None:
        with self._lock:
            self._spans.clear()


@contextmanager
def capture() -> Iterator[SpanCapture]:
    """Capture the spans that end inside the block."""
    processor = SpanCapture()
    _tracer.add_span_processor(processor)
    try:
        yield processor
    finally:
        _tracer.remove_span_processor(processor)
