"""`tracekit export --to`: upload the local store; twice uploads nothing twice."""

from __future__ import annotations

from pathlib import Path

import pytest

from . import rest
from .conftest import cli, run_script
from .mlflow_server import MlflowServer

pytestmark = pytest.mark.mlflow


def test_export_uploads_each_trace_once(mlflow_server: MlflowServer, experiment: str, tmp_path: Path) -> None:
    env = {"TRACEKIT_HOME": str(tmp_path)}
    make = f"""
        import sys
        sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})
        import tracekit
        from tests.export.llm_spans import nested_trace
        for _ in range(N):
            nested_trace()
        print(tracekit.flush(timeout=10))
    """
    assert run_script(make.replace("N", "3"), env).returncode == 0
    first = cli("export", "--to", mlflow_server.uri, "--experiment", experiment, env=env)
    assert first.returncode == 0, first.stderr
    assert "uploaded 3 trace(s) (18 span(s))" in first.stdout
    again = cli("export", "--to", mlflow_server.uri, "--experiment", experiment, env=env)
    assert "uploaded 0 trace(s)" in again.stdout
    assert run_script(make.replace("N", "1"), env).returncode == 0
    third = cli("export", "--to", mlflow_server.uri, "--experiment", experiment, "--since", "1h", env=env)
    assert "uploaded 1 trace(s) (6 span(s))" in third.stdout, third.stderr
    exp_id = rest.experiment_id(mlflow_server.uri, experiment)
    infos = rest.search_trace_infos(mlflow_server.uri, exp_id or "")
    assert len(infos) == 4 and all(t["state"] == "OK" for t in infos)
    trace = rest.get_trace(mlflow_server.uri, infos[0]["trace_id"])
    assert trace is not None and len(trace.spans) == 6
    assert trace.info.token_usage == {"input_tokens": 60, "output_tokens": 16, "total_tokens": 76}
    assert trace.info.name == "weather-agent"


def test_export_to_a_server_that_is_down_says_so(tmp_path: Path) -> None:
    env = {"TRACEKIT_HOME": str(tmp_path)}
    assert run_script("import tracekit\nwith tracekit.start_span('x'): pass\n", env).returncode == 0
    proc = cli("export", "--to", "http://127.0.0.1:9", env={**env, "TRACEKIT_EXPORT_RETRY_BUDGET": "0"})
    assert proc.returncode == 1 and "failed after 0 trace(s): cannot reach http://127.0.0.1:9" in proc.stderr


def test_traces_export_writes_otlp_json_an_mlflow_server_accepts(
    mlflow_server: MlflowServer, experiment: str, tmp_path: Path
) -> None:
    """`tracekit traces export ID -o FILE`: the file is a real OTLP/JSON body (hex ids,
    camelCase): posted as it is to the server's /v1/traces, the trace appears whole."""
    import json

    import requests

    env = {"TRACEKIT_HOME": str(tmp_path)}
    make = f"""
        import sys
        sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})
        import tracekit
        from tests.export.llm_spans import nested_trace
        nested_trace()
        tracekit.flush(timeout=10)
        print(tracekit.get_last_trace_id())
    """
    made = run_script(make, env)
    assert made.returncode == 0, made.stderr
    trace_id = made.stdout.strip().splitlines()[-1]
    out = tmp_path / "bug-report.json"
    done = cli("traces", "export", trace_id[:12], "-o", str(out), env=env)
    assert done.returncode == 0, done.stderr
    assert f"wrote {trace_id} (6 spans)" in done.stderr
    body = json.loads(out.read_text())
    spans = [s for rs in body["resourceSpans"] for ss in rs["scopeSpans"] for s in ss["spans"]]
    assert len(spans) == 6 and all(len(s["traceId"]) == 32 and len(s["spanId"]) == 16 for s in spans)
    assert {s["traceId"] for s in spans} == {trace_id[3:]}
    created = requests.post(f"{mlflow_server.uri}/api/2.0/mlflow/experiments/create", json={"name": experiment}, timeout=30)
    exp_id = created.json()["experiment_id"]
    posted = requests.post(
        f"{mlflow_server.uri}/v1/traces",
        data=out.read_bytes(),
        headers={"Content-Type": "application/json", "x-mlflow-experiment-id": exp_id},
        timeout=60,
    )
    assert posted.status_code == 200, posted.text
    trace = rest.get_trace(mlflow_server.uri, trace_id)
    assert trace is not None and sorted(s.name for s in trace.spans) == sorted(s["name"] for s in spans)
