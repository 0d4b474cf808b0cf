"""Listing, filtering and paging trace summaries."""

from __future__ import annotations

from store_spans import MS, T0, make_span, trace_id

from tracekit._store import SQLiteStore


def _fill(store: SQLiteStore) -> None:
    store.write_spans(
        [
            make_span(1, 1, name="answer_question", start_ms=0, end_ms=5),
            make_span(2, 1, name="summarize", start_ms=100, end_ms=150, error="x"),
            make_span(3, 2, 1, name="Answer_Followup", start_ms=200, end_ms=210),  # no root yet
            make_span(4, 1, name="embed", start_ms=300, end_ms=301),
        ]
    )


def test_newest_first_with_limit_and_offset(store: SQLiteStore) -> None:
    _fill(store)
    assert [t.trace_id for t in store.list_traces()] == [trace_id(i) for i in (4, 3, 2, 1)]
    assert [t.trace_id for t in store.list_traces(limit=2, offset=1)] == [trace_id(3), trace_id(2)]
    assert len(store.list_traces(limit=None)) == store.count() == 4


def test_name_substring_is_case_insensitive_and_glob_matches_whole_name(store: SQLiteStore) -> None:
    _fill(store)
    assert [t.name for t in store.list_traces(name="answer")] == ["Answer_Followup", "answer_question"]
    assert [t.name for t in store.list_traces(name="*ize")] == ["summarize"]
    assert store.list_traces(name="ize*") == []


def test_status_and_time_filters(store: SQLiteStore) -> None:
    _fill(store)
    assert [t.trace_id for t in store.list_traces(status="ERROR")] == [trace_id(2)]
    assert [t.trace_id for t in store.list_traces(status="in_progress")] == [trace_id(3)]
    assert [t.trace_id for t in store.list_traces(status="OK")] == [trace_id(4), trace_id(1)]
    window = store.list_traces(since_ns=T0 + 100 * MS, until_ns=T0 + 300 * MS)
    assert [t.trace_id for t in window] == [trace_id(3), trace_id(2)]


def test_not_uploaded_to_skips_uploaded_until_the_trace_changes(store: SQLiteStore) -> None:
    _fill(store)
    dest = "http://mlflow:5000#1"
    store.mark_uploaded([trace_id(1), trace_id(3)[3:]], dest)  # either id form
    assert [t.trace_id for t in store.list_traces(not_uploaded_to=dest)] == [trace_id(4), trace_id(2)]
    assert len(store.list_traces(not_uploaded_to="elsewhere")) == 4
    # Trace 3's root arrives after the upload: it must be uploaded again.
    store.write_spans([make_span(3, 1, name="root", start_ms=200, end_ms=220)])
    assert [t.trace_id for t in store.list_traces(not_uploaded_to=dest)] == [trace_id(4), trace_id(3), trace_id(2)]
    store.mark_uploaded([], dest)  # no-op
