"""W3C trace context in: a span continues a caller's trace from its headers."""

from __future__ import annotations

import pytest

import tracekit
from tracekit._propagation import extract, format_traceparent, parse_traceparent
from tracekit.testing import SpanCapture

TRACE = 0x4BF92F3577B34DA6A3CE929D0E0E4736
PARENT = 0x00F067AA0BA902B7
HEADER = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_format_and_parse_round_trip() -> None:
    assert format_traceparent(TRACE, PARENT) == HEADER
    assert format_traceparent(TRACE, PARENT, sampled=False).endswith("-00")
    parent = parse_traceparent(HEADER)
    assert parent is not None and (parent.trace_id, parent.span_id, parent.sampled) == (TRACE, PARENT, True)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "garbage",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  # zero trace id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  # zero span id
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  # forbidden version
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",  # v00 has four fields
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",  # short trace id
        None,
        42,
    ],
)
def test_malformed_values_are_ignored(value: object) -> None:
    assert parse_traceparent(value) is None
    assert extract(value) is None


def test_future_versions_are_read_by_their_first_fields() -> None:
    parent = parse_traceparent("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-ever")
    assert parent is not None and parent.trace_id == TRACE


@pytest.mark.parametrize(
    "carrier",
    [
        HEADER,
        HEADER.encode(),
        {"traceparent": HEADER},
        {"Traceparent": HEADER},
        {"TRACEPARENT": HEADER},
        {"HTTP_TRACEPARENT": HEADER},
        [("traceparent", HEADER)],
        [(b"traceparent", HEADER.encode())],
        {"TraceParent": HEADER},  # only found by the case-insensitive walk
    ],
)
def test_extract_reads_every_header_shape(carrier: object) -> None:
    parent = extract(carrier)
    assert parent is not None and parent.span_id == PARENT


def test_extract_keeps_tracestate() -> None:
    parent = extract({"traceparent": HEADER, "tracestate": "vendor=1"})
    assert parent is not None and parent.tracestate == "vendor=1"


def test_start_span_continues_the_callers_trace(captured: SpanCapture) -> None:
    with tracekit.start_span("handle", span_type="CHAIN", parent={"traceparent": HEADER}) as span:
        assert span.trace_id == f"tr-{TRACE:032x}"
        with tracekit.start_span("inner") as inner:
            assert inner.trace_id == span.trace_id
    spans = {s.name: s for s in captured.readable_spans}
    top, child = spans["handle"], spans["inner"]
    assert top.parent is not None and top.parent.span_id == PARENT and top.parent.is_remote
    assert top.context is not None and top.context.trace_id == TRACE
    assert top.attributes is not None and top.attributes["tracekit.remote_parent"] is True
    assert child.parent is not None and child.parent.span_id == top.context.span_id
    assert child.attributes is not None and "tracekit.remote_parent" not in child.attributes
    assert span.traceparent == format_traceparent(TRACE, top.context.span_id)


def test_remote_parent_wins_over_the_current_span(captured: SpanCapture) -> None:
    with tracekit.start_span("local root"), tracekit.start_span("server", parent=HEADER) as server:
        assert server.trace_id == f"tr-{TRACE:032x}"


def test_unsampled_caller_is_respected(captured: SpanCapture) -> None:
    with tracekit.start_span("handle", parent=HEADER[:-2] + "00") as span:
        assert not span.is_recording
    assert captured.readable_spans == []


def test_malformed_header_starts_a_new_trace(captured: SpanCapture) -> None:
    with tracekit.start_span("handle", parent={"traceparent": "nonsense"}) as span:
        assert span.is_recording
    (only,) = captured.readable_spans
    assert only.parent is None
