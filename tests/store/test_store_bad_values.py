"""The store's batch write: a span with values SQLite or JSON cannot take costs nothing
but those values. Spans here come from another producer (ReadableSpans built
directly), so they never passed tracekit's gate: the store's own fallbacks are tested."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.trace import SpanContext, Status, StatusCode
from store_spans import T0, make_span, trace_id

from tracekit import _attributes as attr
from tracekit import _errors
from tracekit._store import SQLiteSpanExporter, SQLiteStore

BAD_ATTRIBUTES: dict[str, tuple[Any, Any]] = {
    "surrogate": ("x\ud800", "x\ufffd"),
    "nan": (float("nan"), "nan"),
    "inf": (float("inf"), "inf"),
    "huge int": (10**5000, "<int of about 5001 digits>"),
    "bytes": (b"%PDF-1.7 rest", "<bytes application/pdf, 13 bytes>"),
    "surrogates in a list": (("ok", "\udc80"), ["ok", "\ufffd"]),
}


@pytest.mark.parametrize("label", list(BAD_ATTRIBUTES))
def test_one_bad_attribute_in_a_batch_of_512_costs_only_itself(label: str, store: SQLiteStore) -> None:
    value, expected = BAD_ATTRIBUTES[label]
    spans = [make_span(1, 1, name="root")] + [make_span(1, i, 1, name=f"child-{i}") for i in range(2, 512)]
    spans.append(make_span(1, 600, 1, name="bad", attributes={"bad": value, "fine": 1}))
    assert SQLiteSpanExporter(store).export(spans).name == "SUCCESS"
    trace = store.get_trace(trace_id(1))
    assert trace is not None and len(trace.spans) == 512
    [bad] = [s for s in trace.spans if s.name == "bad"]
    assert bad.attributes["bad"] == expected and bad.attributes["fine"] == 1
    assert store.list_traces()[0].span_count == 512


def test_odd_names_messages_events_and_resources(store: SQLiteStore) -> None:
    odd = make_span(
        2,
        2,
        1,
        name="na\ud800me\x00",
        error="boom \udfff",
        events=(Event("ev\ud800", {"k\ud800": "v\ud800", "n": float("nan")}, T0),),
    )
    root = make_span(2, 1, name="root", attributes={attr.TRACE_TAG_PREFIX + "t": "\ud800"})
    store.write_spans([root, odd])
    trace = store.get_trace(trace_id(2))
    assert trace is not None
    [stored] = [s for s in trace.spans if s.parent_id is not None]
    assert stored.name == "na\ufffdme\x00"  # NUL is fine in SQLite; surrogates are not
    assert stored.status_message == "boom \ufffd"
    assert stored.events == [{"name": "ev\ufffd", "timestamp_ns": T0, "attributes": {"k\ufffd": "v\ufffd", "n": "nan"}}]
    assert trace.info.tags == {"t": "\ufffd"}


def test_a_row_sqlite_cannot_bind_is_written_with_its_values_made_safe(
    store: SQLiteStore, caplog: pytest.LogCaptureFixture
) -> None:
    """An end time beyond SQLite's 64-bit integers: ``executemany`` fails for the whole
    batch, then each row is written alone and only the bad one is clamped."""
    far = make_span(3, 2, 1, name="far")
    far = ReadableSpan(
        name="far",
        context=far.context,
        parent=far.parent,
        resource=far.resource,
        attributes=far.attributes,
        status=Status(StatusCode.OK),
        start_time=T0,
        end_time=2**70,
    )
    store.write_spans([make_span(3, 1, name="root"), far, make_span(3, 3, 1, name="near")])
    trace = store.get_trace(trace_id(3))
    assert trace is not None and sorted(s.name for s in trace.spans) == ["far", "near", "root"]
    [stored] = [s for s in trace.spans if s.name == "far"]
    assert stored.end_time_ns == 2**63 - 1
    assert "could not be stored (OverflowError)" in caplog.text


class _BrokenAttributes(ReadableSpan):
    """A span from a producer whose attribute map cannot even be read."""

    @property
    def attributes(self) -> Any:
        raise RuntimeError("attributes unavailable")


def test_a_span_that_cannot_be_encoded_at_all_is_stored_with_a_marker(store: SQLiteStore) -> None:
    broken = _BrokenAttributes(
        name="broken",
        context=SpanContext(trace_id=4, span_id=2, is_remote=False),
        parent=SpanContext(trace_id=4, span_id=1, is_remote=False),
        status=Status(StatusCode.OK),
        start_time=T0,
        end_time=T0 + 5,
    )
    with _errors.lenient():  # an unforeseen failure is an internal error (strict mode would raise)
        store.write_spans([make_span(4, 1, name="root"), broken])
    trace = store.get_trace(trace_id(4))
    assert trace is not None and sorted(s.name for s in trace.spans) == ["broken", "root"]
    [stored] = [s for s in trace.spans if s.name == "broken"]
    assert stored.attributes == {attr.UNSTORABLE: "<span attributes could not be encoded>"}
    assert (stored.parent_id, stored.status, stored.end_time_ns) == (f"{1:016x}", "OK", T0 + 5)
