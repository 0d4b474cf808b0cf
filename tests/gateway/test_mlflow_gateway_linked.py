"""One trace per call, end to end: the app's CHAIN span -> the SDK's LLM span (tracekit)
-> ``gateway/<endpoint>`` -> the provider span (MLflow AI Gateway, from ``traceparent``),
read back over REST from the user's experiment -- for the openai, anthropic and
google-genai SDKs, streamed and not, through a real ``mlflow server`` and its gateway in
front of the fake LLM server.

The gateway's server runs with ``MLFLOW_ENABLE_ASYNC_TRACE_LOGGING=false``, so its spans
reach the server *before* the client's batch (they create the trace in the Default
experiment): tracekit's ``StartTraceV3`` must move the trace into the user's experiment.
``test_client_spans_first`` covers the other order.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import anthropic
import openai
import pytest
import requests
from export import rest
from google import genai
from google.genai import types

import tracekit
from tracekit._model import Trace
from tracekit._propagation import format_traceparent, note_context_sent
from tracekit.testing import SpanCapture

from .conftest import Gateway
from .linking import http_client, sent_traceparents

pytestmark = pytest.mark.mlflow

QUESTION = "Which museum should I see in Paris?"
MESSAGES = [{"role": "user", "content": QUESTION}]


def _openai(base: str, model: str, stream: bool) -> str:
    client = openai.OpenAI(base_url=base, api_key="unused-by-the-gateway", max_retries=0, http_client=http_client())
    if not stream:
        reply = client.chat.completions.create(model=model, messages=MESSAGES)  # type: ignore[arg-type]
        return reply.choices[0].message.content or ""
    chunks = client.chat.completions.create(
        model=model,
        messages=MESSAGES,  # type: ignore[arg-type]
        stream=True,
        stream_options={"include_usage": True},
    )
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


def call_openai(gw: Gateway, stream: bool) -> str:
    return _openai(gw.uri + "/gateway/openai/v1", gw.openai.name, stream)


def call_mlflow_unified(gw: Gateway, stream: bool) -> str:
    return _openai(gw.uri + "/gateway/mlflow/v1", gw.openai.name, stream)


def call_anthropic(gw: Gateway, stream: bool) -> str:
    client = anthropic.Anthropic(
        base_url=gw.uri + "/gateway/anthropic", api_key="unused", max_retries=0, http_client=http_client()
    )
    if not stream:
        reply = client.messages.create(model=gw.anthropic.name, max_tokens=200, messages=MESSAGES)  # type: ignore[arg-type]
        return "".join(b.text for b in reply.content if b.type == "text")
    with client.messages.stream(model=gw.anthropic.name, max_tokens=200, messages=MESSAGES) as s:  # type: ignore[arg-type]
        return "".join(s.text_stream)


def call_gemini(gw: Gateway, stream: bool) -> str:
    # the gateway's /gemini route speaks v1beta only (google-genai defaults to v1)
    options = types.HttpOptions(base_url=gw.uri + "/gateway/gemini", api_version="v1beta", httpx_client=http_client())
    client = genai.Client(api_key="unused", http_options=options)
    if not stream:
        return client.models.generate_content(model=gw.gemini.name, contents=QUESTION).text or ""
    return "".join(c.text or "" for c in client.models.generate_content_stream(model=gw.gemini.name, contents=QUESTION))


CALLS: dict[str, tuple[Callable[[Gateway, bool], str], str]] = {
    "openai": (call_openai, "openai"),
    "mlflow-unified": (call_mlflow_unified, "openai"),
    "anthropic": (call_anthropic, "anthropic"),
    "gemini": (call_gemini, "gemini"),
}


def _usage(span: Any) -> dict[str, int] | None:
    raw = span.attributes.get("mlflow.chat.tokenUsage")
    usage = json.loads(raw) if isinstance(raw, str) else raw
    if usage is None:
        return None
    return {k: int(usage[k]) for k in ("input_tokens", "output_tokens", "total_tokens")}


def _cost(span: Any) -> float | None:
    raw = span.attributes.get("mlflow.llm.cost")
    cost = json.loads(raw) if isinstance(raw, str) else raw
    return float(cost["total_cost"]) if isinstance(cost, dict) and "total_cost" in cost else None


def read_back(gw: Gateway, experiment: str, trace_id: str) -> tuple[str, dict[str, Any], Trace]:
    """(experiment id, the trace's info from the experiment's search, the trace with spans)."""
    exp_id = rest.experiment_id(gw.uri, experiment)
    assert exp_id is not None
    infos = rest.search_trace_infos(gw.uri, exp_id)
    assert [i["trace_id"] for i in infos] == [trace_id], "the user's experiment must show exactly this one trace"
    trace = rest.get_trace(gw.uri, trace_id)
    assert trace is not None
    return exp_id, infos[0], trace


def assert_linked(gw: Gateway, experiment: str, trace_id: str, endpoint: str, provider: str) -> None:
    exp_id, info, trace = read_back(gw, experiment, trace_id)
    assert info["trace_location"]["mlflow_experiment"]["experiment_id"] == exp_id
    assert info["state"] == "OK"
    assert info["tags"]["mlflow.traceName"] == "agent"
    assert QUESTION in info["request_preview"]

    spans = {s.name: s for s in trace.spans}
    [llm_name] = [n for n, s in spans.items() if s.span_type in ("CHAT_MODEL", "LLM") and s.parent_id == spans["agent"].span_id]
    gateway_name = f"gateway/{endpoint}"
    [provider_name] = [n for n in spans if n.startswith("provider/")]
    assert len(spans) == 4, sorted(spans)
    agent, llm, gw_span, prov = spans["agent"], spans[llm_name], spans[gateway_name], spans[provider_name]
    assert (agent.parent_id, agent.span_type) == (None, "CHAIN")
    assert llm.span_type == "CHAT_MODEL"
    assert (gw_span.parent_id, gw_span.span_type) == (llm.span_id, "LLM")
    assert (prov.parent_id, prov.span_type) == (gw_span.span_id, "LLM")
    assert all(s.status == "OK" for s in trace.spans)
    assert str(gw_span.attributes["mlflow.gateway.linkedTraceId"]).startswith("tr-")
    # usage: recorded by the client on its LLM span and repeated by the gateway's provider
    # span; the trace total counts it once
    client_usage = _usage(llm)
    assert client_usage is not None and client_usage["total_tokens"] > 0
    # mlflow 3.17.2's databricks provider (our Gemini route) records no usage on its span
    assert _usage(prov) == (None if provider == "databricks" else client_usage)
    trace_usage = json.loads(info["trace_metadata"]["mlflow.trace.tokenUsage"])
    assert {k: trace_usage[k] for k in client_usage} == client_usage
    # cost (the server prices known models itself): the trace total is one call's cost
    costs = [c for c in (_cost(llm), _cost(prov)) if c is not None]
    assert costs or provider != "openai", "gpt-4o-mini is priced by the server"
    if costs:
        trace_cost = json.loads(info["trace_metadata"]["mlflow.trace.cost"])
        assert trace_cost["total_cost"] == pytest.approx(costs[0])
        assert all(c == pytest.approx(costs[0]) for c in costs)
    # the Default experiment does not keep a copy
    assert trace_id not in [i["trace_id"] for i in rest.search_trace_infos(gw.uri, "0")]


CASES = [(sdk, stream) for sdk in CALLS for stream in (False, True) if (sdk, stream) != ("gemini", True)]


@pytest.mark.parametrize(("sdk", "stream"), CASES, ids=[f"{sdk}-{'stream' if st else 'json'}" for sdk, st in CASES])
def test_one_linked_trace_per_call(gateway: Gateway, user_experiment: str, sdk: str, stream: bool) -> None:
    call, endpoint_kind = CALLS[sdk]
    endpoint = {"openai": gateway.openai, "anthropic": gateway.anthropic, "gemini": gateway.gemini}[endpoint_kind]
    before = len(gateway.fake.requests)
    with tracekit.start_span("agent", span_type="CHAIN", inputs={"question": QUESTION}) as root:
        answer = call(gateway, stream)
        root.set_outputs(answer)
    assert answer
    assert root.trace_id is not None
    assert tracekit.flush(timeout=60).pending == 0
    # some gateway routes forward the caller's traceparent upstream (mlflow 3.17.2: /openai/v1
    # does, /mlflow/v1 does not); what they forward is the client's trace
    for traceparent in sent_traceparents(gateway.fake.requests[before:]):
        assert traceparent.split("-")[1] == root.trace_id[3:]
    assert_linked(gateway, user_experiment, root.trace_id, endpoint.name, endpoint.provider)


def test_client_spans_first(gateway: Gateway, user_experiment: str, captured: SpanCapture) -> None:
    """The client's trace is delivered and filed first; the gateway's spans come later."""
    plain = openai.OpenAI(base_url=gateway.uri + "/gateway/openai/v1", api_key="unused", max_retries=0)
    tracekit.configure(propagate_context=False)  # this call carries no header: the gateway hears of it below
    with tracekit.start_span("agent", span_type="CHAIN", inputs={"question": QUESTION}) as root:
        reply = plain.chat.completions.create(model=gateway.openai.name, messages=MESSAGES)  # type: ignore[arg-type]
        root.set_outputs(reply.choices[0].message.content)
        # the header the client would have sent, made by hand, and the mark a call through a
        # gateway leaves on its trace when it sends one (tracekit._llm._settle)
        [llm] = [s for s in captured.spans if s.span_type == "CHAT_MODEL"]
        trace_number = int(root.trace_id[3:], 16)  # type: ignore[index]
        traceparent = format_traceparent(trace_number, int(llm.span_id, 16))  # type: ignore[arg-type]
        note_context_sent(trace_number)
    assert tracekit.flush(timeout=60).pending == 0
    assert root.trace_id is not None
    exp_id = rest.experiment_id(gateway.uri, user_experiment)
    assert exp_id is not None
    [info] = rest.search_trace_infos(gateway.uri, exp_id)
    assert info["tags"]["mlflow.traceName"] == "agent"
    # now the gateway hears of the trace: the same request, naming the client's LLM span
    r = requests.post(
        gateway.uri + "/gateway/openai/v1/chat/completions",
        json={"model": gateway.openai.name, "messages": MESSAGES},
        headers={"traceparent": traceparent},
        timeout=60,
    )
    assert r.status_code == 200, r.text
    assert_linked(gateway, user_experiment, root.trace_id, gateway.openai.name, "openai")


def test_gemini_stream_through_the_databricks_provider(gateway: Gateway, user_experiment: str) -> None:
    """Measured on mlflow 3.17.2: the databricks provider calls upstream
    ``.../serving-endpoints/gemini/v1beta/models/<model>:streamGenerateContent`` without
    ``alt=sse`` and relays the JSON-array answer as ``text/event-stream``; google-genai's
    SSE reader finds no event in it, so the app's stream is empty (no error). The trace is
    still one linked trace in the user's experiment."""
    with tracekit.start_span("agent", span_type="CHAIN", inputs={"question": QUESTION}) as root:
        answer = call_gemini(gateway, True)
        root.set_outputs(answer)
    assert answer == ""
    assert tracekit.flush(timeout=60).pending == 0
    assert root.trace_id is not None
    [path] = [r.path for r in gateway.fake.requests if r.path.endswith(":streamGenerateContent")][-1:]
    assert path.startswith("/serving-endpoints/gemini/v1beta/models/")
    _, info, trace = read_back(gateway, user_experiment, root.trace_id)
    assert info["tags"]["mlflow.traceName"] == "agent"
    names = sorted(s.name for s in trace.spans)
    assert names[0] == "agent" and f"gateway/{gateway.gemini.name}" in names and len(names) == 4
