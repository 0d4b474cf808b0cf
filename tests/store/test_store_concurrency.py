"""Several processes writing one store at once lose nothing and never see 'locked'."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from store_spans import trace_id

from tracekit._store import SQLiteStore

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent

# Each writer waits for the go file so that all of them hit a fresh file together,
# including the schema creation, then writes BATCHES transactions of its own traces
# plus one span per batch into a trace that every writer shares.
WRITER = """
import os, sys, time
from store_spans import make_span
from tracekit._store import SQLiteStore
path, go, worker, batches = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
while not os.path.exists(go):
    time.sleep(0.001)
store = SQLiteStore(path)
for b in range(batches):
    trace = worker * 1000 + b + 1
    spans = [make_span(trace, 1, name=f"w{worker}")]
    two = {"input_tokens": 1, "output_tokens": 1, "total_tokens": 2}
    one = {"input_tokens": 1, "output_tokens": 0, "total_tokens": 1}
    spans += [make_span(trace, s, 1, usage=two) for s in range(2, 6)]
    spans.append(make_span(999_999, worker * 1000 + b + 2, 1, usage=one))
    store.write_spans(spans)
"""

WORKERS = 4
BATCHES = 40


def test_processes_write_one_store_at_once(tmp_path: Path) -> None:
    path = tmp_path / "traces.db"
    go = tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(HERE)])}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), str(go), str(w), str(BATCHES)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(1, WORKERS + 1)
    ]
    reader_errors: list[BaseException] = []
    stop = threading.Event()

    def read_while_writing() -> None:
        reader = SQLiteStore(path)
        while not stop.is_set():
            try:
                reader.list_traces(limit=5)
            except BaseException as exc:
                reader_errors.append(exc)
                return
            time.sleep(0.001)

    go.touch()
    thread = threading.Thread(target=read_while_writing)
    thread.start()
    try:
        results = [(p.wait(timeout=120), p.stderr.read() if p.stderr else "") for p in procs]
    finally:
        stop.set()
        thread.join()
    for code, err in results:
        assert code == 0, err
        assert "locked" not in err
    assert reader_errors == []

    store = SQLiteStore(path)
    assert store.count() == WORKERS * BATCHES + 1
    for w in range(1, WORKERS + 1):
        for b in range(BATCHES):
            trace = store.get_trace(trace_id(w * 1000 + b + 1))
            assert trace is not None and len(trace.spans) == 5
    shared = store.list_traces(status="IN_PROGRESS")
    assert len(shared) == 1
    # The shared trace's summary saw every writer's spans despite the interleaving.
    assert shared[0].span_count == WORKERS * BATCHES
    n = WORKERS * BATCHES
    assert shared[0].token_usage == {"input_tokens": n, "output_tokens": 0, "total_tokens": n}
