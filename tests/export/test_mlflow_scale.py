"""10,000 traces from 8 threads: all arrive exactly once, and memory stays flat while
the server is down (measured with tracemalloc in a fresh process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from . import rest
from .mlflow_server import MlflowServer
from .proxy import FaultProxy

pytestmark = pytest.mark.mlflow

APP = """
import json, os, sys, threading, time, tracemalloc
from pathlib import Path
import tracekit
work = Path(os.environ["WORK"])
tracemalloc.start()
def burst(start, count):
    def worker(offset):
        for n in range(offset, count, 8):
            with tracekit.start_span("t", span_type="CHAIN", inputs={"n": start + n, "pad": "x" * 200}):
                pass
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads: t.start()
    for t in threads: t.join()
samples = []
for round_ in range(10):  # 10 x 1,000 traces while the server is down
    burst(round_ * 1000, 1000)
    samples.append(tracemalloc.get_traced_memory()[0])
print(json.dumps({"samples": samples, "peak": tracemalloc.get_traced_memory()[1]}), flush=True)
while not (work / "up").exists():
    time.sleep(0.1)
deadline = time.monotonic() + 240
while time.monotonic() < deadline:
    result = tracekit.flush(timeout=10)
    if result.delivered == 10000:
        break
print(json.dumps(result.__dict__), flush=True)
"""


@pytest.mark.timeout(400)
def test_ten_thousand_traces_from_eight_threads(
    mlflow_server: MlflowServer, proxy: FaultProxy, experiment: str, tmp_path: Path
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRACEKIT_", "MLFLOW_", "OTEL_"))}
    env.update(
        WORK=str(work),
        TRACEKIT_HOME=str(tmp_path / "home"),
        MLFLOW_TRACKING_URI=proxy.uri,
        MLFLOW_EXPERIMENT_NAME=experiment,
        TRACEKIT_EXPORT_RETRY_BUDGET="1",
        TRACEKIT_MAX_QUEUE_SIZE="2048",
    )
    proxy.mode = "down"
    app = subprocess.Popen([sys.executable, "-c", APP], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert app.stdout is not None
        memory = json.loads(app.stdout.readline())
        samples = memory["samples"]
        # flat: bounded by the queue (+ one overflow copy), not by the count: no upward trend
        half = len(samples) // 2
        assert sum(samples[half:]) / half < sum(samples[:half]) / half + 5_000_000, samples
        assert max(samples) < 40_000_000 and memory["peak"] < 60_000_000, memory
        proxy.mode = "up"
        (work / "up").touch()
        result = json.loads(app.stdout.readline())
        app.wait(timeout=60)
        assert (result["delivered"], result["dropped"], result["failed"], result["pending"]) == (10000, 0, 0, 0), (
            result,
            app.stderr.read()[-3000:] if app.stderr else "",
        )
    finally:
        if app.poll() is None:
            app.kill()
    exp_id = rest.experiment_id(mlflow_server.uri, experiment)
    assert exp_id is not None
    time.monotonic() + 30
    infos = rest.search_trace_infos(mlflow_server.uri, exp_id)
    ids = [t["trace_id"] for t in infos]
    assert len(ids) == len(set(ids)) == 10000
