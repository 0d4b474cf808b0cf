"""SQLiteSpanExporter behind a real TracerProvider, and its never-raise contract."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from store_spans import make_span

from tracekit import _attributes as attr
from tracekit._store import SQLiteSpanExporter, SQLiteStore, default_store_path, store_path_from_uri


def test_spans_from_a_tracer_provider_land_in_the_store(store: SQLiteStore) -> None:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(SQLiteSpanExporter(store)))
    tracer = provider.get_tracer("test")
    with (
        tracer.start_as_current_span("answer", attributes={attr.SPAN_TYPE: "CHAIN"}) as root,
        tracer.start_as_current_span("chat", attributes={attr.SPAN_TYPE: "CHAT_MODEL"}),
    ):
        pass
    provider.shutdown()
    [info] = store.list_traces()
    assert info.trace_id == f"tr-{root.get_span_context().trace_id:032x}"
    trace = store.get_trace(info.trace_id)
    assert trace is not None and [s.name for s in trace.spans] == ["answer", "chat"]
    assert trace.root is not None and trace.children(trace.root)[0].span_type == "CHAT_MODEL"


def test_export_failure_returns_failure_and_logs(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    exporter = SQLiteSpanExporter(blocker / "traces.db")  # parent is a file: cannot create
    with caplog.at_level(logging.WARNING, logger="tracekit"):
        assert exporter.export([make_span(1, 1)]) is SpanExportResult.FAILURE
        assert exporter.export([make_span(1, 1)]) is SpanExportResult.FAILURE
    records = [r for r in caplog.records if r.name == "tracekit"]
    # one line naming the file and the cause, once per cause; no traceback by default
    assert [r.getMessage() for r in records] == [
        f"tracekit: could not write 1 span(s) to the local store {blocker / 'traces.db'}: "
        "a parent of the path is a file, not a directory"
    ]
    assert not records[0].exc_info


def test_export_failure_traceback_with_tracekit_debug(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACEKIT_DEBUG", "1")
    (tmp_path / "file").write_text("")
    exporter = SQLiteSpanExporter(tmp_path / "file" / "traces.db")
    with caplog.at_level(logging.WARNING, logger="tracekit"):
        assert exporter.export([make_span(1, 1)]) is SpanExportResult.FAILURE
    [record] = [r for r in caplog.records if r.name == "tracekit"]
    assert record.exc_info is not None


def test_shutdown_refuses_further_batches(store: SQLiteStore) -> None:
    exporter = SQLiteSpanExporter(store)
    assert exporter.force_flush() is True
    exporter.shutdown()
    assert exporter.export([make_span(1, 1)]) is SpanExportResult.FAILURE
    assert store.count() == 0


def test_default_path_and_uri(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TRACEKIT_HOME", str(tmp_path))
    assert default_store_path() == tmp_path / "traces.db"
    assert SQLiteSpanExporter().store.path == tmp_path / "traces.db"
    monkeypatch.delenv("TRACEKIT_HOME")
    assert default_store_path() == Path("~/.tracekit/traces.db").expanduser()
    assert store_path_from_uri("sqlite:////tmp/a.db") == Path("/tmp/a.db")
    assert store_path_from_uri("sqlite:///rel.db") == Path("rel.db")
    assert store_path_from_uri("/plain/path.db") == Path("/plain/path.db")
    with pytest.raises(ValueError):
        store_path_from_uri("sqlite://host/x")
