"""flush() counts, the bounded queue, and the exit hook that drains to the local store."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import tracekit
from tracekit import _errors
from tracekit._store import SQLiteSpanExporter, SQLiteStore


def test_flush_delivers_to_the_local_store_and_counts(store_path: Path) -> None:
    @tracekit.trace
    def work(i: int) -> int:
        return i

    for i in range(25):
        work(i)
    result = tracekit.flush(timeout=10)
    assert (result.delivered, result.pending, result.dropped, result.failed) == (25, 0, 0, 0)
    assert result.ok
    assert SQLiteStore(store_path).count() == 25
    trace = tracekit.get_trace(tracekit.get_last_trace_id() or "")
    assert trace is not None and trace.spans[0].inputs == {"i": 24}


def test_get_trace_flushes_first_and_accepts_both_id_forms(store_path: Path) -> None:
    with tracekit.start_span("one") as span:
        trace_id = span.trace_id
    assert trace_id is not None
    by_mlflow_id = tracekit.get_trace(trace_id)
    by_hex = tracekit.get_trace(trace_id[3:])
    assert by_mlflow_id is not None and by_hex is not None
    assert by_mlflow_id.info.trace_id == by_hex.info.trace_id == trace_id
    assert tracekit.get_trace("tr-" + "0" * 32) is None


def test_a_full_queue_applies_back_pressure_to_the_local_store(
    store_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # a queue of 5 and a long export interval: the worker will not drain it in time, so
    # the app's thread writes the queued batch to the store itself instead of dropping
    tracekit.configure(max_queue_size=5, export_interval=60, export_batch_size=1000)
    with caplog.at_level(logging.ERROR, logger="tracekit"):
        for i in range(12):
            with tracekit.start_span(f"s{i}"):
                pass
        # before any flush, the overflow is already in the store
        assert SQLiteStore(store_path).count() >= 5
        result = tracekit.flush(timeout=10)
    assert (result.delivered, result.dropped, result.pending, result.failed) == (12, 0, 0, 0)
    assert result.ok
    assert SQLiteStore(store_path).count() == 12
    assert not [r for r in caplog.records if "export queue full" in r.getMessage()]


@pytest.mark.allow_internal_errors
def test_when_the_back_pressure_write_fails_the_drop_is_counted_and_logged_once(
    store_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    tracekit.configure(max_queue_size=5, export_interval=60, export_batch_size=1000)

    def broken(self: object, spans: object) -> None:
        raise OSError("disk full")

    with caplog.at_level(logging.ERROR, logger="tracekit"), _errors.lenient():
        for i in range(5):  # fills the queue
            with tracekit.start_span(f"s{i}"):
                pass
        monkeypatch.setattr(SQLiteSpanExporter, "export", broken)
        for i in range(5, 17):  # at s5, s10, s15 the app's thread tries the 5 queued, fails, drops
            with tracekit.start_span(f"s{i}"):
                pass
        monkeypatch.undo()
        result = tracekit.flush(timeout=10)
    # three batches of five failed; s15 and s16 were still queued and reach the store
    assert (result.delivered, result.dropped, result.pending) == (2, 15, 0)
    assert not result.ok
    drops = [r for r in caplog.records if "export queue full" in r.getMessage()]
    assert len(drops) == 1  # logged once, counted always
    assert "app's thread failed" in drops[0].getMessage()


def test_a_tight_loop_with_a_small_queue_loses_nothing(store_path: Path) -> None:
    # a CPU-bound loop starves the export thread of the GIL: back-pressure, not drops
    tracekit.configure(max_queue_size=256)

    @tracekit.trace
    def step(i: int) -> int:
        return i * i

    total = 0
    for i in range(20_000):
        total += step(i)
    result = tracekit.flush(timeout=60)
    assert (result.delivered, result.dropped, result.failed, result.pending) == (20_000, 0, 0, 0)
    assert SQLiteStore(store_path).count() == 20_000


def test_exit_hook_drains_pending_spans(tmp_path: Path) -> None:
    db = tmp_path / "exit.db"
    script = textwrap.dedent(
        f"""
        import tracekit
        tracekit.configure(tracking_uri="sqlite:///{db}", export_interval=3600)
        @tracekit.trace
        def last_call(n):
            return n
        for n in range(50):
            last_call(n)
        # no flush: the process exits right away and the exit hook must drain
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60, env={"TRACEKIT_HOME": str(tmp_path)})
    assert SQLiteStore(db).count() == 50


def test_exit_hook_is_bounded_when_export_hangs(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import time, tracekit
        from tracekit._store import SQLiteSpanExporter
        SQLiteSpanExporter.export = lambda self, spans: time.sleep(600)
        tracekit.configure(tracking_uri="sqlite:///{tmp_path / 'x.db'}", exit_timeout=1)
        with tracekit.start_span("stuck"):
            pass
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], timeout=60, capture_output=True, text=True, env={"TRACEKIT_HOME": str(tmp_path)}
    )
    assert proc.returncode == 0
    # in words: what became of the span, and why
    assert proc.stderr.splitlines() == [
        f"tracekit: 1 span(s) not recorded: not written to the local store {tmp_path / 'x.db'} before tracekit "
        "stopped (the export did not finish in time)",
        "tracekit at exit: 1 span dropped",
    ]


def test_shutdown_then_new_spans_start_a_fresh_pipeline(store_path: Path) -> None:
    with tracekit.start_span("before"):
        pass
    assert tracekit.shutdown(timeout=10).delivered == 1
    with tracekit.start_span("after"):
        pass
    assert tracekit.flush(timeout=10).delivered == 1
    assert SQLiteStore(store_path).count() == 2


def test_reconfiguring_sends_queued_spans_to_the_old_destination(tmp_path: Path) -> None:
    first, second = tmp_path / "a.db", tmp_path / "b.db"
    tracekit.set_tracking_uri(f"sqlite:///{first}")
    with tracekit.start_span("to-a"):
        pass
    tracekit.set_tracking_uri(f"sqlite:///{second}")
    with tracekit.start_span("to-b"):
        pass
    tracekit.flush(timeout=10)
    assert [t.name for t in SQLiteStore(first).list_traces()] == ["to-a"]
    assert [t.name for t in SQLiteStore(second).list_traces()] == ["to-b"]


def test_exit_hook_drains_after_a_reconfiguration(tmp_path: Path) -> None:
    first, second = tmp_path / "a.db", tmp_path / "b.db"
    script = textwrap.dedent(
        f"""
        import tracekit
        tracekit.configure(tracking_uri="sqlite:///{first}", export_interval=3600)
        with tracekit.start_span("to-a"):
            pass
        tracekit.configure(tracking_uri="sqlite:///{second}", export_interval=3600)
        for _ in range(10):
            with tracekit.start_span("to-b"):
                pass
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60, env={"TRACEKIT_HOME": str(tmp_path)})
    assert SQLiteStore(first).count() == 1
    assert SQLiteStore(second).count() == 10


def test_a_forked_child_exports_its_own_spans(tmp_path: Path) -> None:
    # gunicorn --preload, multiprocessing with fork: the worker thread does not survive a fork
    db = tmp_path / "fork.db"
    script = textwrap.dedent(
        f"""
        import os, tracekit
        tracekit.configure(tracking_uri="sqlite:///{db}")
        with tracekit.start_span("parent-before-fork"):
            pass
        tracekit.flush(timeout=10)  # the parent's pipeline and worker thread are running
        with tracekit.start_span("open-across-fork"):
            pid = os.fork()
            if pid == 0:
                @tracekit.trace
                def child_work(n):
                    return n
                for n in range(5):
                    child_work(n)
        if pid == 0:
            result = tracekit.flush(timeout=10)
            os._exit(0 if result.ok and result.delivered == 5 else 3)  # its own five, not the parent's span
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0, status
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60, env={"TRACEKIT_HOME": str(tmp_path)})
    store = SQLiteStore(db)
    traces = {t.name: t for t in store.list_traces(limit=100)}
    assert sorted(traces) == ["open-across-fork", "parent-before-fork"]
    shared = store.get_trace(traces["open-across-fork"].trace_id)
    assert shared is not None
    # the child's five calls nest under the parent's span, which only the parent ended
    assert sorted(s.name for s in shared.spans) == ["child_work"] * 5 + ["open-across-fork"]
    assert shared.root is not None
    assert all(s.parent_id == shared.root.span_id for s in shared.spans if s.name == "child_work")


def test_flush_result_in_words() -> None:
    from tracekit._pipeline import FlushResult

    assert FlushResult().describe() == "no spans"
    assert FlushResult(delivered=1).describe() == "1 span delivered"
    assert FlushResult(delivered=12, spilled=3, dropped=2).describe() == (
        "12 spans delivered, 3 spilled to the outbox (sent later), 2 dropped"
    )
    assert FlushResult(pending=1, failed=4).describe() == (
        "1 span still being sent (not confirmed), 4 failed (refused by the destination, or not written)"
    )
