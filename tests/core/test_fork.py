"""A forked child never exports a span it did not start (gunicorn --preload, multiprocessing
with fork): the parent owns the spans open at the fork and ends them itself."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tracekit._store import SQLiteStore

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")

CHILD_LEAVES_THE_PARENTS_SPANS = """
import os, sys, tracekit
tracekit.configure(tracking_uri="sqlite:///{db}")

@tracekit.trace(span_type="CHAIN")
def handler():
    with tracekit.start_span("step", span_type="TOOL"):
        pid = os.fork()
        if pid == 0:
            with tracekit.start_span("child-own", span_type="TOOL"):
                pass
            # the child leaves the parent's open spans with an exception (as a worker
            # that exits does): before the fix it exported both, as ERROR, over the parent's
            raise SystemExit(0)
    return pid

try:
    pid = handler()
except SystemExit:
    result = tracekit.flush(timeout=10)
    print("child", result.delivered, result.failed, result.dropped, flush=True)
    os._exit(0)
_, status = os.waitpid(pid, 0)
assert os.waitstatus_to_exitcode(status) == 0, status
print("parent", tracekit.flush(timeout=10).delivered, flush=True)
"""


def test_a_child_leaving_the_parents_open_spans_does_not_export_them(tmp_path: Path) -> None:
    db = tmp_path / "fork.db"
    proc = subprocess.run(
        [sys.executable, "-c", CHILD_LEAVES_THE_PARENTS_SPANS.format(db=db)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "TRACEKIT_HOME": str(tmp_path)},
    )
    assert proc.returncode == 0, proc.stderr
    lines = sorted(proc.stdout.split("\n"))[1:]
    assert lines == ["child 1 0 0", "parent 2"], proc.stdout + proc.stderr
    assert proc.stderr == ""

    store = SQLiteStore(db)
    [info] = store.list_traces(limit=10)
    trace = store.get_trace(info.trace_id)
    assert trace is not None and trace.root is not None
    # the parent's spans as the parent ended them: OK, no exception event from the child
    assert trace.root.name == "handler" and trace.root.status == "OK" and info.status == "OK"
    by_name = {s.name: s for s in trace.spans}
    assert sorted(by_name) == ["child-own", "handler", "step"]
    assert by_name["step"].status == "OK" and not by_name["step"].events
    assert by_name["step"].parent_id == trace.root.span_id
    # the child's own span is kept, under the span it ran in
    assert by_name["child-own"].parent_id == by_name["step"].span_id
