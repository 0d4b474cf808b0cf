"""``tracekit status --check`` against a real MLflow server (up, down, wrong experiment)
and a real OTLP receiver; every failure is one line on stderr and exit code 1."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import requests

from tracekit._export._outbox import Outbox

from . import rest
from .conftest import cli
from .mlflow_server import MlflowServer
from .otlp_receiver import OtlpReceiver


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when the block ends: nothing listens


def one_error_line(stderr: str) -> str:
    assert stderr.count("\n") == 1, stderr
    assert "internal error" not in stderr
    return stderr.strip()


def mlflow_version(server: MlflowServer) -> str:
    return requests.get(f"{server.uri}/version", timeout=10).text.strip()


def test_up_with_a_new_experiment_name_says_it_will_be_created(
    mlflow_server: MlflowServer, experiment: str, tmp_path: Path
) -> None:
    env = {"TRACEKIT_HOME": str(tmp_path), "MLFLOW_TRACKING_URI": mlflow_server.uri, "MLFLOW_EXPERIMENT_NAME": experiment}
    proc = cli("status", "--check", env=env)
    assert (proc.returncode, proc.stderr) == (0, ""), proc.stderr
    where = f"MLflow {mlflow_version(mlflow_server)} at {mlflow_server.uri}"
    assert f"check:        ok: {where}; experiment {experiment!r} does not exist yet: the first export will create it\n" in (
        proc.stdout
    )
    assert rest.experiment_id(mlflow_server.uri, experiment) is None  # the check created nothing

    created = requests.post(
        f"{mlflow_server.uri}/api/2.0/mlflow/experiments/create", json={"name": experiment}, timeout=10
    ).json()["experiment_id"]
    proc = cli("status", "--check", "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["check"] == [
        {"target": "mlflow", "ok": True, "message": f"{where}, experiment {experiment!r} (id {created})"}
    ]


def test_wrong_experiment_id_fails(mlflow_server: MlflowServer, tmp_path: Path) -> None:
    env = {"TRACEKIT_HOME": str(tmp_path), "MLFLOW_TRACKING_URI": mlflow_server.uri, "MLFLOW_EXPERIMENT_ID": "987654321"}
    proc = cli("status", "--check", env=env)
    assert proc.returncode == 1
    where = f"MLflow {mlflow_version(mlflow_server)} at {mlflow_server.uri}"
    assert one_error_line(proc.stderr) == (
        f"tracekit: error: status --check: {where}: experiment id 987654321 does not exist"
        " (MLFLOW_EXPERIMENT_ID / experiment_id)"
    )
    assert "check:        FAILED: " in proc.stdout


def test_deleted_experiment_fails(mlflow_server: MlflowServer, experiment: str, tmp_path: Path) -> None:
    api = f"{mlflow_server.uri}/api/2.0/mlflow/experiments"
    exp_id = requests.post(f"{api}/create", json={"name": experiment}, timeout=10).json()["experiment_id"]
    requests.post(f"{api}/delete", json={"experiment_id": exp_id}, timeout=10).raise_for_status()
    env = {"TRACEKIT_HOME": str(tmp_path), "MLFLOW_TRACKING_URI": mlflow_server.uri, "MLFLOW_EXPERIMENT_NAME": experiment}
    proc = cli("status", "--check", env=env)
    assert proc.returncode == 1
    assert one_error_line(proc.stderr).endswith(f"experiment {experiment!r} is deleted; restore it or pick another name")


def test_server_down_fails_and_keeps_the_last_run_counts(tmp_path: Path) -> None:
    uri = f"http://127.0.0.1:{closed_port()}"
    box = Outbox(tmp_path / "outbox", {"kind": "mlflow", "uri": uri, "experiment_name": "x"})
    assert box.put(b"spans", spans=3)
    box.write_status(last_run={"delivered": 7, "spilled": 3, "failed": 0, "dropped": 0, "ended": 1.0})
    env = {"TRACEKIT_HOME": str(tmp_path), "MLFLOW_TRACKING_URI": uri, "MLFLOW_EXPERIMENT_NAME": "x"}
    proc = cli("status", "--check", env=env)
    assert proc.returncode == 1
    assert one_error_line(proc.stderr) == (
        f"tracekit: error: status --check: cannot reach the MLflow server at {uri}:"
        " ConnectionError: [Errno 111] Connection refused"
    )
    assert "last run: delivered 7, spilled 3, failed 0, dropped 0" in proc.stdout
    status = json.loads(cli("status", "--json", env=env).stdout)  # the check changed nothing
    assert status["destinations"][0]["last_run"]["delivered"] == 7
    assert status["destinations"][0]["waiting"]["spans"] == 3


def test_not_an_mlflow_server(tmp_path: Path) -> None:
    receiver = OtlpReceiver()  # answers POST only: GET /health is a 501
    try:
        env = {"TRACEKIT_HOME": str(tmp_path), "MLFLOW_TRACKING_URI": receiver.endpoint}
        proc = cli("status", "--check", env=env)
    finally:
        receiver.close()
    assert proc.returncode == 1
    line = one_error_line(proc.stderr)
    assert line.startswith(f"tracekit: error: status --check: {receiver.endpoint}/health answered HTTP 501")
    assert line.endswith("is this an MLflow server?")


def test_otlp_endpoint_up_and_down(tmp_path: Path) -> None:
    receiver = OtlpReceiver()
    base = {"TRACEKIT_HOME": str(tmp_path), "TRACEKIT_TRACKING_URI": f"sqlite:///{tmp_path / 'traces.db'}"}
    try:
        env = {**base, "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint}
        proc = cli("status", "--check", env=env)
        assert (proc.returncode, proc.stderr) == (0, ""), proc.stderr
        assert f"check:        ok: OTLP endpoint {receiver.endpoint}/v1/traces accepted an empty export\n" in proc.stdout
        assert len(receiver.requests) == 1 and receiver.spans() == []  # one empty request, no spans
    finally:
        receiver.close()
    endpoint = f"http://127.0.0.1:{closed_port()}/v1/traces"
    proc = cli("status", "--check", env={**base, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": endpoint})
    assert proc.returncode == 1
    assert one_error_line(proc.stderr) == (
        f"tracekit: error: status --check: cannot reach the OTLP endpoint {endpoint}:"
        " ConnectionError: [Errno 111] Connection refused"
    )
