"""Pure pieces: encoding, retry decisions, OTLP settings, auth/TLS, the reader's JSON, the outbox."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

import tracekit
from tracekit._export._encode import encode_otlp, gunzip, gzip_body, mlflow_ready, readable_from_data
from tracekit._export._http import mlflow_auth_headers, mlflow_tls
from tracekit._export._outbox import Outbox
from tracekit._export._reader import any_value, span_from_json, trace_from_json
from tracekit._export._retry import Backoff, Verdict, classify, retry_after_seconds
from tracekit._export.otlp import otlp_config, parse_headers
from tracekit._model import span_data_from_readable
from tracekit.testing import SpanCapture


def _spans(captured: SpanCapture) -> list:  # type: ignore[type-arg]
    with tracekit.start_span("root", span_type="CHAIN", inputs={"q": 1}) as root:
        tracekit.update_current_trace(tags={"t": "1"}, metadata={"m": "2", "t": "ignored"})
        with tracekit.start_span("child", span_type="TOOL"):
            pass
        root.set_outputs("done")
    return list(captured.readable_spans)


def test_encode_is_the_otlp_request(store_path: Path, captured: SpanCapture) -> None:
    spans = _spans(captured)
    request = ExportTraceServiceRequest()
    request.ParseFromString(gunzip(gzip_body(encode_otlp(spans))))
    names = [s.name for rs in request.resource_spans for ss in rs.scope_spans for s in ss.spans]
    assert sorted(names) == ["child", "root"]


def test_mlflow_ready_copies_metadata_to_tags_on_new_spans_only(store_path: Path, captured: SpanCapture) -> None:
    spans = _spans(captured)
    ready = mlflow_ready(spans)
    root = next(s for s in ready if s.name == "root")
    child = next(s for s in ready if s.name == "child")
    assert root.attributes["mlflow.traceTag.m"] == "2"
    assert root.attributes["mlflow.traceTag.t"] == "1"  # an explicit tag wins
    assert child is next(s for s in spans if s.name == "child")  # unchanged spans pass through
    assert "mlflow.traceTag.m" not in next(s for s in spans if s.name == "root").attributes  # input untouched


def test_readable_from_data_round_trips(store_path: Path, captured: SpanCapture) -> None:
    for span in _spans(captured):
        data = span_data_from_readable(span)
        assert span_data_from_readable(readable_from_data(data)) == data


@pytest.mark.parametrize(
    ("status", "verdict"),
    [(200, Verdict.DELIVERED), (None, Verdict.RETRY), (500, Verdict.RETRY), (503, Verdict.RETRY),
     (429, Verdict.RETRY), (408, Verdict.RETRY), (401, Verdict.AUTH), (403, Verdict.AUTH),
     (400, Verdict.REJECT), (404, Verdict.REJECT), (413, Verdict.REJECT), (422, Verdict.REJECT)],
)  # fmt: skip
def test_classify(status: int | None, verdict: Verdict) -> None:
    assert classify(status) is verdict


def test_retry_after_and_backoff() -> None:
    assert retry_after_seconds({"retry-after": "7"}) == 7.0
    assert retry_after_seconds({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, now=1445412470.0) == 10.0
    assert retry_after_seconds({"Retry-After": "soon"}) is None
    assert retry_after_seconds({"Retry-After": "99999"}) == 300.0
    backoff = Backoff(base=0.5, cap=4.0, rng=random.Random(0))
    delays = [backoff.delay(n) for n in range(12)]
    assert all(0.05 <= d <= 4.0 for d in delays)
    assert backoff.delay(3, retry_after=2.5) == 2.5


def test_otlp_config_from_the_standard_variables() -> None:
    assert otlp_config({}) is None
    config = otlp_config(
        {
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318/",
            "OTEL_EXPORTER_OTLP_HEADERS": "a=1,b=x%3Dy",
            "OTEL_EXPORTER_OTLP_TRACES_HEADERS": "c=3",
            "OTEL_EXPORTER_OTLP_TIMEOUT": "4",
        }
    )
    assert config is not None
    assert (config.endpoint, config.headers, config.timeout, config.compression) == (
        "http://c:4318/v1/traces",
        {"c": "3"},
        4.0,
        "gzip",
    )
    with pytest.raises(ValueError, match="http/protobuf"):
        otlp_config({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"})
    assert parse_headers("k = v , bad, x=%20y") == {"k": "v", "x": "y"}


def test_auth_and_tls_like_mlflow() -> None:
    both = {"MLFLOW_TRACKING_USERNAME": "u", "MLFLOW_TRACKING_PASSWORD": "p", "MLFLOW_TRACKING_TOKEN": "t"}
    assert mlflow_auth_headers(both) == {"Authorization": "Basic dTpw"}  # basic wins over bearer
    assert mlflow_auth_headers({"MLFLOW_TRACKING_TOKEN": "t"}) == {"Authorization": "Bearer t"}
    assert mlflow_auth_headers({}) == {}
    assert mlflow_tls({}) == (True, None)
    assert mlflow_tls({"MLFLOW_TRACKING_INSECURE_TLS": "true"}) == (False, None)
    assert mlflow_tls({"MLFLOW_TRACKING_SERVER_CERT_PATH": "/ca.pem", "MLFLOW_TRACKING_CLIENT_CERT_PATH": "/c.pem"}) == (
        "/ca.pem",
        "/c.pem",
    )
    with pytest.raises(ValueError):
        mlflow_tls({"MLFLOW_TRACKING_INSECURE_TLS": "1", "MLFLOW_TRACKING_SERVER_CERT_PATH": "/ca.pem"})


QV = {"string_value": "hi"}


def test_reader_converts_the_servers_json() -> None:
    assert any_value({"kvlist_value": {"values": [{"key": "a", "value": {"int_value": "3"}}]}}) == {"a": 3}
    assert any_value({"arrayValue": {"values": [{"stringValue": "x"}]}}) == ["x"]
    span = span_from_json(
        {
            "trace_id": "AAAAAAAAAAAAAAAAAAAAAQ==",
            "span_id": "AAAAAAAAAAI=",
            "name": "root",
            "start_time_unix_nano": 1,
            "end_time_unix_nano": 3,
            "status": {"code": "STATUS_CODE_ERROR", "message": "boom"},
            "attributes": [
                {"key": "mlflow.spanType", "value": {"string_value": "CHAIN"}},
                {
                    "key": "mlflow.spanInputs",
                    "value": {"kvlist_value": {"values": [{"key": "q", "value": {"string_value": "hi"}}]}},
                },
            ],
        }
    )
    assert (span.trace_id, span.span_id, span.parent_id, span.status, span.status_message) == (
        "tr-" + "0" * 31 + "1",
        "0" * 15 + "2",
        None,
        "ERROR",
        "boom",
    )
    assert span.span_type == "CHAIN" and span.inputs == {"q": "hi"}
    trace = trace_from_json(
        {
            "trace": {
                "trace_info": {
                    "trace_id": span.trace_id,
                    "state": "ERROR",
                    "tags": {"mlflow.traceName": "named"},
                    "trace_metadata": {"mlflow.trace.user": "u", "mlflow.trace.tokenUsage": json.dumps({"input_tokens": 2})},
                },
                "spans": [],
            }
        }
    )
    assert (trace.info.name, trace.info.status, trace.info.user_id, trace.info.token_usage) == (
        "named",
        "ERROR",
        "u",
        {"input_tokens": 2},
    )


def test_outbox_claims_releases_rejects_and_bounds(tmp_path: Path) -> None:
    box = Outbox(tmp_path, {"kind": "otlp", "endpoint": "http://x"}, max_bytes=2000)
    assert box.put(b"a" * 100, 2) and box.put(b"b" * 100, 3)
    assert box.stats().spans == 5 and box.stats().files == 2
    entry = box.claim_next()
    assert entry is not None and entry.mine and entry.spans == 2 and box.read_body(entry) == b"a" * 100
    other = Outbox(tmp_path, {"kind": "otlp", "endpoint": "http://x"})
    second = other.claim_next()
    assert second is not None and second.spans == 3  # the claimed one is not handed out twice
    assert other.claim_next() is None
    box.release(entry)
    other.reject(second, "HTTP 400: bad")
    assert [(e.spans, e.reason) for e in box.rejected()] == [(3, "HTTP 400: bad")]
    again = box.claim_next()
    assert again is not None
    box.done(again)
    assert box.stats().spans == 0 and not box.has_entries()
    assert not box.put(b"c" * 5000, 1)  # over the bound: refused, never grows past it
    assert box.requeue_rejected() == 1 and box.stats().spans == 3


def test_outbox_releases_the_claim_of_a_dead_process(tmp_path: Path) -> None:
    box = Outbox(tmp_path, {"kind": "otlp", "endpoint": "http://x"})
    box.put(b"x", 1)
    entry = box.claim_next()
    assert entry is not None
    dead = entry.path.with_name(entry.path.name.rsplit("-", 1)[0] + "-999999999")
    os.rename(entry.path, dead)
    assert box.claim_next() is not None  # pid 999999999 is not alive: back in the queue
