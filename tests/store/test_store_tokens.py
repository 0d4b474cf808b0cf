"""Token totals follow MLflow's rule: skip spans whose ancestor already has usage."""

from __future__ import annotations

from store_spans import make_span, trace_id

from tracekit import _attributes as attr
from tracekit._store import SQLiteStore


def _usage(i: int, o: int) -> dict[str, int]:
    return {"input_tokens": i, "output_tokens": o, "total_tokens": i + o}


def test_usage_on_a_wrapper_span_hides_its_descendants(store: SQLiteStore) -> None:
    store.write_spans(
        [
            make_span(1, 1, name="root"),
            make_span(1, 2, 1, name="agent", usage=_usage(10, 20)),  # counts; hides 3 and 4
            make_span(1, 3, 2, name="llm-a", usage=_usage(4, 8)),
            make_span(1, 4, 3, name="llm-deep", usage=_usage(1, 1)),
            make_span(1, 5, 1, name="llm-b", usage=_usage(1, 2)),  # sibling: counts
        ]
    )
    [info] = store.list_traces()
    assert info.token_usage == _usage(11, 22)
    trace = store.get_trace(trace_id(1))
    assert trace is not None and trace.info.token_usage == _usage(11, 22)


def test_gen_ai_usage_keys_fill_in_when_mlflow_key_is_missing(store: SQLiteStore) -> None:
    store.write_spans(
        [
            make_span(1, 1, name="root"),
            make_span(1, 2, 1, attributes={attr.GEN_AI_USAGE_INPUT: 5, attr.GEN_AI_USAGE_OUTPUT: 7}),
            make_span(1, 3, 1, usage={**_usage(1, 1), "cache_read_input_tokens": 1}),
        ]
    )
    [info] = store.list_traces()
    assert info.token_usage == {**_usage(6, 8), "cache_read_input_tokens": 1}


def test_no_usage_anywhere_is_none(store: SQLiteStore) -> None:
    store.write_spans([make_span(1, 1)])
    assert store.list_traces()[0].token_usage is None


def test_usage_totals_update_as_spans_arrive(store: SQLiteStore) -> None:
    store.write_spans([make_span(1, 3, 2, usage=_usage(1, 1))])
    assert store.list_traces()[0].token_usage == _usage(1, 1)
    # The parent arrives later with its own usage: the child no longer counts.
    store.write_spans([make_span(1, 2, 1, usage=_usage(5, 5)), make_span(1, 1)])
    assert store.list_traces()[0].token_usage == _usage(5, 5)
