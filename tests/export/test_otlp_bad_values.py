"""OTLP encoding (also what the MLflow exporter posts): a span whose values protobuf
refuses costs nothing but those values -- its batch is sent whole."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.trace import SpanContext, Status, StatusCode

import tracekit
from tracekit import _attributes as attr
from tracekit._export._encode import encode_otlp

from .otlp_receiver import OtlpReceiver

T0 = 1_700_000_000_000_000_000


def _span(span_id: int, name: str = "ok", attributes: dict[str, Any] | None = None, **kw: Any) -> ReadableSpan:
    return ReadableSpan(
        name=name,
        context=SpanContext(trace_id=7, span_id=span_id, is_remote=False),
        parent=SpanContext(trace_id=7, span_id=1, is_remote=False) if span_id != 1 else None,
        resource=Resource({"service.name": "test"}),
        attributes=attributes or {},
        status=kw.pop("status", Status(StatusCode.OK)),
        start_time=T0,
        end_time=T0 + 10,
        **kw,
    )


def _decoded(body: bytes) -> dict[str, Any]:
    message = ExportTraceServiceRequest()
    message.ParseFromString(body)
    spans = [s for rs in message.resource_spans for ss in rs.scope_spans for s in ss.spans]
    return {s.name: s for s in spans}


def _attrs(span: Any) -> dict[str, object]:
    out: dict[str, object] = {}
    for kv in span.attributes:
        which = kv.value.WhichOneof("value")
        value = getattr(kv.value, which) if which else None
        out[kv.key] = list(v.string_value or v.int_value for v in value.values) if which == "array_value" else value
    return out


def test_a_span_protobuf_refuses_is_cleaned_and_the_batch_is_sent_whole() -> None:
    spans = [_span(1, "root")] + [_span(i, f"child-{i}", {"i": i}) for i in range(2, 100)]
    spans.append(
        _span(
            200,
            "bad\ud800",
            {"surrogate": "x\udfff", "big": 2**70, "list": ("a", "\ud800"), "key\ud800": 1, "fine": "yes"},
            events=(Event("ev\ud800", {"k": "\ud800"}, T0),),
            status=Status(StatusCode.ERROR, "msg\ud800"),
        )
    )
    decoded = _decoded(encode_otlp(spans))
    assert len(decoded) == 100
    assert all(_attrs(decoded[f"child-{i}"]) == {"i": i} for i in range(2, 100))
    bad = decoded["bad\ufffd"]
    assert _attrs(bad) == {
        "surrogate": "x\ufffd",
        "big": str(2**70),
        "list": ["a", "\ufffd"],
        "key\ufffd": 1,
        "fine": "yes",
    }
    assert [e.name for e in bad.events] == ["ev\ufffd"] and _attrs(bad.events[0]) == {"k": "\ufffd"}
    assert bad.status.message == "msg\ufffd"


def test_clean_batches_are_encoded_unchanged() -> None:
    spans = [_span(1, "root", {"a": "caf\u00e9", "n": 2**62})]
    decoded = _decoded(encode_otlp(spans))
    assert _attrs(decoded["root"]) == {"a": "caf\u00e9", "n": 2**62}


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    r = OtlpReceiver()
    yield r
    r.close()


def test_odd_values_reach_an_otlp_backend_with_their_batch(
    receiver: OtlpReceiver, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The OTel encoder would drop (and log at ERROR) each value it cannot encode."""
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint)
    with tracekit.start_span("root") as root:
        root.set_attribute("surrogate", "\ud800")
        root.set_inputs({"n": 10**5000, "nan": float("nan")})
        for i in range(10):
            with tracekit.start_span(f"child-{i}"):
                pass
        with tracekit.start_span("raw") as raw:
            otel = raw.otel_span
            assert otel is not None
            otel.set_attribute("bypassed", "y\udfff")  # set past tracekit's gate
            otel.set_attribute("huge", 2**80)
    result = tracekit.flush(timeout=20)
    assert result.failed == 0 and result.dropped == 0
    spans = {s.name: _attrs(s) for s in receiver.spans()}
    assert sorted(spans) == sorted(["root", "raw", *(f"child-{i}" for i in range(10))])
    assert spans["root"]["surrogate"] == "\ufffd"
    assert spans["root"][attr.SPAN_INPUTS] == '{"n":"<int of about 5001 digits>","nan":"nan"}'
    assert spans["raw"]["bypassed"] == "y\ufffd" and spans["raw"]["huge"] == str(2**80)
    assert not [r for r in caplog.records if r.name.startswith("opentelemetry")]
