"""The summary row written from a batch in memory equals the one recomputed from all
stored spans, however a trace's spans are split over batches; and the writer
connection is kept, replaced after an error, and not carried across a fork."""

from __future__ import annotations

import os
import random
import sqlite3

import pytest
from store_spans import make_span, trace_id

from tracekit import _attributes as attr
from tracekit._model import summarize_spans
from tracekit._store import SQLiteStore


def _random_trace(rng: random.Random, trace: int) -> list:  # type: ignore[type-arg]
    n = rng.randint(1, 7)
    spans = []
    for s in range(1, n + 1):
        parent = None if s == 1 else rng.randint(1, s - 1)
        attributes: dict[str, object] = {}
        if rng.random() < 0.4:
            attributes[attr.TRACE_TAG_PREFIX + rng.choice("ab")] = f"v{s}"
        if rng.random() < 0.3:
            attributes[attr.SESSION_ID] = f"sess{s}"
        if rng.random() < 0.2:
            attributes[attr.TRACE_METADATA_PREFIX + "k"] = f"m{s}"
        usage = None
        if rng.random() < 0.5:
            i, o = rng.randint(1, 9), rng.randint(1, 9)
            usage = {"input_tokens": i, "output_tokens": o, "total_tokens": i + o}
        spans.append(
            make_span(
                trace,
                s,
                parent,
                name=f"s{s}",
                start_ms=rng.randint(0, 50),
                end_ms=rng.randint(60, 100),
                error="boom" if rng.random() < 0.2 else None,
                usage=usage,
                inputs={"q": f"question {trace}"} if s == 1 else None,
                outputs=f"answer {trace}" if s == 1 else None,
                attributes=attributes,
            )
        )
    return spans


@pytest.mark.parametrize("seed", range(6))
def test_summary_rows_match_a_full_recompute_however_spans_are_batched(store: SQLiteStore, seed: int) -> None:
    rng = random.Random(seed)
    spans = [s for t in range(1, 30) for s in _random_trace(rng, t)]
    rng.shuffle(spans)
    # some spans twice (a retried batch), then cut into batches of random sizes
    spans += rng.sample(spans, 10)
    i = 0
    while i < len(spans):
        n = rng.randint(1, 12)
        store.write_spans(spans[i : i + n])
        i += n
    listed = {info.trace_id: info for info in store.list_traces(limit=None)}
    assert len(listed) == 29
    for tid, info in listed.items():
        trace = store.get_trace(tid)
        assert trace is not None
        expected = summarize_spans(trace.spans)
        assert info == expected, tid


def test_previews_are_cut_from_the_stored_text(store: SQLiteStore) -> None:
    store.write_spans([make_span(1, 1, inputs={"q": "x" * 5000}, outputs="plain answer")])
    [info] = store.list_traces()
    assert info.request_preview is not None and len(info.request_preview) == 1000
    assert info.request_preview.startswith('{"q": "xxx') and info.request_preview.endswith("...")
    assert info.response_preview == "plain answer"  # a JSON string previews as its text


def test_the_writer_connection_is_kept_and_replaced_after_an_error(store: SQLiteStore) -> None:
    store.write_spans([make_span(1, 1)])
    first = store._writer
    store.write_spans([make_span(2, 1)])
    assert store._writer is first is not None
    first.close()  # e.g. a disk error left it unusable
    with pytest.raises(sqlite3.ProgrammingError):
        store.write_spans([make_span(3, 1)])
    assert store._writer is None
    store.write_spans([make_span(3, 1)])
    assert store._writer is not None and store._writer is not first
    assert store.count() == 3
    store.close()
    assert store._writer is None
    store.write_spans([make_span(4, 1)])
    assert store.count() == 4


def test_a_store_file_deleted_under_the_writer_is_created_again(store: SQLiteStore) -> None:
    store.write_spans([make_span(1, 1)])
    for suffix in ("", "-wal", "-shm"):
        store.path.with_name(store.path.name + suffix).unlink(missing_ok=True)
    store.write_spans([make_span(2, 1)])  # not into the unlinked file
    assert [t.trace_id for t in SQLiteStore(store.path).list_traces()] == [trace_id(2)]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_opens_its_own_writer(store: SQLiteStore) -> None:
    store.write_spans([make_span(1, 1)])
    parent_conn = store._writer
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through its exit code
        try:
            store.write_spans([make_span(2, 1)])
            os._exit(0 if store._writer is not parent_conn else 3)
        except BaseException:
            os._exit(4)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    store.write_spans([make_span(3, 1)])  # the parent's connection still works
    assert store._writer is parent_conn
    assert {t.trace_id for t in store.list_traces()} == {trace_id(1), trace_id(2), trace_id(3)}
