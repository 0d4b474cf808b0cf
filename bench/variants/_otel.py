"""What the OpenTelemetry-based peers (OpenLLMetry, OpenInference) share: a
TracerProvider with the SDK's BatchSpanProcessor, and an exporter that does what
shipping costs short of the socket -- it encodes every batch to OTLP protobuf --
then counts the spans and keeps the last batch for the proof of content.
"""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable, Sequence
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

PARENT = "bench_parent"


class CountingExporter(SpanExporter):
    def __init__(self) -> None:
        from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

        self._encode = encode_spans
        self._lock = threading.Lock()
        self.spans = 0
        self.parents = 0
        self.last: list[dict[str, Any]] = []
        self.bytes = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        data = self._encode(spans).SerializeToString()
        llm = [dict(s.attributes or {}) for s in spans if s.name != PARENT]
        with self._lock:
            self.bytes += len(data)
            self.spans += len(spans)
            self.parents += len(spans) - len(llm)
            if llm:
                self.last = llm[-5:]
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


class OTelPeer:
    """One TracerProvider, the peer's instrumentors, and a parent-span decorator."""

    def __init__(self, instrumentors: dict[str, Callable[[], Any]]) -> None:
        self.exporter = CountingExporter()
        self.provider = TracerProvider()
        self.provider.add_span_processor(BatchSpanProcessor(self.exporter))
        self.tracer = self.provider.get_tracer("bench")
        self._factories = instrumentors
        self._instrumentors: dict[str, Any] = {}

    def enable(self, provider: str) -> None:
        inst = self._instrumentors.get(provider)
        if inst is None:
            inst = self._instrumentors[provider] = self._factories[provider]()
        # skip_dep_check: the peers declare SDK version ranges that predate openai 3.x / anthropic 2.x;
        # they are asked to try anyway, and the proof of content tells whether they worked
        inst.instrument(tracer_provider=self.provider, skip_dep_check=True)

    def disable(self, provider: str) -> None:
        self._instrumentors[provider].uninstrument()

    def parent(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        # the peers have no decorator of their own: a plain span around the call
        tracer = self.tracer
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def awrapper(*args: Any, **kwargs: Any) -> Any:
                with tracer.start_as_current_span(PARENT):
                    return await fn(*args, **kwargs)

            return awrapper

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with tracer.start_as_current_span(PARENT):
                return fn(*args, **kwargs)

        return wrapper

    def flush(self) -> None:
        self.provider.force_flush()

    def proof(self) -> dict[str, Any]:
        from _apps import has_text, has_usage

        exp = self.exporter
        with exp._lock:
            last = list(exp.last)
            return {
                "spans": exp.spans,
                "llm_spans": exp.spans - exp.parents,
                "parents": exp.parents,
                "text_ok": bool(last) and all(has_text(a) for a in last),
                "usage_ok": bool(last) and all(has_usage(a) for a in last),
                "otlp_bytes": exp.bytes,
            }
