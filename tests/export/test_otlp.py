"""OTLP/HTTP to a second, small loopback receiver: alone or beside MLflow."""

from __future__ import annotations

import gzip
from collections.abc import Iterator

import pytest

import tracekit

from . import rest
from .conftest import simple_trace
from .llm_spans import nested_trace
from .mlflow_server import MlflowServer
from .otlp_receiver import OtlpReceiver


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    r = OtlpReceiver()
    yield r
    r.close()


def _attrs(span: object) -> dict[str, object]:
    out: dict[str, object] = {}
    for kv in span.attributes:  # type: ignore[attr-defined]
        which = kv.value.WhichOneof("value")
        out[kv.key] = getattr(kv.value, which) if which else None
    return out


def test_otlp_beside_the_local_store(receiver: OtlpReceiver, monkeypatch: pytest.MonkeyPatch, store_path: object) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-api-key=secret%20one,x-team=ml")
    nested_trace()
    result = tracekit.flush(timeout=20)
    assert (result.delivered, result.failed, result.pending) == (12, 0, 0)  # 6 spans x 2 destinations
    headers, _ = receiver.requests[0]
    assert headers["x-api-key"] == "secret one" and headers["x-team"] == "ml"
    assert headers["Content-Encoding"] == "gzip" and headers["Content-Type"] == "application/x-protobuf"
    spans = {s.name: _attrs(s) for s in receiver.spans()}
    llm = spans["openai.chat.completions.create"]
    assert llm["gen_ai.operation.name"] == "chat" and llm["gen_ai.request.model"] == "gpt-4o-mini"
    assert llm["gen_ai.usage.input_tokens"] == 20 and llm["mlflow.spanType"] == "CHAT_MODEL"
    # OTLP gets the spans as recorded: metadata is not rewritten into tags there
    assert spans["answer"]["mlflow.traceMetadata.app_version"] == "1.2.3"
    assert "mlflow.traceTag.app_version" not in spans["answer"]
    assert tracekit.get_trace(tracekit.get_last_trace_id() or "") is not None  # the local store has it too


def test_otlp_traces_endpoint_uncompressed_and_retried(monkeypatch: pytest.MonkeyPatch, store_path: object) -> None:
    receiver = OtlpReceiver(fail_first=2)
    try:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", receiver.endpoint + "/custom/path")
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9/ignored")
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "none")
        simple_trace()
        result = tracekit.flush(timeout=20)
        assert result.ok and result.delivered == 4
        headers, _message = receiver.requests[0]
        assert "Content-Encoding" not in headers
        assert len(receiver.spans()) == 2
    finally:
        receiver.close()
    assert gzip  # the receiver also accepts gzip (first test)


@pytest.mark.mlflow
def test_otlp_beside_mlflow(
    receiver: OtlpReceiver, mlflow_server: MlflowServer, experiment: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint)
    tracekit.set_tracking_uri(mlflow_server.uri)
    tracekit.set_experiment(experiment)
    trace_id = simple_trace()
    result = tracekit.flush(timeout=30)
    assert result.delivered == 4 and result.ok
    assert {s.name for s in receiver.spans()} == {"work", "llm"}
    assert f"{receiver.spans()[0].trace_id.hex()}" == trace_id[3:]
    exp_id = rest.experiment_id(mlflow_server.uri, experiment)
    assert [t["trace_id"] for t in rest.search_trace_infos(mlflow_server.uri, exp_id or "")] == [trace_id]


@pytest.mark.parametrize("families", [None, "openinference", "none"])
def test_otlp_spans_carry_the_chosen_attribute_families(
    receiver: OtlpReceiver, monkeypatch: pytest.MonkeyPatch, store_path: object, families: str | None
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint)
    if families is not None:
        monkeypatch.setenv("TRACEKIT_OTLP_ATTRIBUTES", families)
    nested_trace()
    assert tracekit.flush(timeout=20).ok
    spans = {s.name: _attrs(s) for s in receiver.spans()}
    llm, chain = spans["openai.chat.completions.create"], spans["answer"]
    has_genai = any(k.startswith("gen_ai.input") for k in llm)
    has_oi = "openinference.span.kind" in llm
    assert (has_genai, has_oi) == {None: (True, True), "openinference": (False, True), "none": (False, False)}[families]
    if has_oi:
        assert llm["openinference.span.kind"] == "LLM" and chain["openinference.span.kind"] == "CHAIN"
        assert llm["llm.input_messages.0.message.role"]
        assert chain["input.value"] == chain["mlflow.spanInputs"]
    # the local store keeps exactly what was recorded: the extra families are for OTLP only
    trace = tracekit.get_trace(tracekit.get_last_trace_id() or "")
    assert trace is not None
    assert not any(k.startswith(("gen_ai.input", "openinference.", "llm.input")) for s in trace.spans for k in s.attributes)
