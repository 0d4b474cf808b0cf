"""tracekit's exporters offer what the pipeline looks for (``tracekit/_export/_interface.py``)."""

from __future__ import annotations

from pathlib import Path

from tracekit._export import _interface as iface
from tracekit._export._sender import ReliableExporter
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
