"""A process that exits right after its last call: its traces arrive now, or on the
next `tracekit sync` when the server was down."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from . import rest
from .conftest import cli, run_script
from .mlflow_server import MlflowServer
from .proxy import FaultProxy

pytestmark = pytest.mark.mlflow

LAST_CALL = """
import tracekit
for n in range(30):
    with tracekit.start_span("last-call", span_type="CHAIN", inputs={"n": n}):
        pass
# no flush: the exit hook must deliver or keep them
"""


def test_exit_right_after_the_last_call_delivers(mlflow_server: MlflowServer, experiment: str, tmp_path: Path) -> None:
    env = {"TRACEKIT_HOME": str(tmp_path), "MLFLOW_TRACKING_URI": mlflow_server.uri, "MLFLOW_EXPERIMENT_NAME": experiment}
    proc = run_script(LAST_CALL, env)
    assert proc.returncode == 0, proc.stderr
    exp_id = rest.experiment_id(mlflow_server.uri, experiment)
    assert exp_id is not None
    if len(rest.search_trace_infos(mlflow_server.uri, exp_id)) < 30:
        # a cold server can be slower than exit_timeout: then the exit hook said where they wait
        assert "wait in the outbox" in proc.stderr, proc.stderr
        assert cli("sync", env=env).returncode == 0
    assert len(rest.search_trace_infos(mlflow_server.uri, exp_id)) == 30, proc.stderr


def test_exit_with_the_server_down_keeps_them_for_sync(
    mlflow_server: MlflowServer, proxy: FaultProxy, experiment: str, tmp_path: Path
) -> None:
    env = {
        "TRACEKIT_HOME": str(tmp_path),
        "MLFLOW_TRACKING_URI": proxy.uri,
        "MLFLOW_EXPERIMENT_NAME": experiment,
        "TRACEKIT_EXIT_TIMEOUT": "1",
    }
    proxy.mode = "down"
    proc = run_script(LAST_CALL, env)
    assert proc.returncode == 0, proc.stderr
    assert "30 span(s) could not be delivered yet and wait in the outbox" in proc.stderr

    status = cli("status", "--json", env=env)
    assert status.returncode == 0, status.stderr
    [waiting] = json.loads(status.stdout)["destinations"]
    assert waiting["waiting"]["spans"] == 30 and waiting["last_errors"]
    assert waiting["last_run"]["spilled"] == 30
    text = cli("status", env=env).stdout
    assert "waiting:  30 span(s)" in text and "tracekit sync" in text

    proxy.mode = "up"
    sync = cli("sync", env=env)
    assert sync.returncode == 0, sync.stderr
    assert "sent 30 span(s)" in sync.stdout
    exp_id = rest.experiment_id(mlflow_server.uri, experiment)
    assert exp_id is not None
    assert len(rest.search_trace_infos(mlflow_server.uri, exp_id)) == 30
    assert cli("sync", env=env).stdout.strip() in ("", "outbox is empty") or "sent 0 span(s)" in cli("sync", env=env).stdout


def test_a_later_process_resends_the_outbox(
    mlflow_server: MlflowServer, proxy: FaultProxy, experiment: str, tmp_path: Path
) -> None:
    env = {
        "TRACEKIT_HOME": str(tmp_path),
        "MLFLOW_TRACKING_URI": proxy.uri,
        "MLFLOW_EXPERIMENT_NAME": experiment,
        "TRACEKIT_EXIT_TIMEOUT": "1",
    }
    proxy.mode = "down"
    assert run_script(LAST_CALL, env).returncode == 0
    proxy.mode = "up"
    later = run_script(
        """
        import tracekit
        with tracekit.start_span("later", span_type="CHAIN"):
            pass
        print(tracekit.flush(timeout=20))
        """,
        env,
    )
    assert later.returncode == 0, later.stderr
    exp_id = rest.experiment_id(mlflow_server.uri, experiment)
    assert exp_id is not None
    assert len(rest.search_trace_infos(mlflow_server.uri, exp_id)) == 31
