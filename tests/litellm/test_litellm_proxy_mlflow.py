"""Both sides into one MLflow experiment: the app's trace (CHAIN -> client LLM span) and the
proxy's span under the client's LLM span, read back over MLflow's REST API; usage and cost
counted once at trace level."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import requests
from openai import OpenAI

import tracekit
from tests.export import rest
from tests.export.mlflow_server import MlflowServer
from tracekit._model import Trace

from .proxy import MASTER_KEY, LiteLLMProxy


def _wait_trace(base: str, trace_id: str, n_spans: int, timeout: float = 90.0) -> Trace:
    deadline = time.monotonic() + timeout
    while True:
        trace = rest.get_trace(base, trace_id)
        if trace is not None and len(trace.spans) >= n_spans and trace.info.status != "IN_PROGRESS":
            return trace
        if time.monotonic() > deadline:
            raise AssertionError(f"trace {trace_id} incomplete after {timeout} s: {trace}")
        time.sleep(0.5)


def _metadata(base: str, trace_id: str) -> dict[str, Any]:
    r = requests.get(f"{base}/api/3.0/mlflow/traces/get", params={"trace_id": trace_id, "allow_partial": "true"}, timeout=30)
    r.raise_for_status()
    metadata: dict[str, Any] = r.json()["trace"]["trace_info"].get("trace_metadata") or {}
    return metadata


def test_one_trace_from_the_app_through_the_proxy(mlflow_proxy: LiteLLMProxy, litellm_mlflow_server: MlflowServer) -> None:
    base = litellm_mlflow_server.uri
    tracekit.set_tracking_uri(base)
    tracekit.set_experiment(mlflow_proxy.experiment)  # type: ignore[attr-defined]
    client = OpenAI(base_url=f"{mlflow_proxy.base_url}/v1", api_key=MASTER_KEY, max_retries=0)

    with tracekit.start_span("answer", span_type="CHAIN", inputs={"q": "hi"}) as chain:
        # the client's LLM span, as tracekit's OpenAI autolog records it: usage on it
        with tracekit.start_span("chat gpt-4o-mini", span_type="CHAT_MODEL") as llm:
            raw = client.chat.completions.with_raw_response.create(
                model="gpt-4o-mini",
                messages=[{"role": "user", "content": f"both sides {uuid.uuid4().hex[:8]}"}],
                extra_headers={"traceparent": llm.traceparent or ""},
            )
            completion = raw.parse()
            assert completion.usage is not None
            usage = {
                "input_tokens": completion.usage.prompt_tokens,
                "output_tokens": completion.usage.completion_tokens,
                "total_tokens": completion.usage.total_tokens,
            }
            llm.set_attributes({"mlflow.chat.tokenUsage": usage, "mlflow.llm.model": "gpt-4o-mini"})
        chain.set_outputs("done")
    assert tracekit.flush(timeout=30).ok
    assert chain.trace_id is not None

    trace = _wait_trace(base, chain.trace_id, 3)
    spans = {s.name: s for s in trace.spans}
    assert sorted(spans) == ["answer", "chat gpt-4o-mini", "litellm chat gpt-4o-mini"]
    root, client_span, proxy_span = spans["answer"], spans["chat gpt-4o-mini"], spans["litellm chat gpt-4o-mini"]
    assert root.parent_id is None
    assert client_span.parent_id == root.span_id
    assert proxy_span.parent_id == client_span.span_id == llm.span_id
    assert (trace.info.status, proxy_span.status, proxy_span.span_type) == ("OK", "OK", "CHAT_MODEL")
    assert proxy_span.attributes["tracekit.litellm.call_id"] == raw.headers["x-litellm-call-id"]
    assert proxy_span.attributes["tracekit.litellm.model_group"] == "gpt-4o-mini"
    assert proxy_span.attributes["gen_ai.response.model"] == "gpt-4o-mini"
    proxy_cost = proxy_span.attributes["mlflow.llm.cost"]
    proxy_cost = json.loads(proxy_cost) if isinstance(proxy_cost, str) else proxy_cost
    assert proxy_cost["total_cost"] == float(raw.headers["x-litellm-response-cost"])
    proxy_usage = proxy_span.attributes["mlflow.chat.tokenUsage"]
    assert (json.loads(proxy_usage) if isinstance(proxy_usage, str) else proxy_usage) == usage

    # measured on MLflow 3.17.2: the trace's usage and cost skip spans whose ancestor
    # carries them, so the proxy's span under the client's does not double them
    metadata = _metadata(base, chain.trace_id)
    assert json.loads(metadata["mlflow.trace.tokenUsage"]) == usage
    trace_cost = json.loads(metadata["mlflow.trace.cost"])
    client_cost = json.loads(client_span.attributes["mlflow.llm.cost"])  # priced by the server from model + usage
    assert trace_cost["total_cost"] == client_cost["total_cost"]


def test_a_request_without_traceparent_is_its_own_trace(mlflow_proxy: LiteLLMProxy, litellm_mlflow_server: MlflowServer) -> None:
    base = litellm_mlflow_server.uri
    client = OpenAI(base_url=f"{mlflow_proxy.base_url}/v1", api_key=MASTER_KEY, max_retries=0)
    raw = client.chat.completions.with_raw_response.create(
        model="claude-haiku",
        messages=[{"role": "user", "content": f"alone {uuid.uuid4().hex[:8]}"}],
        max_tokens=32,
        user="end-user-9",
        extra_body={"metadata": {"session_id": "conv-9"}},
    )
    call_id = raw.headers["x-litellm-call-id"]
    exp_id = None
    deadline = time.monotonic() + 90
    found: Trace | None = None
    while found is None and time.monotonic() < deadline:
        exp_id = exp_id or rest.experiment_id(base, mlflow_proxy.experiment)  # type: ignore[attr-defined]
        for info in rest.search_trace_infos(base, exp_id) if exp_id else []:
            trace = rest.get_trace(base, info["trace_id"])
            if trace and any(s.attributes.get("tracekit.litellm.call_id") == call_id for s in trace.spans):
                found = trace
        time.sleep(0.5)
    assert found is not None, "the proxy's trace never reached MLflow"
    (span,) = found.spans
    assert (span.name, span.parent_id, span.status, found.info.status) == ("litellm chat claude-haiku", None, "OK", "OK")
    assert (found.info.session_id, found.info.user_id) == ("conv-9", "end-user-9")
    assert span.attributes["mlflow.llm.provider"] == "anthropic"
    assert json.loads(_metadata(base, found.info.trace_id)["mlflow.trace.cost"])["total_cost"] == float(
        raw.headers["x-litellm-response-cost"]
    )
