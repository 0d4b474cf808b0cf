"""Writing spans to the store and reading traces back."""

from __future__ import annotations

import sqlite3
import stat

from opentelemetry.sdk.trace import Event
from store_spans import MS, T0, make_span, trace_id

from tracekit import _attributes as attr
from tracekit._model import span_data_from_readable
from tracekit._store import SQLiteStore


def test_missing_store_reads_empty_and_is_not_created(store: SQLiteStore) -> None:
    assert store.list_traces() == []
    assert store.get_trace(trace_id(1)) is None
    assert store.count() == 0
    assert not store.path.exists()


def test_first_write_creates_private_file_and_dirs(store: SQLiteStore) -> None:
    store.write_spans([make_span(1, 1)])
    assert store.path.exists()
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_round_trip_equals_direct_conversion(store: SQLiteStore) -> None:
    spans = [
        make_span(
            1,
            1,
            name="answer",
            inputs={"question": "hi"},
            outputs="hello",
            attributes={"tags": ("a", "b"), "n": 3, "ok": True},
            events=(Event("gen_ai.first_token", {"x": 1}, timestamp=T0 + 5 * MS),),
        ),
        make_span(1, 2, 1, name="chat", span_type="CHAT_MODEL", start_ms=1, end_ms=9, error="boom"),
    ]
    store.write_spans(spans)
    trace = store.get_trace(trace_id(1))
    assert trace is not None
    assert trace.spans == [span_data_from_readable(s) for s in spans]
    root = trace.root
    assert root is not None
    assert root.inputs == {"question": "hi"}
    assert root.outputs == "hello"
    assert root.attributes["tags"] == ["a", "b"]
    assert root.events == [{"name": "gen_ai.first_token", "timestamp_ns": T0 + 5 * MS, "attributes": {"x": 1}}]
    chat = trace.get_span("chat")
    assert chat is not None and chat.status == "ERROR" and chat.status_message == "boom"
    assert trace.children(root) == [chat]
    assert trace.find(span_type="CHAT_MODEL") == [chat]


def test_get_trace_accepts_both_id_forms(store: SQLiteStore) -> None:
    store.write_spans([make_span(0xABC, 1)])
    bare = f"{0xABC:032x}"
    assert store.get_trace(bare) == store.get_trace("tr-" + bare.upper())
    assert store.get_trace(bare) is not None
    assert store.find_trace_ids("tr-0000") == [trace_id(0xABC)]
    assert store.find_trace_ids("ffff") == []


def test_rewrite_is_idempotent(store: SQLiteStore) -> None:
    spans = [make_span(1, 1, usage={"input_tokens": 1, "output_tokens": 2, "total_tokens": 3}), make_span(1, 2, 1)]
    store.write_spans(spans)
    first = store.get_trace(trace_id(1))
    store.write_spans(spans)
    store.write_spans(spans[1:])
    assert store.count() == 1
    assert store.get_trace(trace_id(1)) == first
    [info] = store.list_traces()
    assert info.span_count == 2 and info.token_usage == {"input_tokens": 1, "output_tokens": 2, "total_tokens": 3}


def test_trace_stays_in_progress_until_root_arrives(store: SQLiteStore) -> None:
    store.write_spans([make_span(1, 2, 1, name="child", start_ms=2, end_ms=5)])
    [info] = store.list_traces()
    assert info.status == "IN_PROGRESS"
    assert info.name == "child"
    assert (info.start_time_ns, info.end_time_ns) == (T0 + 2 * MS, T0 + 5 * MS)
    store.write_spans([make_span(1, 1, name="root", end_ms=20, error="bad")])
    [info] = store.list_traces()
    assert (info.status, info.name, info.span_count, info.duration_ms) == ("ERROR", "root", 2, 20.0)


def test_trace_level_attributes_aggregate_over_spans_root_wins(store: SQLiteStore) -> None:
    store.write_spans(
        [
            make_span(
                1,
                1,
                name="root",
                attributes={attr.TRACE_TAG_PREFIX + "env": "prod", attr.TRACE_METADATA_PREFIX + "v": "1"},
                inputs={"q": "x" * 5000},
            ),
            make_span(
                1,
                2,
                1,
                start_ms=1,
                attributes={
                    attr.TRACE_TAG_PREFIX + "env": "dev",
                    attr.TRACE_TAG_PREFIX + "team": "ml",
                    attr.TRACE_NAME: "my-trace",
                    attr.SESSION_ID: "s1",
                    attr.USER_ID: "u1",
                },
            ),
        ]
    )
    [info] = store.list_traces()
    assert info.name == "my-trace"
    assert info.tags == {"env": "prod", "team": "ml", "mlflow.traceName": "my-trace"}
    assert info.metadata == {"v": "1"}
    assert (info.session_id, info.user_id) == ("s1", "u1")
    assert info.request_preview is not None and len(info.request_preview) == 1000
    assert info.response_preview is None
