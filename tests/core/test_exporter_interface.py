"""tracekit's exporters offer what the pipeline looks for (``tracekit/_export/_interface.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from opentelemetry.sdk.trace.export import SpanExportResult

from tracekit import _config
from tracekit._export import _interface as iface
from tracekit._export._sender import ReliableExporter
from tracekit._pipeline import FlushResult, Pipeline
from tracekit._store import SQLiteSpanExporter


def test_the_local_store_is_an_exporter_that_describes_its_failures(tmp_path: Path) -> None:
    exporter = SQLiteSpanExporter(tmp_path / "traces.db")
    try:
        assert isinstance(exporter, iface.Exporter)
        assert isinstance(exporter, iface.DescribesFailure)
        assert not isinstance(exporter, iface.Spills)  # the pipeline hands it spans directly
        assert not getattr(exporter, "counts_spans", False)
    finally:
        exporter.shutdown()


def test_the_reliable_senders_offer_every_capability() -> None:
    for capability in (iface.Exporter, iface.Spills, iface.Ticks, iface.Aborts, iface.HasDeadline, iface.ReportsStats):
        for name in [n for n in dir(capability) if not n.startswith("_")]:
            assert callable(getattr(ReliableExporter, name, None)), (capability.__name__, name)
    assert ReliableExporter.counts_spans is True


def _pipeline_with(exporter: Any) -> tuple[Pipeline, Any]:
    from opentelemetry.sdk.trace import TracerProvider

    pipeline = Pipeline(_config.resolve({}, {}), [exporter])
    provider = TracerProvider()
    provider.add_span_processor(pipeline)
    return pipeline, provider.get_tracer("test")


def test_a_plain_opentelemetry_exporter_needs_no_capability() -> None:
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    assert not any(
        isinstance(exporter, c)
        for c in (iface.Spills, iface.Ticks, iface.Aborts, iface.HasDeadline, iface.ReportsStats, iface.DescribesFailure)
    )
    pipeline, tracer = _pipeline_with(exporter)
    tracer.start_span("one").end()
    assert pipeline.flush(5.0).delivered == 1
    pipeline._tick()
    pipeline.set_deadline(None)
    pipeline.shutdown()
    assert [s.name for s in exporter.get_finished_spans()] == ["one"]
    assert pipeline.stats() == FlushResult(delivered=1)


class _Capable:
    """Duck-typed: no base class, only the declared members; the pipeline finds each."""

    counts_spans = True

    def __init__(self) -> None:
        self.calls: list[str] = []

    def export(self, spans: Sequence[Any]) -> SpanExportResult:
        self.calls.append(f"export {len(spans)}")
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        self.calls.append("shutdown")

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True

    def spill(self, spans: Sequence[Any]) -> bool:
        self.calls.append(f"spill {len(spans)}")
        return True

    def tick(self) -> None:
        self.calls.append("tick")

    def abort(self) -> None:
        self.calls.append("abort")

    def set_deadline(self, deadline: float | None) -> None:
        self.calls.append(f"deadline {deadline}")

    def stats(self) -> dict[str, int]:
        return {"delivered": 7, "failed": 1}


def test_the_pipeline_uses_each_declared_capability() -> None:
    exporter = _Capable()
    pipeline, tracer = _pipeline_with(exporter)
    tracer.start_span("one").end()
    pipeline.flush(5.0)
    pipeline._tick()
    pipeline.set_deadline(1.5)
    pipeline._spill([], "test")
    pipeline.shutdown()
    assert "tick" in exporter.calls  # ours, and the idle worker's whenever it ran
    assert [c for c in exporter.calls if c != "tick"] == ["export 1", "deadline 1.5", "spill 0", "abort", "shutdown"]
    result = pipeline.stats()
    assert (result.delivered, result.failed) == (7, 1)  # its own counts, none of the pipeline's
