"""tracekit exporting to a real MLflow tracking server (OTLP ``/v1/traces``, batched
in the background). bench/run.py starts the server and passes its URI in
``BENCH_MLFLOW_URI``."""

from __future__ import annotations

import json
import os
import urllib.request
from typing import Any

import tracekit_local
from tracekit_local import PARENT, available, disable, enable, flush, parent  # noqa: F401

VENV = ".venv"
PROVIDERS = ("openai", "anthropic", "gemini")
PACKAGES = ("tracekit", "mlflow server")
NEEDS_MLFLOW_SERVER = True
EXPERIMENT = ["tracekit-bench"]  # one experiment per subprocess (see setup)


def configure() -> None:
    import tracekit

    tracekit.configure(tracking_uri=os.environ["BENCH_MLFLOW_URI"], experiment_name=EXPERIMENT[0])


def setup(provider: str, workdir: str) -> None:
    EXPERIMENT[0] = "tracekit-bench-" + os.path.basename(workdir)
    configure()
    tracekit_local.setup(provider, workdir)


def proof() -> dict[str, Any]:
    import tracekit

    result = tracekit.flush(timeout=300)
    flushed = {k: getattr(result, k) for k in ("delivered", "pending", "dropped", "failed", "spilled")}
    found = server_proof(os.environ["BENCH_MLFLOW_URI"], EXPERIMENT[0])
    return {**found, "spans": result.delivered, "traces": found["traces_on_server"], "flush": flushed}


def server_proof(uri: str, experiment: str) -> dict[str, Any]:
    """Read back from the server: the number of traces in the experiment, and the
    content of the newest trace's LLM span."""
    from _apps import has_text, has_usage

    def call(path: str, body: dict[str, Any] | None = None) -> Any:
        req = urllib.request.Request(
            uri + path,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=60) as r:
            return json.loads(r.read())

    exp = call(f"/api/2.0/mlflow/experiments/get-by-name?experiment_name={experiment}")["experiment"]["experiment_id"]
    loc = [{"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": exp}}]
    traces, token, newest = 0, None, None
    while True:
        body: dict[str, Any] = {"locations": loc, "max_results": 500}
        if token:
            body["page_token"] = token
        page = call("/api/3.0/mlflow/traces/search", body)
        infos = page.get("traces") or page.get("trace_infos") or []
        if newest is None and infos:
            newest = infos[0]["trace_id"]
        traces += len(infos)
        token = page.get("next_page_token")
        if not token:
            break
    text_ok = usage_ok = False
    spans = 0
    if newest:
        got = call(f"/api/3.0/mlflow/traces/get?trace_id={newest}&allow_partial=true")
        for span in got["trace"].get("spans", []) if "trace" in got else []:
            spans += 1
            attrs = {}
            for kv in span.get("attributes", []):
                val = _otlp_value(kv.get("value", {}))
                if isinstance(val, str) and val[:1] == '"':
                    # MLflow's own spans keep JSON-encoded values: decode once more
                    try:
                        decoded = json.loads(val)
                    except ValueError:
                        decoded = val
                    val = decoded if isinstance(decoded, str) else json.dumps(decoded)
                elif isinstance(val, (dict, list)):
                    val = json.dumps(val, separators=(",", ":"))
                attrs[kv.get("key", "")] = val
            text_ok = text_ok or has_text(attrs)
            usage_ok = usage_ok or has_usage(attrs)
    return {"traces_on_server": traces, "text_ok": text_ok, "usage_ok": usage_ok, "spans_in_newest": spans}


def _otlp_value(value: dict[str, Any]) -> Any:
    """An OTLP ``AnyValue`` in MLflow's JSON (``{"string_value": ...}``, ``kvlist_value``
    for the JSON objects it parsed, ...) as plain Python."""
    if not value:
        return None
    kind, inner = next(iter(value.items()))
    if kind == "int_value":
        return int(inner)
    if kind == "kvlist_value":
        return {kv.get("key", ""): _otlp_value(kv.get("value", {})) for kv in inner.get("values", [])}
    if kind == "array_value":
        return [_otlp_value(v) for v in inner.get("values", [])]
    return inner
