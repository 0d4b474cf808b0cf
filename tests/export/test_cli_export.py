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
