"""Pruning old traces: by age, by count, by size, and while another process writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from store_spans import MS, T0, make_span

from tracekit._store import SQLiteSpanExporter, SQLiteStore, _prune
from tracekit._store._prune import prune, prune_to_size, used_bytes


def fill(store: SQLiteStore, count: int, spans_per_trace: int = 2) -> None:
    spans = []
    for t in range(1, count + 1):
        spans.append(make_span(t, 1, start_ms=t * 1000, end_ms=t * 1000 + 5))
        spans += [make_span(t, 1 + s, 1, start_ms=t * 1000 + 1, end_ms=t * 1000 + 2) for s in range(1, spans_per_trace)]
    store.write_spans(spans)


def trace_ids(store: SQLiteStore) -> list[int]:
    return sorted(int(t.trace_id[3:], 16) for t in store.list_traces(limit=None))


def rows(store: SQLiteStore, table: str) -> int:
    with store._connect(create=False) as conn:
        assert conn is not None
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def test_older_than_deletes_traces_spans_and_uploads(store: SQLiteStore) -> None:
    fill(store, 10)
    store.mark_uploaded([f"tr-{t:032x}" for t in range(1, 11)], "mlflow")
    deleted = prune(store, older_than_ns=T0 + 4000 * MS)  # traces 1..3 started before
    assert deleted == 3
    assert trace_ids(store) == list(range(4, 11))
    assert (rows(store, "spans"), rows(store, "uploads")) == (14, 7)
    assert store.get_trace(f"tr-{1:032x}") is None


def test_keep_newest(store: SQLiteStore) -> None:
    fill(store, 450)  # more than one delete batch
    assert prune(store, keep=5) == 445
    assert trace_ids(store) == list(range(446, 451))
    assert prune(store, keep=5) == 0
    assert prune(store, keep=0) == 5 and rows(store, "spans") == 0


def test_both_limits_apply(store: SQLiteStore) -> None:
    fill(store, 10)
    # keep the newest 8, and of the rest only those older than trace 2's start go
    assert prune(store, older_than_ns=T0 + 2000 * MS, keep=8) == 1
    assert trace_ids(store) == list(range(2, 11))


def test_a_trace_written_after_the_cut_is_kept(store: SQLiteStore) -> None:
    fill(store, 3)
    cut = time.time_ns()
    store.write_spans([make_span(1, 9, 1, start_ms=1001, end_ms=1002)])  # a late span of trace 1
    assert prune(store, keep=0, cut_ns=cut) == 2
    assert trace_ids(store) == [1]
    assert len(store.get_trace(f"tr-{1:032x}").spans) == 3  # type: ignore[union-attr]


def test_missing_store_prunes_nothing(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "none.db")
    assert prune(store, keep=1) == 0 and not store.path.exists()


def test_prune_to_size(store: SQLiteStore) -> None:
    big = {"mlflow.spanInputs": json.dumps("x" * 4000)}
    store.write_spans([make_span(t, 1, start_ms=t, end_ms=t + 1, attributes=big) for t in range(1, 301)])
    before = used_bytes(store)
    assert before > 1_200_000
    deleted = prune_to_size(store, 600_000)
    assert used_bytes(store) <= 600_000 * 0.9
    assert deleted > 150 and trace_ids(store)[-1] == 300  # the oldest went first


def test_exporter_keeps_the_store_under_its_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_prune, "CAP_CHECK_INTERVAL_S", 0.0)  # measure after every batch, not every 10 s
    exporter = SQLiteSpanExporter(tmp_path / "capped.db", max_mb=1)
    big = {"mlflow.spanInputs": json.dumps("y" * 8000)}
    cap = exporter._cap
    assert cap is not None
    for t in range(1, 301):  # ~2.4 MB in all
        assert exporter.export([make_span(t, 1, start_ms=t, end_ms=t + 1, attributes=big)]).name == "SUCCESS"
    cap.wait()
    cap.after_write()  # the batches written while the last prune ran
    cap.wait()
    assert cap.deleted > 100
    assert used_bytes(exporter.store) <= 1024 * 1024
    kept = trace_ids(exporter.store)
    assert kept[-1] == 300 and kept == list(range(kept[0], 301))  # the oldest went, the rest is whole
    exporter.shutdown()


WRITER = textwrap.dedent(
    """
    import json, sys, time
    sys.path[:0] = {paths!r}
    from store_spans import make_span
    from tracekit._store import SQLiteStore

    store = SQLiteStore({db!r})
    log = open({log!r}, "w")
    for t in range(1, {count} + 1):
        began = time.time_ns()
        t += 10_000  # apart from the traces the test wrote first
        spans = [make_span(t, 1, start_ms=t, end_ms=t + 1)] + [make_span(t, s, 1, start_ms=t) for s in range(2, 5)]
        store.write_spans(spans)
        log.write(json.dumps([t, began]) + "\\n")
        log.flush()
    """
)


def test_prune_while_another_process_writes(tmp_path: Path) -> None:
    db, log = tmp_path / "shared.db", tmp_path / "written.jsonl"
    store = SQLiteStore(db)
    fill(store, 50)
    paths = [str(Path(__file__).parent), *sys.path]
    script = WRITER.format(paths=paths, db=str(db), log=str(log), count=400)
    writer = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE, text=True)
    try:
        while not log.exists() or log.stat().st_size < 200:  # the writer is under way
            time.sleep(0.01)
        cut = time.time_ns()
        deleted = 0
        rounds = 0
        while writer.poll() is None or rounds == 0:
            deleted += prune(store, keep=0, cut_ns=cut)  # everything written before the cut
            rounds += 1
        _, stderr = writer.communicate(timeout=60)
    finally:
        if writer.poll() is None:
            writer.kill()
    assert writer.returncode == 0 and "locked" not in stderr, stderr
    written = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(written) == 400 and deleted >= 50
    after_cut = {t for t, began in written if began > cut}
    assert after_cut, "the writer finished before the cut: nothing to check"
    kept = set(trace_ids(store))
    assert after_cut <= kept  # nothing written after the cut was lost
    for t in after_cut:
        assert len(store.get_trace(f"tr-{t:032x}").spans) == 4  # type: ignore[union-attr]
    assert os.path.exists(db)


def test_store_max_mb_setting(tmp_path: Path) -> None:
    from tracekit import _config
    from tracekit._errors import ConfigError
    from tracekit._export import _exporters

    assert _config.resolve({}, {}).store_max_mb is None
    assert _config.resolve({}, {"TRACEKIT_STORE_MAX_MB": "50"}).store_max_mb == 50.0
    assert _config.resolve({}, {"TRACEKIT_STORE_MAX_MB": ""}).store_max_mb is None
    assert "TRACEKIT_STORE_MAX_MB" in _config.KNOWN_ENV
    with pytest.raises(ConfigError, match="TRACEKIT_STORE_MAX_MB"):
        _config.resolve({}, {"TRACEKIT_STORE_MAX_MB": "0.5"})
    with pytest.raises(ConfigError, match="store_max_mb"):
        _config._validate("store_max_mb", "lots")
    settings = _config.resolve({"store_max_mb": 2, "tracking_uri": f"sqlite:///{tmp_path / 's.db'}"}, {})
    [exporter] = _exporters.build(settings, {})
    assert isinstance(exporter, SQLiteSpanExporter)
    assert exporter._cap is not None and exporter._cap.max_bytes == 2 * 1024 * 1024
