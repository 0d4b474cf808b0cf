"""Experiments: a race to create the same one, an unknown id, and a basic-auth server."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pytest

import tracekit

from . import rest
from .conftest import cli, run_script, simple_trace
from .mlflow_server import MlflowServer

pytestmark = pytest.mark.mlflow

RACER = """
import json, os, time
import tracekit
from tracekit._export.mlflow import MlflowExporter
exporter = MlflowExporter(os.environ["URI"], os.environ["NAME"])
while time.time() < float(os.environ["AT"]):
    pass
experiment = exporter.experiment()
with tracekit.start_span("racer", span_type="CHAIN"):
    pass
print(json.dumps({"experiment": experiment, "result": tracekit.flush(timeout=30).__dict__}))
"""


def test_two_processes_create_the_same_experiment_at_once(mlflow_server: MlflowServer, experiment: str, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    at = time.time() + 4.0
    base = {k: v for k, v in os.environ.items() if not k.startswith(("TRACEKIT_", "MLFLOW_", "OTEL_"))}
    procs = []
    for n in range(2):
        env = {
            **base,
            "URI": mlflow_server.uri,
            "NAME": experiment,
            "AT": str(at),
            "TRACEKIT_HOME": str(tmp_path / f"h{n}"),
            "MLFLOW_TRACKING_URI": mlflow_server.uri,
            "MLFLOW_EXPERIMENT_NAME": experiment,
        }
        procs.append(
            subprocess.Popen([sys.executable, "-c", RACER], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        )
    outputs = [p.communicate(timeout=90) for p in procs]
    reports = [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs]
    exp_id = rest.experiment_id(mlflow_server.uri, experiment)
    assert [r["experiment"] for r in reports] == [exp_id, exp_id]
    assert [r["result"]["delivered"] for r in reports] == [1, 1]
    assert len(rest.search_trace_infos(mlflow_server.uri, exp_id or "")) == 2


def test_an_unknown_experiment_id_is_a_clear_error(
    mlflow_server: MlflowServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("MLFLOW_EXPERIMENT_ID", "987654")
    tracekit.set_tracking_uri(mlflow_server.uri)
    with caplog.at_level(logging.ERROR, logger="tracekit"):
        simple_trace()
        result = tracekit.flush(timeout=30)
    assert (result.delivered, result.failed) == (0, 2)
    [message] = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert "experiment id 987654 does not exist" in message and "set aside" in message


def test_an_experiment_by_id(mlflow_server: MlflowServer, experiment: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import requests

    created = requests.post(f"{mlflow_server.uri}/api/2.0/mlflow/experiments/create", json={"name": experiment}, timeout=30)
    exp_id = created.json()["experiment_id"]
    monkeypatch.setenv("MLFLOW_EXPERIMENT_ID", exp_id)
    tracekit.set_tracking_uri(mlflow_server.uri)
    trace_id = simple_trace()
    assert tracekit.flush(timeout=30).delivered == 2
    assert [t["trace_id"] for t in rest.search_trace_infos(mlflow_server.uri, exp_id)] == [trace_id]


def test_basic_auth_server(auth_server: MlflowServer, experiment: str, tmp_path: Path) -> None:
    base_env = {
        "TRACEKIT_HOME": str(tmp_path),
        "MLFLOW_TRACKING_URI": auth_server.uri,
        "MLFLOW_EXPERIMENT_NAME": experiment,
        "TRACEKIT_EXIT_TIMEOUT": "2",
        "TRACEKIT_EXPORT_RETRY_BUDGET": "1",
    }
    script = """
        import tracekit
        with tracekit.start_span("authed", span_type="CHAIN"):
            pass
        print(tracekit.flush(timeout=20))
    """
    # wrong password: 401, a clear error, and the spans are kept for a resend
    wrong = run_script(script, {**base_env, "MLFLOW_TRACKING_USERNAME": "admin", "MLFLOW_TRACKING_PASSWORD": "nope"})
    assert wrong.returncode == 0, wrong.stderr
    assert "refused the credentials" in wrong.stderr and "401" in wrong.stderr
    status = json.loads(cli("status", "--json", env=base_env).stdout)
    assert status["destinations"][0]["waiting"]["spans"] == 1
    # right credentials: delivered, and `tracekit sync` resends the kept one
    good = {**base_env, "MLFLOW_TRACKING_USERNAME": auth_server.admin[0], "MLFLOW_TRACKING_PASSWORD": auth_server.admin[1]}
    right = run_script(script, good)
    assert right.returncode == 0 and "delivered=1" in right.stdout, right.stderr
    assert cli("sync", env=good).returncode == 0
    exp_id = rest.experiment_id(auth_server.uri, experiment, auth=auth_server.admin)
    assert exp_id is not None
    assert len(rest.search_trace_infos(auth_server.uri, exp_id, auth=auth_server.admin)) == 2
