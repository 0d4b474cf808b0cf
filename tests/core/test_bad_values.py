"""One bad value never costs other spans: every public way a value enters a span, with
every kind of value no encoder takes, through the real pipeline into the local store.

Each bad value is replaced *in place* by a marker; its span and every other span of
its batch are stored, and no call raises into the app.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any
from unittest.mock import MagicMock

import pytest

import tracekit
from tracekit._store import SQLiteStore
from tracekit.testing import SpanCapture

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


class RaisingStr:
    """An object whose __str__ and __repr__ both raise."""

    def __str__(self) -> str:
        raise RuntimeError("no str")

    def __repr__(self) -> str:
        raise RuntimeError("no repr")


class RaisingMessage(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no message")


def _deep() -> list[Any]:
    root: list[Any] = []
    node = root
    for _ in range(5000):
        child: list[Any] = []
        node.append(child)
        node = child
    return root


def _cyclic() -> dict[str, Any]:
    loop: dict[str, Any] = {"name": "loop"}
    loop["self"] = loop
    return loop


#: value -> what set_attribute stores for it (JSON text for what is not a primitive)
BAD_VALUES: dict[str, tuple[Any, Any]] = {
    "lone surrogate": ("a\ud800b", "a\ufffdb"),
    "surrogate pair as halves": ("\ud83d\ude00", "\U0001f600"),
    "int over 4300 digits": (10**5000, "<int of about 5001 digits>"),
    "int beyond int64": (2**70, str(2**70)),
    "raising __str__": (RaisingStr(), '"<unrepresentable RaisingStr>"'),
    "bytes": (PNG, f'"<bytes image/png, {len(PNG)} bytes>"'),
    "nan": (float("nan"), "nan"),
    "inf": (float("-inf"), "-inf"),
    "deep nesting": (_deep(), None),  # JSON, cut at 64 levels
    "recursive": (_cyclic(), '{"name":"loop","self":"<cycle>"}'),
    "odd keys": (
        {RaisingStr(): 1, "k\ud800": 2, 10**5000: 3},
        '{"<unrepresentable RaisingStr>":1,"k\ufffd":2,"<int of about 5001 digits>":3}',
    ),
    "mixed list": ([1, "a\udfff", 10**5000], '[1,"a\ufffd","<int of about 5001 digits>"]'),
    "mock": (MagicMock(), None),  # its repr, as JSON text
}

ODD_NAME = "tool\x00name\ud800" + "x" * 2000


def _stored_spans(store_path: Path, trace_id: str) -> dict[str, Any]:
    trace = SQLiteStore(store_path).get_trace(trace_id)
    assert trace is not None
    return {s.name: s for s in trace.spans}


@pytest.mark.parametrize("label", list(BAD_VALUES))
def test_a_bad_value_is_replaced_in_place_and_the_whole_batch_is_stored(label: str, store_path: Path) -> None:
    value, expected = BAD_VALUES[label]
    with tracekit.start_span("root", span_type="CHAIN") as root:
        for i in range(20):
            with tracekit.start_span(f"good-{i}") as span:
                span.set_attribute("i", i)
        with tracekit.start_span(ODD_NAME, span_type=RaisingStr(), inputs={"v": value}) as bad:  # type: ignore[arg-type]
            bad.set_attribute("bad", value)
            bad.set_attribute(RaisingStr(), 1)  # type: ignore[arg-type]
            bad.set_attributes({"bad.many": value, "k\x00\ud800": "ok"})
            bad.add_event("event\ud800", {"bad": value, "fine": 1})
            bad.set_outputs([value])
            bad.set_status("ERROR", value)
    trace_id = root.trace_id
    assert trace_id is not None
    result = tracekit.flush(timeout=10)
    assert (result.delivered, result.failed, result.dropped) == (22, 0, 0)
    spans = _stored_spans(store_path, trace_id)
    assert len(spans) == 22  # the bad span and every other span of the batch
    assert all(spans[f"good-{i}"].attributes["i"] == i for i in range(20))
    [name] = [n for n in spans if n.startswith("tool")]
    assert name == "tool\ufffdname\ufffd" + "x" * 990 + "...[truncated 1010 chars]"
    stored = spans[name]
    assert stored.span_type == "<unrepresentable RaisingStr>"
    if expected is not None:
        assert stored.attributes["bad"] == expected
        assert stored.attributes["bad.many"] == expected
    else:
        assert isinstance(stored.attributes["bad"], str)
        json.loads(stored.attributes["bad"])  # JSON text
    assert stored.attributes["<unrepresentable RaisingStr>"] == 1
    assert stored.attributes["k\ufffd\ufffd"] == "ok"
    assert isinstance(stored.inputs, dict) and list(stored.inputs) == ["v"]
    assert isinstance(stored.outputs, list) and len(stored.outputs) == 1
    [event] = stored.events
    assert event["name"] == "event\ufffd" and event["attributes"]["fine"] == 1
    assert stored.status == "ERROR" and stored.status_message is not None
    for span in spans.values():  # every stored text is valid UTF-8 (no lone surrogate left)
        json.dumps([span.name, span.attributes, span.events], ensure_ascii=False).encode("utf-8")


def test_a_surrogate_in_text_is_stored_as_the_replacement_character(store_path: Path, captured: SpanCapture) -> None:
    with tracekit.start_span("chat") as span:
        span.set_inputs({"messages": [{"role": "user", "content": "caf\u00e9 \ud83d"}]})
        span.set_attribute("tags", ["ok", "\udc00"])
    tracekit.flush(timeout=10)
    [stored] = _stored_spans(store_path, span.trace_id or "").values()
    assert stored.inputs == {"messages": [{"role": "user", "content": "caf\u00e9 \ufffd"}]}
    assert stored.attributes["tags"] == ["ok", "\ufffd"]
    assert captured.spans[0].attributes == stored.attributes  # the same span in memory and in the store


def test_values_set_on_the_otel_span_directly_still_cost_nothing_but_themselves(store_path: Path) -> None:
    """Values that bypass tracekit's gate (set on ``Span.otel_span``): the store's own
    per-value fallback keeps the batch."""
    with tracekit.start_span("root") as root:
        for i in range(5):
            with tracekit.start_span(f"good-{i}"):
                pass
        with tracekit.start_span("raw") as raw:
            otel = raw.otel_span
            assert otel is not None
            otel.set_attribute("surrogate", "x\ud800")
            otel.set_attribute("nan", float("nan"))
            otel.set_attribute("big", 2**70)
            otel.set_attribute("blob", PNG)
            otel.set_attribute("list", ["a", "\udfff"])
            otel.add_event("raw\ud800", {"k": "\ud800"})
    tracekit.flush(timeout=10)
    spans = _stored_spans(store_path, root.trace_id or "")
    assert sorted(spans) == ["good-0", "good-1", "good-2", "good-3", "good-4", "raw", "root"]
    attributes = spans["raw"].attributes
    assert attributes["surrogate"] == "x\ufffd"
    assert attributes["nan"] == "nan"
    assert attributes["big"] == 2**70  # JSON holds any int
    assert attributes["blob"] == f"<bytes image/png, {len(PNG)} bytes>"
    assert attributes["list"] == ["a", "\ufffd"]
    assert spans["raw"].events[0]["name"] == "raw\ufffd" and spans["raw"].events[0]["attributes"] == {"k": "\ufffd"}


def test_record_exception_with_a_raising_str(captured: SpanCapture) -> None:
    with pytest.raises(RaisingMessage), tracekit.start_span("fails"):
        raise RaisingMessage()
    [span] = captured.spans
    assert span.status == "ERROR"
    # str() raised: the message falls back to repr(), which BaseException builds without __str__
    assert span.status_message == "RaisingMessage: RaisingMessage()"
    [event] = span.events
    assert event["name"] == "exception"
    attributes = event["attributes"]
    assert attributes["exception.type"] == f"{__name__}.RaisingMessage"
    assert attributes["exception.message"] == "RaisingMessage()"
    assert "RaisingMessage" in attributes["exception.stacktrace"]


def test_set_status_with_a_bad_value_logs_once_and_changes_nothing(
    captured: SpanCapture, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="tracekit"), tracekit.start_span("s") as span:
        span.set_status("ERROR", "first")
        span.set_status("BROKEN")
        span.set_status(RaisingStr())  # type: ignore[arg-type]
        span.set_status(None)  # type: ignore[arg-type]
    [stored] = captured.spans
    assert (stored.status, stored.status_message) == ("ERROR", "first")
    messages = [r.getMessage() for r in caplog.records if r.name == "tracekit"]
    assert messages == ["tracekit: set_status() takes 'OK', 'ERROR' or 'UNSET', not 'BROKEN'; ignored"]


def test_public_span_methods_never_raise_on_odd_arguments(captured: SpanCapture) -> None:
    with tracekit.start_span(None, span_type=None) as span:  # type: ignore[arg-type]
        span.set_attributes(["not", "a", "mapping"])  # type: ignore[arg-type]
        span.set_attributes(None)  # type: ignore[arg-type]
        span.add_event(RaisingStr(), {RaisingStr(): RaisingStr()}, timestamp_ns="soon")  # type: ignore[arg-type]
        span.add_event("also", ["not", "a", "mapping"])  # type: ignore[arg-type]
        span.set_attribute("range", range(10**12))  # a Sequence too long to list: JSON, bounded
        span.set_inputs(RaisingStr())
        span.record_exception(RaisingMessage())
    [stored] = captured.spans
    assert stored.name == "None"
    assert stored.inputs == "<unrepresentable RaisingStr>"
    assert stored.attributes["range"] == '"range(0, 1000000000000)"'
    assert [e["name"] for e in stored.events] == ["<unrepresentable RaisingStr>", "also", "exception"]
    assert stored.events[0]["attributes"] == {"<unrepresentable RaisingStr>": '"<unrepresentable RaisingStr>"'}


def test_update_current_trace_never_raises_on_odd_tags_and_metadata(store_path: Path) -> None:
    with tracekit.start_span("root") as root:
        tracekit.update_current_trace(
            tags={RaisingStr(): RaisingStr(), "big": 10**5000, "k\ud800": "v\x00", 3: None},
            metadata={"m": RaisingStr(), "nested": {"a": [1]}},
            session_id=RaisingStr(),  # type: ignore[arg-type]
            user_id=10**5000,  # type: ignore[arg-type]
            name="trace\ud800",
        )
        tracekit.update_current_trace(tags=["not", "a", "mapping"], metadata=42)  # type: ignore[arg-type]
    tracekit.flush(timeout=10)
    trace = tracekit.get_trace(root.trace_id or "")
    assert trace is not None
    assert trace.info.tags == {
        "<unrepresentable RaisingStr>": "<unrepresentable RaisingStr>",
        "big": "<int of about 5001 digits>",
        "k\ufffd": "v\x00",
        "3": "None",
        "mlflow.traceName": "trace\ufffd",
    }
    assert trace.info.metadata == {"m": "<unrepresentable RaisingStr>", "nested": "{'a': [1]}"}
    assert trace.info.session_id == "<unrepresentable RaisingStr>"
    assert trace.info.user_id == "<int of about 5001 digits>"
