"""The trace record tracekit sends after the spans that end a trace (``StartTraceV3``):
its body (pure), and its delivery against a real MLflow server -- retried, kept in the
outbox while refused, never costing the spans."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
import requests
from export import rest
from export.proxy import FaultProxy

import tracekit
from tracekit._export._trace_info import ends_trace, trace_info, trace_infos, with_experiment
from tracekit.testing import SpanCapture

from .conftest import Gateway

pytestmark = pytest.mark.mlflow

RECORDS = "/api/3.0/mlflow/traces"


def test_body_of_a_root(captured: SpanCapture, store_path: object) -> None:
    with tracekit.start_span("agent", span_type="CHAIN") as root:
        tracekit.update_current_trace(tags={"team": "search"}, metadata={"release": "r7"})
        with tracekit.start_span("llm", span_type="CHAT_MODEL"):
            pass
    spans = {s.name: s for s in captured.readable_spans}
    assert ends_trace(spans["agent"]) and not ends_trace(spans["llm"])
    info = trace_info(spans["agent"])
    assert root.trace_id is not None
    assert info["trace_id"] == root.trace_id
    assert info["state"] == "OK"
    assert info["tags"] == {"mlflow.traceName": "agent", "team": "search", "release": "r7"}
    assert info["request_time"].endswith("Z") and info["execution_duration"].endswith("s")
    assert "request_preview" not in info and "trace_metadata" not in info  # the server derives them
    assert "fragment" not in info
    body = with_experiment(info, "7")
    assert body["trace"]["trace_info"]["trace_location"] == {
        "type": "MLFLOW_EXPERIMENT",
        "mlflow_experiment": {"experiment_id": "7"},
    }


def test_an_explicit_trace_name_and_an_error(captured: SpanCapture, store_path: object) -> None:
    with pytest.raises(RuntimeError), tracekit.start_span("agent", span_type="CHAIN"):
        tracekit.update_current_trace(name="nightly run")
        raise RuntimeError("boom")
    [span] = captured.readable_spans
    info = trace_info(span)
    assert (info["state"], info["tags"]["mlflow.traceName"]) == ("ERROR", "nightly run")


def test_a_local_top_span_with_a_remote_parent_ends_its_fragment(captured: SpanCapture, store_path: object) -> None:
    parent = {"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}
    with tracekit.start_span("handle", span_type="CHAIN", parent=parent), tracekit.start_span("inner"):
        pass
    spans = {s.name: s for s in captured.readable_spans}
    assert ends_trace(spans["handle"]) and not ends_trace(spans["inner"])
    assert trace_info(spans["handle"])["trace_id"] == "tr-4bf92f3577b34da6a3ce929d0e0e4736"


def test_records_only_for_traces_that_sent_their_context(captured: SpanCapture, store_path: object) -> None:
    with tracekit.start_span("inside", span_type="CHAIN"):
        pass
    with tracekit.start_span("sent", span_type="CHAIN") as sent:
        header = sent.traceparent
    with tracekit.start_span("fragment", span_type="CHAIN", parent=header):
        pass
    assert [i["tags"]["mlflow.traceName"] for i in trace_infos(captured.readable_spans)] == ["sent", "fragment"]


@pytest.fixture
def records_proxy(gateway: Gateway) -> Iterator[FaultProxy]:
    proxy = FaultProxy(gateway.uri, faulted_prefix=RECORDS)
    yield proxy
    proxy.close()


def _foreign_span_first(uri: str, root: tracekit.Span) -> None:
    """What a gateway does with ``traceparent``: a span under ``root`` reaches the server
    first, over OTLP, filed in the Default experiment (``0``)."""
    now = time.time_ns()
    _, trace_hex, parent_hex, _ = str(root.traceparent).split("-")  # the header it would receive
    span = {
        "traceId": trace_hex,
        "spanId": uuid.uuid4().hex[:16],
        "parentSpanId": parent_hex,
        "name": "gateway/elsewhere",
        "kind": 1,
        "startTimeUnixNano": str(now),
        "endTimeUnixNano": str(now + 1000),
        "attributes": [{"key": "mlflow.spanType", "value": {"stringValue": "LLM"}}],
        "status": {"code": 1},
    }
    body = {"resourceSpans": [{"resource": {"attributes": []}, "scopeSpans": [{"scope": {"name": "fake"}, "spans": [span]}]}]}
    r = requests.post(f"{uri}/v1/traces", json=body, headers={"x-mlflow-experiment-id": "0"}, timeout=60)
    assert r.status_code == 200, r.text


def _trace(name: str, foreign_first: str | None = None) -> str:
    with tracekit.start_span(name, span_type="CHAIN", inputs={"q": 1}) as root:
        with tracekit.start_span("llm", span_type="CHAT_MODEL"):
            pass
        if foreign_first:
            _foreign_span_first(foreign_first, root)
        root.set_outputs(2)
    assert root.trace_id is not None
    return root.trace_id


def _in(gateway: Gateway, experiment_id: str) -> list[str]:
    return [str(i["trace_id"]) for i in rest.search_trace_infos(gateway.uri, experiment_id)]


@pytest.mark.parametrize("context_sent", [False, True], ids=["kept-inside", "traceparent-sent"])
def test_which_traces_get_a_record(gateway: Gateway, records_proxy: FaultProxy, context_sent: bool) -> None:
    """A trace whose context never left the process needs no record (its root's batch
    files and names it); one that sent a ``traceparent`` gets exactly one."""
    experiment = f"tk-records-{context_sent}"
    tracekit.set_tracking_uri(records_proxy.uri)
    tracekit.set_experiment(experiment)
    with tracekit.start_span("plain", span_type="CHAIN") as root:
        if context_sent:
            assert root.traceparent is not None
    assert tracekit.flush(timeout=60).delivered == 1
    paths = [p for _, p, _ in records_proxy.seen if p.startswith(RECORDS)]
    assert paths == ([RECORDS] if context_sent else [])
    exp_id = rest.experiment_id(gateway.uri, experiment)
    assert exp_id is not None and _in(gateway, exp_id) == [root.trace_id]
    [info] = rest.search_trace_infos(gateway.uri, exp_id)
    assert info["tags"]["mlflow.traceName"] == "plain"


def test_refused_records_wait_in_the_outbox_and_follow(
    gateway: Gateway, records_proxy: FaultProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACEKIT_EXPORT_RETRY_BUDGET", "0.5")
    experiment = "tk-records-retry"
    tracekit.set_tracking_uri(records_proxy.uri)
    tracekit.set_experiment(experiment)
    records_proxy.plan.extend([("status", 503, {})] * 6)
    trace_id = _trace("retried", foreign_first=gateway.uri)
    assert trace_id in _in(gateway, "0")  # filed in Default by the "gateway"
    result = tracekit.flush(timeout=60)
    assert (result.pending, result.dropped) == (0, 0)
    for _ in range(20):  # what the budget did not cover waits in the outbox: resend it
        if not records_proxy.plan:
            break
        tracekit.flush(timeout=30)
    tracekit.flush(timeout=30)
    outcomes = records_proxy.outcomes(RECORDS)
    assert outcomes.count("status") == 6 and outcomes[-1] == "pass"
    exp_id = rest.experiment_id(gateway.uri, experiment)
    assert exp_id is not None
    [info] = rest.search_trace_infos(gateway.uri, exp_id)
    assert (info["trace_id"], info["tags"]["mlflow.traceName"], info["state"]) == (trace_id, "retried", "OK")
    assert trace_id not in _in(gateway, "0")
    trace = rest.get_trace(gateway.uri, trace_id)
    assert trace is not None and sorted(s.name for s in trace.spans) == ["gateway/elsewhere", "llm", "retried"]


def test_a_rejected_record_costs_no_span(gateway: Gateway, records_proxy: FaultProxy) -> None:
    tracekit.set_tracking_uri(records_proxy.uri)
    tracekit.set_experiment("tk-records-rejected")
    records_proxy.plan.append(("status", 400, {}))
    trace_id = _trace("rejected", foreign_first=gateway.uri)
    assert tracekit.flush(timeout=60).delivered == 2
    assert records_proxy.outcomes(RECORDS) == ["status"]
    # the spans are there (where the server filed the trace), the record is set aside
    trace = rest.get_trace(gateway.uri, trace_id)
    assert trace is not None and len(trace.spans) == 3
    assert trace_id in _in(gateway, "0")


def _filed(gateway: Gateway, experiment: str) -> list[dict[str, object]]:
    exp_id = rest.experiment_id(gateway.uri, experiment)
    assert exp_id is not None
    return rest.search_trace_infos(gateway.uri, exp_id)


def test_a_fragment_alone_files_and_names_the_trace(gateway: Gateway) -> None:
    """A server-side fragment whose caller exports nowhere: the trace is complete and named."""
    experiment = "tk-fragment-alone"
    tracekit.set_tracking_uri(gateway.uri)
    tracekit.set_experiment(experiment)
    caller = {"traceparent": "00-5bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}
    with tracekit.start_span("handle /chat", span_type="CHAIN", parent=caller):
        pass
    assert tracekit.flush(timeout=60).pending == 0
    [info] = _filed(gateway, experiment)
    assert info["trace_id"] == "tr-5bf92f3577b34da6a3ce929d0e0e4736"
    assert (info["state"], info["tags"]["mlflow.traceName"]) == ("OK", "handle /chat")  # type: ignore[index]


def test_a_late_fragment_leaves_the_callers_record_alone(gateway: Gateway) -> None:
    """The caller's trace is filed first; a fragment arriving later (another process's slow
    export) joins it without renaming it or changing its state and timing."""
    experiment = "tk-fragment-late"
    tracekit.set_tracking_uri(gateway.uri)
    tracekit.set_experiment(experiment)
    with tracekit.start_span("caller", span_type="CHAIN") as root, tracekit.start_span("llm", span_type="CHAT_MODEL") as llm:
        traceparent = llm.traceparent
    assert tracekit.flush(timeout=60).pending == 0
    [before] = _filed(gateway, experiment)
    with tracekit.start_span("proxy handler", span_type="CHAIN", parent=traceparent):
        pass
    assert tracekit.flush(timeout=60).pending == 0
    [after] = _filed(gateway, experiment)
    assert after["trace_id"] == root.trace_id
    assert after["tags"]["mlflow.traceName"] == "caller"  # type: ignore[index]
    assert (after["state"], after["request_time"]) == (before["state"], before["request_time"])
    # (the server itself stretches the duration over a span that ends later: mlflow 3.17.2's
    # log_spans keeps a finalized trace's times only for batches that carry usage or cost)
    trace = rest.get_trace(gateway.uri, str(root.trace_id))
    assert trace is not None and sorted(s.name for s in trace.spans) == ["caller", "llm", "proxy handler"]
