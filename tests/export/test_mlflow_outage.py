"""A real server that is down when the app starts, then killed mid-run and restarted:
every trace arrives, exactly once."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from . import rest
from .mlflow_server import MlflowServer

pytestmark = pytest.mark.mlflow

APP = """
import json, os, time, tracekit
from pathlib import Path
work = Path(os.environ["WORK"])
ids = []
while not (work / "stop").exists():
    with tracekit.start_span("tick", span_type="CHAIN", inputs={"n": len(ids)}) as root:
        with tracekit.start_span("llm", span_type="CHAT_MODEL"):
            pass
    ids.append(root.trace_id)
    time.sleep(0.05)
deadline = time.monotonic() + 120
while time.monotonic() < deadline:
    result = tracekit.flush(timeout=5)
    if result.delivered == 2 * len(ids):
        break
    time.sleep(0.5)
print(json.dumps({"ids": ids, "result": result.__dict__}))
"""


@pytest.mark.timeout(400)
def test_down_at_start_then_killed_and_restarted(tmp_path: Path) -> None:
    from .conftest import _need_mlflow

    _need_mlflow()
    server = MlflowServer(tmp_path / "server")
    work = tmp_path / "work"
    work.mkdir()
    env = {
        "WORK": str(work),
        "TRACEKIT_HOME": str(tmp_path / "home"),
        "MLFLOW_TRACKING_URI": server.uri,
        "MLFLOW_EXPERIMENT_NAME": "outage",
        "TRACEKIT_EXPORT_RETRY_BUDGET": "2",
    }
    import subprocess
    import sys

    script = f"import sys; sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})\n" + APP
    base = {k: v for k, v in __import__("os").environ.items() if not k.startswith(("TRACEKIT_", "MLFLOW_", "OTEL_"))}
    app = subprocess.Popen(
        [sys.executable, "-c", script], env={**base, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        time.sleep(1.0)  # the app runs with no server at all
        server.start()
        server.wait_healthy()
        time.sleep(3.0)  # traces flow
        server.stop(kill=True)  # SIGKILL mid-run
        time.sleep(2.0)
        server.start()
        server.wait_healthy()
        time.sleep(2.0)
        (work / "stop").touch()
        out, err = app.communicate(timeout=180)
        assert app.returncode == 0, err
        report = json.loads(out.strip().splitlines()[-1])
        ids = report["ids"]
        assert len(ids) > 50
        assert report["result"]["delivered"] == 2 * len(ids), (report["result"], err[-2000:])
        exp_id = rest.experiment_id(server.uri, "outage")
        assert exp_id is not None
        infos = rest.search_trace_infos(server.uri, exp_id)
        arrived = [t["trace_id"] for t in infos]
        assert len(arrived) == len(set(arrived)) == len(ids)  # exactly once
        assert set(arrived) == set(ids)
        assert all(t["state"] == "OK" for t in infos)
        assert "is not taking spans" in err and "reachable again" in err
    finally:
        if app.poll() is None:
            app.kill()
        server.stop()
